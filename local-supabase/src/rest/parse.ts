// The URL grammar postgrest-js emits (PostgREST src/library/PostgREST/ApiRequest/QueryParams.hs),
// parsed into a small tree. Nothing here knows SQL or the schema: names are checked against the
// schema cache and quoted when SQL is built.
import { ERRORS } from './errors';

const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'is', 'in'] as const;
export type Operator = (typeof OPERATORS)[number];
const IS_VALUES = ['null', 'not_null', 'true', 'false', 'unknown'] as const;
export type IsValue = (typeof IS_VALUES)[number];

export interface SelectItem {
  /** A column name, or '*'. */
  column: string;
  alias?: string;
  cast?: string;
}

export type Condition =
  | { kind: 'filter'; column: string; negate: boolean; op: Exclude<Operator, 'is' | 'in'>; value: string }
  | { kind: 'filter'; column: string; negate: boolean; op: 'is'; value: IsValue }
  | { kind: 'filter'; column: string; negate: boolean; op: 'in'; value: string[] }
  | { kind: 'group'; negate: boolean; joiner: 'and' | 'or'; items: Condition[] };

export interface OrderTerm {
  column: string;
  descending: boolean;
  nulls?: 'first' | 'last';
}

export interface QueryParams {
  select: SelectItem[];
  where: Condition[];
  order: OrderTerm[];
  limit?: number;
  offset?: number;
  /** `columns=` of an insert or upsert. */
  columns?: string[];
  /** `on_conflict=` of an upsert. */
  onConflict?: string[];
  /** For RPC via GET: the parameters that name function arguments. */
  args: Record<string, string>;
}

const LOGIC_KEYS: Record<string, { negate: boolean; joiner: 'and' | 'or' }> = {
  or: { negate: false, joiner: 'or' },
  and: { negate: false, joiner: 'and' },
  'not.or': { negate: true, joiner: 'or' },
  'not.and': { negate: true, joiner: 'and' },
};
/** Query parameters that are never filters nor function arguments. */
export const RESERVED_PARAMS = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict', ...Object.keys(LOGIC_KEYS)]);

// A name is double-quoted (backslash escapes inside) or a run of characters that cannot start
// the next token; the grammar uses ':' for aliases and casts, '.' in order terms.
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"`;
const SELECT_ITEM = new RegExp(String.raw`^(?:(${QUOTED}|[^":]+):(?!:))?(${QUOTED}|[^":]+)(?:::([A-Za-z_][A-Za-z0-9_]*(?:\[\])?))?$`);
const ORDER_TERM = new RegExp(String.raw`^(${QUOTED}|[^".]+)(?:\.(asc|desc))?(?:\.(nullsfirst|nullslast))?$`);

/** A PostgREST value or name without its double quotes and backslash escapes. */
export function unquote(name: string): string {
  return name.startsWith('"') && name.endsWith('"') && name.length >= 2 ? name.slice(1, -1).replace(/\\(.)/g, '$1') : name;
}

/**
 * A name as PostgREST reads one: whitespace around it is dropped (pIdentifier strips it, and
 * `lexeme` skips it around quoted names), so `select=id, name` and `or=(a.eq.1, b.eq.2)` work.
 */
function nameOf(token: string): string {
  return unquote(token.trim());
}

/** The comma-separated parts of a list, each without the whitespace around it. */
function splitTrimmed(text: string): string[] | undefined {
  return splitTopLevel(text)?.map((part) => part.trim());
}

/** Splits on commas outside double quotes and parentheses; undefined when they do not balance. */
export function splitTopLevel(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return undefined;
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted || depth !== 0) return undefined;
  parts.push(text.slice(start));
  return parts;
}

function parseSelect(text: string): SelectItem[] {
  if (text === '') return [{ column: '*' }];
  const items = splitTrimmed(text);
  if (!items) throw ERRORS.parse('select', text, 'unbalanced quotes or parentheses');
  return items.map((item) => {
    if (item.includes('(')) {
      throw ERRORS.parse('select', item, 'embedded resources are not supported by local-supabase');
    }
    const match = SELECT_ITEM.exec(item);
    if (!match || (match[2] === '*' && (match[1] || match[3]))) throw ERRORS.parse('select', item, 'expected [alias:]column[::type] or *');
    return {
      column: nameOf(match[2]),
      ...(match[1] ? { alias: nameOf(match[1]) } : {}),
      ...(match[3] ? { cast: match[3] } : {}),
    };
  });
}

function parseOrder(text: string): OrderTerm[] {
  const terms = splitTrimmed(text);
  if (!terms) throw ERRORS.parse('order', text, 'unbalanced quotes or parentheses');
  return terms.map((term) => {
    const match = ORDER_TERM.exec(term);
    if (!match) throw ERRORS.parse('order', term, 'expected column[.asc|.desc][.nullsfirst|.nullslast]');
    return {
      column: nameOf(match[1]),
      descending: match[2] === 'desc',
      ...(match[3] ? { nulls: match[3] === 'nullsfirst' ? ('first' as const) : ('last' as const) } : {}),
    };
  });
}

function parseCount(what: string, text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw ERRORS.parse(what, text, 'expected a non-negative integer');
  return Number(text);
}

