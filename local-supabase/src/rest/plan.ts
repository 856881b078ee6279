// Turns a parsed request into a plan: what to read or change, checked against the schema cache,
// as data. Nothing here writes SQL; ./render turns a plan's action into one statement (as
// PostgREST's src/library/PostgREST/Plan.hs builds plans that Query/QueryBuilder.hs renders).
import { ERRORS } from './errors';
import type { Condition, OrderTerm, QueryParams, SelectItem } from './parse';
import { EXPOSED_SCHEMA, type Column, type FunctionArg, type Relation, type RestFunction } from './schema';

/** PostgREST's db-max-rows as Supabase configures it: unbounded reads stop at 1000 rows. */
export const MAX_ROWS = 1000;

export interface QualifiedName {
  schema: string;
  name: string;
}

/** Rows read from a table or a function's result: filtered, ordered, one page of them. */
export interface Page {
  select: SelectItem[];
  where: Condition[];
  order: OrderTerm[];
  limit: number;
  offset: number;
  /** Whether the total of matching rows is counted too (Prefer: count=…). */
  count: boolean;
}

/** The rows a write hands back (Prefer: return=representation), with their JSON keys in order. */
export interface Returning {
  select: SelectItem[];
  keys: string[];
}

/** How a function receives its arguments: all from one JSON object, by name, or the whole body as its one json parameter. */
export type CallArgs = { kind: 'named'; args: FunctionArg[]; json: string } | { kind: 'body'; type: string; json: string };

export type Action =
  | { kind: 'read'; table: QualifiedName; page: Page }
  | { kind: 'call'; fn: QualifiedName; args: CallArgs; returns: RestFunction['returns']; page: Page }
  | {
      kind: 'insert';
      table: QualifiedName;
      columns: Column[];
      /** The body as a JSON array of objects, sent as is so numbers keep their precision. */
      rows: string;
      /** A key absent from an object takes the column default (Prefer: missing=default). */
      missingDefault: boolean;
      /** An upsert: the conflict target, and the columns to overwrite (none: ignore duplicates). */
      onConflict?: { target: string[]; update: string[] };
      returning?: Returning;
    }
  | { kind: 'update'; table: QualifiedName; columns: Column[]; row: string; where: Condition[]; returning?: Returning }
  | { kind: 'delete'; table: QualifiedName; where: Condition[]; returning?: Returning };

