// postgres_changes filters: `column=[not.]op.value`, several joined by `,` and ANDed, values
// quoted PostgREST-style by the client when they contain reserved characters.
import { splitTopLevel, unquote } from '../rest/parse';

export type FilterOperator = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';

export interface Filter {
  column: string;
  operator: FilterOperator;
  negate: boolean;
  /** One value, or the list of `in`. */
  values: string[];
}

export class FilterError extends Error {}

const OPERATORS = new Set<string>(['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in']);
const MAX_IN_VALUES = 100;

export function parseFilters(filter: string | undefined | null): Filter[] {
  if (filter === undefined || filter === null || filter === '') return [];
  // The same grammar as PostgREST filters: the same splitter and unquoting.
  const parts = splitTopLevel(filter);
  if (!parts) throw new FilterError(`Error parsing \`filter\` params: ${JSON.stringify(filter)}`);
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
      if (values.length > MAX_IN_VALUES) {
        throw new FilterError(`Error parsing \`filter\` params: too many values for in (max ${MAX_IN_VALUES})`);
      }
    }
    return { column, operator: operator as FilterOperator, negate: Boolean(not), values };
  });
}

const NUMERIC_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const BOOL_TYPE = 16;
const UUID_TYPE = 2950;

/** Orders two values of a column the way Postgres would for the types filters are used on. */
function compare(typeOid: number, text: string, value: string): number {
  if (NUMERIC_TYPES.has(typeOid)) return Number(text) - Number(value);
  if (typeOid === BOOL_TYPE) return Number(text === 't') - Number(/^(t|true|y|yes|on|1)$/i.test(value));
  // Postgres prints uuids in lower case; the database's C collation orders text by code point.
  const other = typeOid === UUID_TYPE ? value.toLowerCase() : value;
  return text < other ? -1 : text > other ? 1 : 0;
}

/** Whether a row (text values from the WAL) passes every filter; SQL semantics: null matches nothing. */
export function matchesFilters(filters: Filter[], row: Record<string, string | null>, typeOf: (column: string) => number): boolean {
  return filters.every((f) => {
    const text = row[f.column];
    if (text === null || text === undefined) return false;
    const order = (value: string) => compare(typeOf(f.column), text, value);
    let result: boolean;
    switch (f.operator) {
      case 'eq':
        result = order(f.values[0]) === 0;
        break;
      case 'neq':
        result = order(f.values[0]) !== 0;
        break;
      case 'lt':
        result = order(f.values[0]) < 0;
        break;
      case 'lte':
        result = order(f.values[0]) <= 0;
        break;
      case 'gt':
        result = order(f.values[0]) > 0;
        break;
      case 'gte':
        result = order(f.values[0]) >= 0;
        break;
      case 'in':
        result = f.values.some((v) => order(v) === 0);
        break;
    }
    return f.negate ? !result : result;
  });
}