function parseNameList(what: string, text: string): string[] {
  const names = splitTrimmed(text);
  if (!names || names.some((n) => n === '')) throw ERRORS.parse(what, text, 'expected a comma-separated list of columns');
  return names.map(unquote);
}

/** `[not.]op.value` for `column`; inside or=(…) a double-quoted value is unquoted. */
function parseFilter(column: string, expr: string, inLogicTree: boolean): Condition {
  const negate = expr.startsWith('not.');
  const rest = negate ? expr.slice(4) : expr;
  const dot = rest.indexOf('.');
  const op = (dot < 0 ? rest : rest.slice(0, dot)) as Operator;
  if (dot < 0 || !OPERATORS.includes(op)) {
    throw ERRORS.parse('filter', expr, `expected [not.]operator.value, operator one of: ${OPERATORS.join(', ')}`);
  }
  const raw = rest.slice(dot + 1);
  if (op === 'is') {
    const value = raw.toLowerCase() as IsValue;
    if (!IS_VALUES.includes(value)) throw ERRORS.parse('filter', expr, `is accepts ${IS_VALUES.join(', ')}`);
    return { kind: 'filter', column, negate, op, value };
  }
  if (op === 'in') {
    const items = raw.startsWith('(') && raw.endsWith(')') ? splitTopLevel(raw.slice(1, -1)) : undefined;
    if (!items) throw ERRORS.parse('filter', expr, 'in expects a list like (a,b,"c,d")');
    return { kind: 'filter', column, negate, op, value: raw === '()' ? [] : items.map(unquote) };
  }
  const value = inLogicTree ? unquote(raw) : raw;
  // postgrest-js and PostgREST accept * as the LIKE wildcard because % is awkward in URLs.
  return { kind: 'filter', column, negate, op, value: op === 'like' || op === 'ilike' ? value.replaceAll('*', '%') : value };
}

/**
 * How deep and/or groups may nest. Far beyond any query a client writes, and far below the depth
 * at which building or planning the statement would exhaust a stack (Node's or Postgres's).
 */
export const MAX_LOGIC_DEPTH = 64;

/** `(a.eq.1,b.is.null,and(c.gt.2,not.or(d.lt.0,e.eq.x)))`; `depth` counts the enclosing groups. */
function parseLogicTree(key: string, text: string, negate: boolean, joiner: 'and' | 'or', depth = 1): Condition {
  if (depth > MAX_LOGIC_DEPTH) throw ERRORS.parse('logic tree', key, `and/or groups nest at most ${MAX_LOGIC_DEPTH} deep`);
  // Each condition without the whitespace in front (a value keeps its own).
  const items = text.startsWith('(') && text.endsWith(')') ? splitTopLevel(text.slice(1, -1))?.map((i) => i.trimStart()) : undefined;
  if (!items || items.some((i) => i === '')) throw ERRORS.parse('logic tree', `${key}=${text}`, 'expected (condition,condition,…)');
  return {
    kind: 'group',
    negate,
    joiner,
    items: items.map((item) => {
      const nested = /^(not\.)?(and|or)(\(.*\))$/s.exec(item);
      if (nested)
        return parseLogicTree(`${nested[1] ?? ''}${nested[2]}`, nested[3], Boolean(nested[1]), nested[2] as 'and' | 'or', depth + 1);
      const column = item.startsWith('"') ? /^"(?:[^"\\]|\\.)*"/.exec(item)?.[0] : item.slice(0, item.indexOf('.'));
      if (!column || item[column.length] !== '.') throw ERRORS.parse('logic tree', item, 'expected column.operator.value');
      return parseFilter(nameOf(column), item.slice(column.length + 1), true);
    }),
  };
}

/** Parses every query parameter; `isArg` names the ones that are RPC arguments instead of filters. */
export function parseQuery(params: URLSearchParams, isArg: (key: string) => boolean = () => false): QueryParams {
  const query: QueryParams = { select: [{ column: '*' }], where: [], order: [], args: {} };
  // PostgREST looks select, columns and on_conflict up with L.lookup: the first one counts, and a
  // repeat is ignored (QueryParams.hs lookupParam); order, limit and offset go into maps: the last.
  const firstOnly = new Set(['select', 'columns', 'on_conflict']);
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (firstOnly.has(key) && seen.has(key)) continue;
    seen.add(key);
    if (key === 'select') query.select = parseSelect(value);
    else if (key === 'order') query.order = value === '' ? [] : parseOrder(value);
    // A negative limit is PostgREST's 416, decided with the Range header (rest/index.ts).
    else if (key === 'limit') query.limit = /^-\d{1,15}$/.test(value) ? Number(value) : parseCount('limit parameter', value);
    else if (key === 'offset') query.offset = parseCount('offset parameter', value);
    else if (key === 'columns') query.columns = parseNameList('columns', value);
    else if (key === 'on_conflict') query.onConflict = parseNameList('on_conflict', value);
    else if (LOGIC_KEYS[key]) query.where.push(parseLogicTree(key, value, LOGIC_KEYS[key].negate, LOGIC_KEYS[key].joiner));
    else if (isArg(key)) query.args[key] = value;
    else query.where.push(parseFilter(key, value, false));
  }
  return query;
}
