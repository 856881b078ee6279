// Renders a plan's action as ONE SQL statement shaped like PostgREST's (PostgREST
// src/library/PostgREST/Query/QueryBuilder.hs): the rows come from a subquery or a data-modifying
// CTE, and the outer SELECT returns the page size, the optional total, the count of inserted rows
// (upserts) and the JSON body built by Postgres itself (json_agg), so bigint, numeric and
// timestamptz are rendered exactly as PostgREST renders them. Every value is a bound parameter and
// every identifier is quoted; the page's limit and offset are numbers the plan has checked.
import type { Statement } from '../batch';
import { ERRORS } from './errors';
import type { Condition, OrderTerm, SelectItem } from './parse';
import { type Action, type Page, type QualifiedName, type Returning, SCALAR_COLUMN } from './plan';
import type { Column, FunctionArg } from './schema';

export function ident(name: string): string {
  // Postgres rejects NUL anywhere in a statement with a protocol error; refuse it as bad syntax.
  if (name.includes('\0')) throw ERRORS.unsupported('identifiers may not contain NUL characters');
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal, for JSON keys that are catalog names. Doubling quotes is sufficient under standard_conforming_strings. */
export function literal(value: string): string {
  if (value.includes('\0')) throw ERRORS.unsupported('NUL bytes are not allowed in requests');
  return `'${value.replaceAll("'", "''")}'`;
}

/** Every statement reads or writes through this alias. */
const TARGET = 'pgrst_t';

class Params {
  readonly values: string[] = [];
  add(value: string): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** A text[] literal of `items`, every element quoted (PostgreSQL docs, arrays.html, "Array Value Input"). */
function arrayLiteral(items: string[]): string {
  return `{${items.map((item) => `"${item.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

const column = (name: string) => `${TARGET}.${ident(name)}`;
const qualified = (name: QualifiedName) => `${ident(name.schema)}.${ident(name.name)}`;

const COMPARISONS = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE' } as const;
const IS_SQL = { null: 'IS NULL', not_null: 'IS NOT NULL', true: 'IS TRUE', false: 'IS FALSE', unknown: 'IS UNKNOWN' } as const;

function conditionSql(c: Condition, params: Params): string {
  let sql: string;
  if (c.kind === 'group') {
    sql = `(${c.items.map((item) => conditionSql(item, params)).join(c.joiner === 'and' ? ' AND ' : ' OR ')})`;
  } else if (c.op === 'is') {
    sql = `${column(c.column)} ${IS_SQL[c.value]}`;
  } else if (c.op === 'in') {
    // An untyped array parameter takes the column's array type, like PostgREST's = ANY($n).
    sql = `${column(c.column)} = ANY(${params.add(arrayLiteral(c.value))})`;
  } else {
    sql = `${column(c.column)} ${COMPARISONS[c.op]} ${params.add(c.value)}`;
  }
  return c.negate ? `NOT (${sql})` : sql;
}

function whereSql(conditions: Condition[], params: Params): string {
  return conditions.length ? ` WHERE ${conditions.map((c) => conditionSql(c, params)).join(' AND ')}` : '';
}

function orderSql(order: OrderTerm[]): string {
  if (!order.length) return '';
  // NULLS FIRST/LAST only when asked for: an explicit one the index does not match would stop the
  // newest-page query from being an index scan on (room_id, id desc).
  const terms = order.map((t) => `${column(t.column)} ${t.descending ? 'DESC' : 'ASC'}${t.nulls ? ` NULLS ${t.nulls.toUpperCase()}` : ''}`);
  return ` ORDER BY ${terms.join(', ')}`;
}

function projectionSql(select: SelectItem[]): string {
  return select
    .map((item) =>
      item.column === '*'
        ? `${TARGET}.*`
        : `${column(item.column)}${item.cast ? `::${item.cast}` : ''} AS ${ident(item.alias ?? item.column)}`,
    )
    .join(', ');
}

/**
 * A page of rows from `from` (aliased pgrst_t), optionally after a CTE `prefix`; `element` is what
 * json_agg collects from each row `t` of the page.
 */
function pageSql(from: string, prefix: string, page: Page, params: Params, element = 't'): string {
  const where = whereSql(page.where, params);
  const total = page.count ? `(SELECT count(*) FROM ${from}${where})` : 'NULL::bigint';
  const rows = `SELECT ${projectionSql(page.select)} FROM ${from}${where}${orderSql(page.order)} LIMIT ${page.limit} OFFSET ${page.offset}`;
  return `${prefix}SELECT count(t) AS page_total, ${total} AS total, NULL::bigint AS inserted, coalesce(json_agg(${element}), '[]')::text AS body FROM (${rows}) t`;
}

/** A record definition for json_to_record(set), from the catalog's types. */
function recordDefinition(columns: Array<Column | FunctionArg>): string {
  return columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
}

/**
 * The outer SELECT of a write. `statement` receives the RETURNING list: `1` unless the caller wants
 * the rows back, because returning columns also makes RLS apply the SELECT policies to them.
 */
function mutationSql(statement: (returning: string) => string, returning: Returning | undefined, upsert: boolean): string {
  const list = (returning ? projectionSql(returning.select) : '1') + (upsert ? `, (${TARGET}.xmax = 0) AS pgrst_inserted` : '');
  const body = returning
    ? `(SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT ${returning.keys.map(ident).join(', ')} FROM pgrst_source) t)`
    : 'NULL::text';
  const inserted = upsert ? `count(*) FILTER (WHERE pgrst_inserted)` : 'NULL::bigint';
  return `WITH pgrst_source AS (${statement(list)}) SELECT count(*) AS page_total, NULL::bigint AS total, ${inserted} AS inserted, ${body} AS body FROM pgrst_source`;
}

function actionSql(action: Action, params: Params): string {
  switch (action.kind) {
    case 'read':
      return pageSql(`${qualified(action.table)} ${TARGET}`, '', action.page, params);
    case 'call': {
      const name = qualified(action.fn);
      let call: string;
      let argsFrom = '';
      if (action.args.kind === 'body') {
        call = `${name}(${params.add(action.args.json)}::${action.args.type})`;
      } else {
        const given = action.args.args;
        if (given.length) argsFrom = `json_to_record(${params.add(action.args.json)}::json) AS pgrst_args(${recordDefinition(given)}), `;
        call = `${name}(${given.map((a) => `${ident(a.name)} := pgrst_args.${ident(a.name)}`).join(', ')})`;
      }
      // The call runs once, in a CTE; the page, the filters and the count all read its rows.
      const output =
        action.returns === 'composite'
          ? `${TARGET}.*`
          : action.returns === 'void'
            ? `NULL::json AS ${SCALAR_COLUMN}`
            : `${TARGET} AS ${SCALAR_COLUMN}`;
      const prefix = `WITH pgrst_source AS (SELECT ${output} FROM ${argsFrom}${call} ${TARGET}) `;
      return pageSql(`pgrst_source ${TARGET}`, prefix, action.page, params, action.returns === 'composite' ? 't' : `t.${SCALAR_COLUMN}`);
    }
    case 'insert': {
      const json = params.add(action.rows);
      const values = action.columns.map((c) => {
        const value = `pgrst_body.${ident(c.name)}`;
        // A key absent from this object (not one set to null) takes the column default.
        return action.missingDefault
          ? `CASE WHEN pgrst_row.obj -> ${literal(c.name)} IS NULL THEN ${c.default ?? 'NULL'} ELSE ${value} END`
          : value;
      });
      // json_to_recordset plans several times faster; missing=default needs each object to see its keys.
      const source = !action.columns.length
        ? `FROM json_array_elements(${json}::json) AS pgrst_row(obj)`
        : action.missingDefault
          ? `FROM json_array_elements(${json}::json) AS pgrst_row(obj), json_to_record(pgrst_row.obj) AS pgrst_body(${recordDefinition(action.columns)})`
          : `FROM json_to_recordset(${json}::json) AS pgrst_body(${recordDefinition(action.columns)})`;
      let conflict = '';
      if (action.onConflict) {
        const { target, update } = action.onConflict;
        const targetSql = target.length ? ` (${target.map(ident).join(', ')})` : '';
        conflict = update.length
          ? ` ON CONFLICT${targetSql} DO UPDATE SET ${update.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ')}`
          : ` ON CONFLICT${targetSql} DO NOTHING`;
      }
      // No keys at all ({} or [{}]): a row of defaults each, as PostgREST inserts them.
      const names = action.columns.length ? ` (${action.columns.map((c) => ident(c.name)).join(', ')})` : '';
      return mutationSql(
        (returning) =>
          `INSERT INTO ${qualified(action.table)} AS ${TARGET}${names} SELECT ${values.join(', ')} ${source}${conflict} RETURNING ${returning}`,
        action.returning,
        Boolean(action.onConflict),
      );
    }
    case 'update': {
      const table = `${qualified(action.table)} AS ${TARGET}`;
      if (!action.columns.length)
        return mutationSql((returning) => `SELECT ${returning} FROM ${table} WHERE false`, action.returning, false);
      return mutationSql(
        (returning) => {
          const json = params.add(action.row);
          const set = action.columns.map((c) => `${ident(c.name)} = pgrst_body.${ident(c.name)}`).join(', ');
          return `UPDATE ${table} SET ${set} FROM json_to_record(${json}::json) AS pgrst_body(${recordDefinition(action.columns)})${whereSql(action.where, params)} RETURNING ${returning}`;
        },
        action.returning,
        false,
      );
    }
    case 'delete':
      return mutationSql(
        (returning) => `DELETE FROM ${qualified(action.table)} AS ${TARGET}${whereSql(action.where, params)} RETURNING ${returning}`,
        action.returning,
        false,
      );
  }
}

/** One statement for the action; it returns one row: page_total, total (or null), inserted (or null), body (or null). */
export function render(action: Action): Statement {
  const params = new Params();
  const text = actionSql(action, params);
  return { text, values: params.values };
}
