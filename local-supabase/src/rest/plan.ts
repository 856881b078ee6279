// Turns a parsed request into ONE SQL statement shaped like PostgREST's (PostgREST
// src/library/PostgREST/Query/QueryBuilder.hs): the rows
// come from a subquery or a data-modifying CTE, and the outer SELECT returns the page size, the
// optional total and the JSON body built by Postgres itself (json_agg), so bigint, numeric and
// timestamptz are rendered exactly as PostgREST renders them. Every value is a bound parameter and
// every identifier is quoted; only names found in the schema cache reach the SQL.
import { ERRORS } from './errors';
import type { Condition, OrderTerm, QueryParams, SelectItem } from './parse';
import { EXPOSED_SCHEMA, type Column, type Relation, type RestFunction } from './schema';

/** PostgREST's db-max-rows as Supabase configures it: unbounded reads stop at 1000 rows. */
const MAX_ROWS = 1000;

/** Columns every statement returns: page_total, total (or null), inserted (or null), body (or null). */
export interface Plan {
  sql: string;
  values: unknown[];
  readOnly: boolean;
  /** Where the page starts, for Content-Range. */
  offset: number;
  /** The body: an array of rows, the one value of a non-set function, or nothing (void). */
  result: 'rows' | 'value' | 'void';
}

export interface Preferences {
  representation: boolean;
  count: boolean;
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missingDefault: boolean;
}