export interface Plan {
  action: Action;
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

const exposed = (name: string): QualifiedName => ({ schema: EXPOSED_SCHEMA, name });

/** Refuses a name the relation does not have; PostgREST leaves that to Postgres, which answers 42703 in these words. */
function checkColumn(relation: Relation, name: string): void {
  if (!relation.columns.has(name)) throw ERRORS.undefinedColumn(relation.name, name);
}

function checkConditions(relation: Relation, conditions: Condition[]): void {
  for (const c of conditions) {
    if (c.kind === 'group') checkConditions(relation, c.items);
    else checkColumn(relation, c.column);
  }
}

function checkSelect(relation: Relation, select: SelectItem[]): void {
  for (const item of select) if (item.column !== '*') checkColumn(relation, item.column);
}

function page(query: QueryParams, prefs: Preferences): Page {
  return {
    select: query.select,
    where: query.where,
    order: query.order,
    limit: Math.min(query.limit ?? MAX_ROWS, MAX_ROWS),
    offset: query.offset ?? 0,
    count: prefs.count,
  };
}

export function planRead(relation: Relation, query: QueryParams, prefs: Preferences): Plan {
  checkConditions(relation, query.where);
  checkSelect(relation, query.select);
  for (const term of query.order) checkColumn(relation, term.column);
  const read = page(query, prefs);
  return { action: { kind: 'read', table: exposed(relation.name), page: read }, readOnly: true, offset: read.offset, result: 'rows' };
}

/** A column named by a body key or `columns=`. */
function bodyColumn(relation: Relation, name: string): Column {
  const column = relation.columns.get(name);
  if (!column) throw ERRORS.columnNotFound(relation.name, name);
  return column;
}

/** The rows to hand back when the caller asked for them; returning nothing spares the SELECT policies. */
function returning(relation: Relation, query: QueryParams, prefs: Preferences): Returning | undefined {
  if (!prefs.representation) return undefined;
  checkSelect(relation, query.select);
  const keys = query.select.flatMap((item) => (item.column === '*' ? [...relation.columns.keys()] : [item.alias ?? item.column]));
  return { select: query.select, keys };
}

const write = (action: Action): Plan => ({ action, readOnly: false, offset: 0, result: 'rows' });

/**
 * Insert (and upsert) of one object or an array of objects. `bodyText` is the validated JSON text
 * of `body`: it goes to Postgres as is, so numbers keep their full precision.
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
  let onConflict: { target: string[]; update: string[] } | undefined;
  if (prefs.resolution) {
    const target = query.onConflict ?? relation.primaryKey;
    for (const name of target) bodyColumn(relation, name);
    onConflict = { target, update: prefs.resolution === 'merge-duplicates' ? columns.map((c) => c.name) : [] };
  }
  return write({
    kind: 'insert',
    table: exposed(relation.name),
    columns,
    rows: Array.isArray(body) ? bodyText : `[${bodyText}]`,
    missingDefault: prefs.missingDefault,
    onConflict,
    returning: returning(relation, query, prefs),
  });
}

/** Limited PATCH and DELETE are not in this subset: refuse rather than touch every matching row. */
function refusePaging(query: QueryParams): void {
  if (query.limit !== undefined || query.offset !== undefined) {
    throw ERRORS.unsupported('limit and offset are not supported on PATCH and DELETE by local-supabase');
  }
}

/** An empty body updates nothing: PostgREST answers as if no row matched. */
export function planUpdate(relation: Relation, query: QueryParams, prefs: Preferences, body: unknown, bodyText: string): Plan {
  refusePaging(query);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ERRORS.invalidBody();
  const columns = Object.keys(body).map((n) => bodyColumn(relation, n));
  const rows = returning(relation, query, prefs);
  if (columns.length) checkConditions(relation, query.where);
  return write({ kind: 'update', table: exposed(relation.name), columns, row: bodyText, where: query.where, returning: rows });
}

export function planDelete(relation: Relation, query: QueryParams, prefs: Preferences): Plan {
  refusePaging(query);
  const rows = returning(relation, query, prefs);
  checkConditions(relation, query.where);
  return write({ kind: 'delete', table: exposed(relation.name), where: query.where, returning: rows });
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

/** The one column a scalar or void result is read through. */
export const SCALAR_COLUMN = 'pgrst_scalar';

/**
 * A function call with the named arguments `args` (JSON text `argsText`, sent as is). GET calls and
 * STABLE/IMMUTABLE functions run read-only, so a write inside them fails with 25006 (405). Result
 * columns are not in the schema cache: Postgres itself rejects a wrong name (42703).
 */
export function planCall(fn: RestFunction, query: QueryParams, prefs: Preferences, args: object, argsText: string, viaGet: boolean): Plan {
  const callArgs: CallArgs = takesWholeBody(fn)
    ? { kind: 'body', type: fn.args[0].type, json: argsText }
    : { kind: 'named', args: fn.args.filter((a) => Object.hasOwn(args, a.name)), json: argsText };
  // A scalar result is a JSON array of the values themselves, not of {pgrst_scalar: value} objects.
  const read = page(fn.returns === 'composite' ? query : { ...query, select: [{ column: SCALAR_COLUMN }], where: [], order: [] }, prefs);
  return {
    action: { kind: 'call', fn: exposed(fn.name), args: callArgs, returns: fn.returns, page: read },
    readOnly: viaGet || !fn.volatile,
    offset: read.offset,
    result: fn.returns === 'void' ? 'void' : fn.returnsSet ? 'rows' : 'value',
  };
}
