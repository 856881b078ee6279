// postgres_changes filters: `column=[not.]op.value`, several joined by `,` and ANDed, values
// quoted PostgREST-style by the client when they contain reserved characters. Ordering operators
// on numbers, text, booleans and uuids are decided here; Postgres decides the rest
// (local-supabase/sql/realtime.sql, local_realtime.check_filters).
import { splitTopLevel, unquote } from '../rest/parse';

export type FilterOperator =
  | 'eq'
  | 'neq'
  | 'lt'
  | 'lte'
  | 'gt'
  | 'gte'
  | 'in'
  | 'like'
  | 'ilike'
  | 'is'
  | 'match'
  | 'imatch'
  | 'isdistinct';

export interface Filter {
  column: string;
  operator: FilterOperator;
  negate: boolean;
  /** One value, or the list of `in`. */
  values: string[];
}

export class FilterError extends Error {}

/** Upstream's @filter_types (lib/extensions/postgres_cdc_rls/subscriptions.ex). */
const OPERATORS = new Set<string>(['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'like', 'ilike', 'is', 'match', 'imatch', 'isdistinct']);
/** The operators compareValues decides, for the types it orders exactly; Postgres decides the rest. */
const ORDERING = new Set<string>(['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in']);
/** Upstream's subscription_check_filters refuses an `in` filter with more values. */
export const MAX_IN_VALUES = 100;

export function parseFilters(filter: string | undefined | null): Filter[] {
  // Upstream trims the filter and each segment (subscriptions.ex parse_filter, parse_segment).
  const text = (filter ?? '').trim();
  if (text === '') return [];
  // The same grammar as PostgREST filters: the same splitter and unquoting.
  const parts = splitTopLevel(text)?.map((part) => part.trim());
  if (!parts) throw new FilterError(`Error parsing \`filter\` params: ${JSON.stringify(filter)}`);
  if (parts.includes('')) throw new FilterError('filter must not contain empty segments (check for extra commas)');
  return parts.map((part) => {
    const match = /^([^=]+)=(not\.)?([a-z]+)\.(.*)$/s.exec(part);
    if (!match || !OPERATORS.has(match[3])) {
      throw new FilterError(`Error parsing \`filter\` params: ${JSON.stringify(part)}`);
    }
    const [, column, not, operator, raw] = match;
    let values = [unquote(raw)];
    if (operator === 'in') {
      const list = /^\((.*)\)$/s.exec(raw);
      if (!list) throw new FilterError(`Error parsing \`filter\` params: ${JSON.stringify(part)}`);
      const items = splitTopLevel(list[1]);
      if (!items) throw new FilterError(`Error parsing \`filter\` params: ${JSON.stringify(part)}`);
      values = items.map(unquote);
    }
    return { column, operator: operator as FilterOperator, negate: Boolean(not), values };
  });
}

const INTEGER_TYPES = new Set([20, 21, 23, 26]); // int8, int2, int4, oid
const NUMERIC_TYPE = 1700;
const FLOAT_TYPES = new Set([700, 701]); // float4, float8
/** Types whose printed text orders exactly as their values: bool, text and varchar (the database's C collation), uuid. */
const TEXT_ORDERED_TYPES = new Set([16, 25, 1043, 2950]);

/** Whether compareValues orders this type exactly; Postgres orders every other (local_realtime.compare_as). */
export function ordersExactly(typeOid: number): boolean {
  return INTEGER_TYPES.has(typeOid) || typeOid === NUMERIC_TYPE || FLOAT_TYPES.has(typeOid) || TEXT_ORDERED_TYPES.has(typeOid);
}

function compareNumbers(a: number | bigint, b: number | bigint): number {
  return a === b ? 0 : a > b ? 1 : -1;
}

/** Orders two numeric texts as Postgres prints them (`-12.340`, `NaN`, `Infinity`), exactly. */
function compareNumeric(a: string, b: string): number {
  const rank = (text: string) => ({ NaN: 2, Infinity: 1, '-Infinity': -1 })[text] ?? 0;
  if (rank(a) !== 0 || rank(b) !== 0) return compareNumbers(rank(a), rank(b));
  const negative = a.startsWith('-');
  if (negative !== b.startsWith('-')) return negative ? -1 : 1;
  const [aWhole, aFraction = ''] = a.replace('-', '').split('.');
  const [bWhole, bFraction = ''] = b.replace('-', '').split('.');
  const width = Math.max(aFraction.length, bFraction.length);
  // Whole parts have no leading zeros: a longer one is larger; equal lengths order as digits do.
  const magnitude =
    aWhole.length - bWhole.length || compareText(aWhole + aFraction.padEnd(width, '0'), bWhole + bFraction.padEnd(width, '0'));
  return negative ? -magnitude : magnitude;
}

/** Postgres orders NaN above every other value, and equal to itself. */
function compareFloat(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return compareNumbers(Number(Number.isNaN(a)), Number(Number.isNaN(b)));
  return compareNumbers(a, b);
}

/** Code point order, which is byte order in UTF-8: the database's C collation. */
function compareText(a: string, b: string): number {
  return Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * Orders two values of a column the way Postgres would, for the types ordersExactly names. Both are
 * texts as the column type's output function prints them: the WAL's values, and filter values
 * cast to the column's type when the subscription was made (PostgresChanges.prepare). Numbers
 * compare by value, exactly; the others by that canonical text.
 */
export function compareValues(typeOid: number, a: string, b: string): number {
  if (INTEGER_TYPES.has(typeOid)) return compareNumbers(BigInt(a), BigInt(b));
  if (typeOid === NUMERIC_TYPE) return compareNumeric(a, b);
  if (FLOAT_TYPES.has(typeOid)) return compareFloat(Number(a), Number(b));
  return compareText(a, b);
}

/** Whether `operator` holds for the order of the row's value against each filter value. */
function holds(operator: FilterOperator, signs: number[]): boolean {
  switch (operator) {
    case 'eq':
      return signs[0] === 0;
    case 'neq':
      return signs[0] !== 0;
    case 'lt':
      return signs[0] < 0;
    case 'lte':
      return signs[0] <= 0;
    case 'gt':
      return signs[0] > 0;
    case 'gte':
      return signs[0] >= 0;
    default:
      return signs.includes(0);
  }
}

/**
 * Decides one filter for a row's value (null for SQL NULL); undefined when it cannot here. Either
 * way with upstream's realtime.check_equality_op semantics: NULL passes only `is` and `isdistinct`.
 */
export type Judge = (filter: Filter, typeOid: number, text: string | null) => boolean | undefined;

/** Whether Postgres must decide `filter` on a column of this type (local_realtime.check_filters). */
function needsPostgres(filter: Filter, typeOid: number): boolean {
  return !ORDERING.has(filter.operator) || !ordersExactly(typeOid);
}

/** What can be decided without Postgres: every NULL but `is`/`isdistinct`, and ordering of exact types. */
export const judgeHere: Judge = (filter, typeOid, text) => {
  if (text === null) return filter.operator === 'is' || filter.operator === 'isdistinct' ? undefined : false;
  if (needsPostgres(filter, typeOid)) return undefined;
  const result = holds(
    filter.operator,
    filter.values.map((value) => compareValues(typeOid, text, value)),
  );
  return filter.negate ? !result : result;
};

/**
 * Whether a row (text values from the WAL) passes every filter; a column missing from the row
 * fails, as upstream's is_visible_through_filters fails closed. A filter `judge` cannot decide
 * counts as passing (to be decided by Postgres before delivery).
 */
export function matchesFilters(
  filters: Filter[],
  row: Record<string, string | null>,
  typeOf: (column: string) => number,
  judge: Judge,
): boolean {
  return filters.every((f) => {
    const text = row[f.column];
    return text !== undefined && (judge(f, typeOf(f.column), text) ?? true);
  });
}