export function ident(name: string): string {
  // Postgres rejects NUL anywhere in a statement with a protocol error; refuse it as bad syntax.
  if (name.includes('\0')) throw ERRORS.unsupported('identifiers may not contain NUL characters');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A string literal, for the few places without parameters: catalog names, and the settings sent
 * with BEGIN in one simple-protocol query to save a round trip. Doubling quotes is sufficient under
 * standard_conforming_strings; a NUL byte could not be sent at all.
 */
export function literal(value: string): string {
  if (value.includes('\0')) throw ERRORS.unsupported('NUL bytes are not allowed in requests');
  return `'${value.replaceAll("'", "''")}'`;
}

const TARGET = 'pgrst_t';

class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Resolves a request's column name to SQL, refusing names the relation does not have. */
type ColumnRef = (name: string) => string;

function columnsOf(relation: Relation): ColumnRef {
  return (name) => {
    if (!relation.columns.has(name)) {
      // PostgREST passes unknown columns to Postgres, which answers 42703 in these words.
      throw ERRORS.undefinedColumn(relation.name, name);
    }
    return `${TARGET}.${ident(name)}`;
  };
}

/** Function results have no cached columns: Postgres itself rejects a wrong name (42703). */
const anyColumn: ColumnRef = (name) => `${TARGET}.${ident(name)}`;

const COMPARISONS = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=', like: 'LIKE', ilike: 'ILIKE' } as const;
const IS_SQL = { null: 'IS NULL', not_null: 'IS NOT NULL', true: 'IS TRUE', false: 'IS FALSE', unknown: 'IS UNKNOWN' } as const;

function conditionSql(c: Condition, col: ColumnRef, params: Params): string {
  let sql: string;
  if (c.kind === 'group') {
    sql = `(${c.items.map((item) => conditionSql(item, col, params)).join(c.joiner === 'and' ? ' AND ' : ' OR ')})`;
  } else if (c.op === 'is') {
    sql = `${col(c.column)} ${IS_SQL[c.value]}`;
  } else if (c.op === 'in') {
    // An untyped array parameter takes the column's array type, like PostgREST's = ANY($n).
    sql = `${col(c.column)} = ANY(${params.add(c.value)})`;
  } else {
    sql = `${col(c.column)} ${COMPARISONS[c.op]} ${params.add(c.value)}`;
  }
  return c.negate ? `NOT (${sql})` : sql;
}

function whereSql(conditions: Condition[], col: ColumnRef, params: Params): string {
  return conditions.length ? ` WHERE ${conditions.map((c) => conditionSql(c, col, params)).join(' AND ')}` : '';
}

function orderSql(order: OrderTerm[], col: ColumnRef): string {
  if (!order.length) return '';
  // NULLS FIRST/LAST only when asked for: an explicit one the index does not match would stop the
  // newest-page query from being an index scan on (room_id, id desc).
  const terms = order.map((t) => `${col(t.column)} ${t.descending ? 'DESC' : 'ASC'}${t.nulls ? ` NULLS ${t.nulls.toUpperCase()}` : ''}`);
  return ` ORDER BY ${terms.join(', ')}`;
}

function projectionSql(select: SelectItem[], col: ColumnRef): string {
  return select
    .map((item) =>
      item.column === '*'
        ? `${TARGET}.*`
        : `${col(item.column)}${item.cast ? `::${item.cast}` : ''} AS ${ident(item.alias ?? item.column)}`,
    )
    .join(', ');
}

function pageSql(query: QueryParams): { sql: string; offset: number } {
  const offset = query.offset ?? 0;
  return { sql: ` LIMIT ${Math.min(query.limit ?? MAX_ROWS, MAX_ROWS)} OFFSET ${offset}`, offset };
}

/**
 * A read of rows from `from` (aliased pgrst_t), optionally after a CTE `prefix`; `element` is what
 * json_agg collects from each row `t` of the page.
 */
function readPlan(from: string, prefix: string, query: QueryParams, col: ColumnRef, prefs: Preferences, params: Params, element = 't') {
  const where = whereSql(query.where, col, params);
  const page = pageSql(query);
  const total = prefs.count ? `(SELECT count(*) FROM ${from}${where})` : 'NULL::bigint';
  const rows = `SELECT ${projectionSql(query.select, col)} FROM ${from}${where}${orderSql(query.order, col)}${page.sql}`;
  return {
    sql: `${prefix}SELECT count(t) AS page_total, ${total} AS total, NULL::bigint AS inserted, coalesce(json_agg(${element}), '[]')::text AS body FROM (${rows}) t`,
    offset: page.offset,
  };
}

function tableName(relation: Relation): string {
  return `${ident(EXPOSED_SCHEMA)}.${ident(relation.name)}`;
}

export function planRead(relation: Relation, query: QueryParams, prefs: Preferences): Plan {
  const params = new Params();
  const read = readPlan(`${tableName(relation)} ${TARGET}`, '', query, columnsOf(relation), prefs, params);
  return { ...read, values: params.values, readOnly: true, result: 'rows' };
}

/** The body of a write as rows, typed by a record definition built from the catalog's types. */
function recordDefinition(columns: Array<{ name: string; type: string }>): string {
  return columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
}

/** A column named by a body key or `columns=`. */
function bodyColumn(relation: Relation, name: string): Column {
  const column = relation.columns.get(name);
  if (!column) throw ERRORS.columnNotFound(relation.name, name);
  return column;
}

/**
 * The outer SELECT of a write. `statement` receives the RETURNING list: `1` unless the caller wants
 * the rows back, because returning columns also makes RLS apply the SELECT policies to them.
 */
function mutationPlan(
  relation: Relation,
  statement: (returning: string) => string,
  query: QueryParams,
  prefs: Preferences,
  params: Params,
  upsert: boolean,
): Plan {
  const col = columnsOf(relation);
  const returning =
    (prefs.representation ? projectionSql(query.select, col) : '1') + (upsert ? `, (${TARGET}.xmax = 0) AS pgrst_inserted` : '');
  const names = query.select.flatMap((item) => (item.column === '*' ? [...relation.columns.keys()] : [item.alias ?? item.column]));
  const body = prefs.representation
    ? `(SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT ${names.map(ident).join(', ')} FROM pgrst_source) t)`
    : 'NULL::text';
  const inserted = upsert ? `count(*) FILTER (WHERE pgrst_inserted)` : 'NULL::bigint';
  return {
    sql: `WITH pgrst_source AS (${statement(returning)}) SELECT count(*) AS page_total, NULL::bigint AS total, ${inserted} AS inserted, ${body} AS body FROM pgrst_source`,
    values: params.values,
    readOnly: false,
    offset: 0,
    result: 'rows',
  };
}

/**
 * Insert (and upsert) of one object or an array of objects. `bodyText` is the validated JSON text:
 * it goes to Postgres as is, so numbers keep their full precision.
 */
export function planInsert(relation: Relation, query: QueryParams, prefs: Preferences, body: unknown, bodyText: string): Plan {
  const rows = Array.isArray(body) ? body : [body];
  if (rows.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
    throw ERRORS.invalidBody();
  }
  let names = query.columns;
  if (!names) {
    names = Object.keys(rows[0] ?? {});
    const key = names.slice().sort().join('\u0000');
    if (
      rows.some(
        (r) =>
          Object.keys(r as object)
            .sort()
            .join('\u0000') !== key,
      )
    ) {
      throw ERRORS.invalidBody('All object keys must match');
    }
  }
  const columns = names.map((n) => bodyColumn(relation, n));
  const params = new Params();
  const json = params.add(Array.isArray(body) ? bodyText : `[${bodyText}]`);
  const values = columns.map((c) => {
    const value = `pgrst_body.${ident(c.name)}`;
    // A key absent from this object (not one set to null) takes the column default.
    return prefs.missingDefault
      ? `CASE WHEN pgrst_row.obj -> ${literal(c.name)} IS NULL THEN ${c.default ?? 'NULL'} ELSE ${value} END`
      : value;
  });
  // json_to_recordset plans several times faster; missing=default needs each object to see its keys.
  const source = !columns.length
    ? `FROM json_array_elements(${json}::json) AS pgrst_row(obj)`
    : prefs.missingDefault
      ? `FROM json_array_elements(${json}::json) AS pgrst_row(obj), json_to_record(pgrst_row.obj) AS pgrst_body(${recordDefinition(columns)})`
      : `FROM json_to_recordset(${json}::json) AS pgrst_body(${recordDefinition(columns)})`;
  let conflict = '';
  if (prefs.resolution) {
    const target = query.onConflict ?? relation.primaryKey;
    for (const name of target) if (!relation.columns.has(name)) throw ERRORS.columnNotFound(relation.name, name);
    const targetSql = target.length ? ` (${target.map(ident).join(', ')})` : '';
    const updates = columns.map((c) => `${ident(c.name)} = EXCLUDED.${ident(c.name)}`);
    conflict =
      prefs.resolution === 'merge-duplicates' && updates.length
        ? ` ON CONFLICT${targetSql} DO UPDATE SET ${updates.join(', ')}`
        : ` ON CONFLICT${targetSql} DO NOTHING`;
  }
  const statement = (returning: string) =>
    `INSERT INTO ${tableName(relation)} AS ${TARGET} (${columns.map((c) => ident(c.name)).join(', ')}) SELECT ${values.join(', ')} ${source}${conflict} RETURNING ${returning}`;
  return mutationPlan(relation, statement, query, prefs, params, Boolean(prefs.resolution));
}

/** Limited PATCH and DELETE are not in this subset: refuse rather than touch every matching row. */
function refusePaging(query: QueryParams): void {
  if (query.limit !== undefined || query.offset !== undefined) {
    throw ERRORS.unsupported('limit and offset are not supported on PATCH and DELETE by local-supabase');
  }
}

export function planUpdate(relation: Relation, query: QueryParams, prefs: Preferences, body: unknown, bodyText: string): Plan {
  refusePaging(query);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ERRORS.invalidBody();
  const columns = Object.keys(body).map((n) => bodyColumn(relation, n));
  const params = new Params();
  // An empty body updates nothing: PostgREST answers as if no row matched.
  const statement = columns.length
    ? (returning: string) => {
        const json = params.add(bodyText);
        const set = columns.map((c) => `${ident(c.name)} = pgrst_body.${ident(c.name)}`).join(', ');
        const where = whereSql(query.where, columnsOf(relation), params);
        return `UPDATE ${tableName(relation)} AS ${TARGET} SET ${set} FROM json_to_record(${json}::json) AS pgrst_body(${recordDefinition(columns)})${where} RETURNING ${returning}`;
      }
    : (returning: string) => `SELECT ${returning} FROM ${tableName(relation)} AS ${TARGET} WHERE false`;
  return mutationPlan(relation, statement, query, prefs, params, false);
}

export function planDelete(relation: Relation, query: QueryParams, prefs: Preferences): Plan {
  refusePaging(query);
  const params = new Params();
  const statement = (returning: string) =>
    `DELETE FROM ${tableName(relation)} AS ${TARGET}${whereSql(query.where, columnsOf(relation), params)} RETURNING ${returning}`;
  return mutationPlan(relation, statement, query, prefs, params, false);
}

/** A function with one unnamed json/jsonb parameter receives the whole request body. */
function takesWholeBody(fn: RestFunction): boolean {
  return fn.args.length === 1 && fn.args[0].name === '' && /^jsonb?$/.test(fn.args[0].type);
}

/** The overload whose argument names match the given keys (PostgREST calls functions by name). */
export function chooseFunction(name: string, candidates: RestFunction[], keys: string[], hasBody: boolean): RestFunction {
  const matches = candidates.filter((f) => {
    if (takesWholeBody(f)) return hasBody;
    const argNames = new Set(f.args.map((a) => a.name));
    return keys.every((k) => argNames.has(k)) && f.args.slice(0, f.required).every((a) => keys.includes(a.name));
  });
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw ERRORS.functionNotFound(EXPOSED_SCHEMA, name, keys.slice().sort(), hasBody);
  const described = matches.map((f) => `${EXPOSED_SCHEMA}.${f.name}(${f.args.map((a) => `${a.name} => ${a.type}`).join(', ')})`);
  throw ERRORS.ambiguousFunction(described);
}

/**
 * A function call with the named arguments `args` (JSON text `argsText`, sent as is). GET calls and
 * STABLE/IMMUTABLE functions run read-only, so a write inside them fails with 25006 (405).
 */
export function planCall(fn: RestFunction, query: QueryParams, prefs: Preferences, args: object, argsText: string, viaGet: boolean): Plan {
  const params = new Params();
  const name = `${ident(EXPOSED_SCHEMA)}.${ident(fn.name)}`;
  let call: string;
  let argsFrom = '';
  if (takesWholeBody(fn)) {
    call = `${name}(${params.add(argsText)}::${fn.args[0].type})`;
  } else {
    const given = fn.args.filter((a) => Object.hasOwn(args, a.name));
    if (given.length) argsFrom = `json_to_record(${params.add(argsText)}::json) AS pgrst_args(${recordDefinition(given)}), `;
    call = `${name}(${given.map((a) => `${ident(a.name)} := pgrst_args.${ident(a.name)}`).join(', ')})`;
  }
  // The call runs once, in a CTE; the page, the filters and the count all read its rows.
  const output =
    fn.returns === 'composite' ? `${TARGET}.*` : fn.returns === 'void' ? 'NULL::json AS pgrst_scalar' : `${TARGET} AS pgrst_scalar`;
  const prefix = `WITH pgrst_source AS (SELECT ${output} FROM ${argsFrom}${call} ${TARGET}) `;
  const from = `pgrst_source ${TARGET}`;
  // A scalar result is a JSON array of the values themselves, not of {pgrst_scalar: value} objects.
  const read =
    fn.returns === 'composite'
      ? readPlan(from, prefix, query, anyColumn, prefs, params)
      : readPlan(
          from,
          prefix,
          { ...query, select: [{ column: 'pgrst_scalar' }], where: [], order: [] },
          anyColumn,
          prefs,
          params,
          't.pgrst_scalar',
        );
  return {
    ...read,
    values: params.values,
    readOnly: viaGet || !fn.volatile,
    result: fn.returns === 'void' ? 'void' : fn.returnsSet ? 'rows' : 'value',
  };
}
