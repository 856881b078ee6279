// /rest/v1: the PostgREST subset the official client generates. Each request is one
// transaction on the `authenticator` pool, sent in one round trip: BEGIN, PostgREST's
// transaction-local settings (the caller's role, request.jwt.claims, …), the single statement
// ./plan and ./render build, then COMMIT — or ROLLBACK on an error or a failed singular check — so
// RLS decides as in production. Every statement is prepared once per connection (../batch).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runBatch, type Statement } from '../batch';
import type { Context, Product } from '../context';
import { withConnection } from '../db';
import { bearer, BodyTooLarge, CORS_HEADERS, nestingDepth, readBody, sendJson, utf8 } from '../http';
import { checkTimes, decodeJwt, JwtError, roleOf, type Claims } from '../jwt';
import { ERRORS, fromPgError, isPgError, RestError } from './errors';
import { parseQuery, RESERVED_PARAMS, type QueryParams } from './parse';
import { chooseFunction, planCall, planDelete, planInsert, planRead, planUpdate, type Plan, type Preferences } from './plan';
import { render } from './render';
import { EXPOSED_SCHEMA, SchemaCache } from './schema';

const ANON_ROLE = 'anon';
const EXTRA_SEARCH_PATH = 'extensions';
const SINGULAR = 'application/vnd.pgrst.object+json';

interface Caller {
  role: string;
  /** request.jwt.claims: the token's claims with the role they resolved to. */
  claimsJson: string;
}

const ANON_CALLER: Caller = { role: ANON_ROLE, claimsJson: JSON.stringify({ role: ANON_ROLE }) };

/** The one row every rendered statement returns; the body stays the bytes Postgres sent (UTF-8 JSON). */
interface ResultRow {
  pageTotal: number;
  total: number | null;
  inserted: number | null;
  body: Buffer | null;
}

function resultRow([pageTotal, total, inserted, body]: Array<Buffer | null>): ResultRow {
  const count = (field: Buffer | null) => (field === null ? null : Number(field.toString('latin1')));
  return { pageTotal: count(pageTotal)!, total: count(total), inserted: count(inserted), body };
}

type Target = { kind: 'table'; name: string } | { kind: 'rpc'; name: string };

/** How many verified tokens are remembered: a signature costs more than the rest of a small request. */
const VERIFIED_TOKENS = 1000;

/**
 * PostgREST's Auth/Jwt.hs: no token means the anon role; a bad one is 401. A token whose signature
 * was verified is remembered, as PostgREST's JWT cache does (src/PostgREST/Auth/JwtCache.hs); its
 * time claims are checked on every use.
 */
function authenticator(secret: string): (req: IncomingMessage) => Caller {
  const verified = new Map<string, { claims: Claims; caller: Caller }>();
  return (req) => {
    const token = bearer(req);
    if (token === undefined) return ANON_CALLER;
    try {
      let entry = verified.get(token);
      if (!entry) {
        const claims = decodeJwt(token, secret);
        const role = roleOf(claims);
        entry = { claims, caller: { role, claimsJson: JSON.stringify({ ...claims, role }) } };
        if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
        verified.set(token, entry);
      }
      checkTimes(entry.claims);
      return entry.caller;
    } catch (err) {
      if (!(err instanceof JwtError)) throw err;
      throw err.claims ? ERRORS.jwtClaims(err.message) : ERRORS.jwtDecode(err.message);
    }
  };
}

function route(path: string): Target {
  const segments = path.split('/').slice(1);
  try {
    if (segments.length === 1 && segments[0] !== '') return { kind: 'table', name: decodeURIComponent(segments[0]) };
    if (segments.length === 2 && segments[0] === 'rpc' && segments[1] !== '') {
      return { kind: 'rpc', name: decodeURIComponent(segments[1]) };
    }
  } catch {
    // A malformed percent-escape names nothing.
  }
  throw ERRORS.invalidPath();
}

const METHODS = { table: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'], rpc: ['GET', 'HEAD', 'POST'] };

function checkProfile(req: IncomingMessage, readOnlyMethod: boolean): void {
  const profile = req.headers[readOnlyMethod ? 'accept-profile' : 'content-profile'];
  if (profile !== undefined && profile !== EXPOSED_SCHEMA) {
    throw ERRORS.unacceptableSchema(String(profile), EXPOSED_SCHEMA);
  }
}

/** Whether the client asked for one object; 406 for media types this server cannot produce. */
function wantsSingular(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '*/*';
  if (accept.includes(SINGULAR)) return true;
  if (accept === '' || /(^|,)\s*(\*\/\*|application\/\*|application\/json)/.test(accept)) return false;
  throw ERRORS.mediaType(accept);
}

/** `Prefer` arrives as one comma-joined header (postgrest-js appends each preference). */
function preferences(req: IncomingMessage): { prefs: Preferences; applied: string[] } {
  const prefs: Preferences = { representation: false, count: false, missingDefault: false };
  const applied: string[] = [];
  for (const item of String(req.headers.prefer ?? '').split(',')) {
    const pref = item.trim();
    if (pref === 'return=representation') prefs.representation = true;
    else if (/^count=(exact|planned|estimated)$/.test(pref)) prefs.count = true;
    else if (pref === 'resolution=merge-duplicates' || pref === 'resolution=ignore-duplicates') {
      prefs.resolution = pref.slice('resolution='.length) as Preferences['resolution'];
    } else if (pref === 'missing=default') prefs.missingDefault = true;
    else continue;
    applied.push(pref);
  }
  return { prefs, applied };
}

/**
 * The rows a GET asks for: its limit and offset intersected with its Range header (`Range: 0-9`,
 * `Range: 10-`), as PostgREST's getRanges does (src/library/PostgREST/ApiRequest.hs). Other
 * methods ignore the header (RFC 9110). limit=0 alone may ask for no rows.
 */
function withRangeHeader(req: IncomingMessage, query: QueryParams): QueryParams {
  const header = req.method === 'GET' ? /^(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
  const offset = query.offset ?? 0;
  const lower = Math.max(offset, header ? Number(header[1]) : 0);
  const upper = Math.min(
    query.limit === undefined ? Infinity : offset + query.limit - 1,
    header && header[2] !== '' ? Number(header[2]) : Infinity,
  );
  if (query.limit === 0 || (!header && (query.limit === undefined || query.limit > 0))) return query;
  if (upper < lower) throw ERRORS.invalidRange(header !== null && header[2] !== '' && Number(header[2]) < Number(header[1]));
  return { ...query, offset: lower, limit: upper === Infinity ? undefined : upper - lower + 1 };
}

/**
 * PostgREST's getPayload (src/library/PostgREST/ApiRequest/Payload.hs) reads a body by its
 * Content-Type, JSON when there is none. CSV and form bodies, and raw bodies for functions, are
 * PostgREST's but not this server's; any other type is not acceptable.
 */
function checkContentType(req: IncomingMessage, rpc: boolean): void {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === '' || mediaType === 'application/json') return;
  const raw = ['text/plain', 'text/xml', 'application/octet-stream'];
  if (mediaType === 'text/csv' || mediaType === 'application/x-www-form-urlencoded' || (rpc && raw.includes(mediaType))) {
    throw ERRORS.unsupported(`Content-Type ${mediaType} is not supported by local-supabase: send JSON`);
  }
  throw ERRORS.invalidBody(`Content-Type not acceptable: ${mediaType}`);
}

function cookies(header: string | undefined): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return jar;
}

const COMMIT: Statement = { text: 'COMMIT', values: [] };
const ROLLBACK: Statement = { text: 'ROLLBACK', values: [] };

/** How PostgREST opens a request's transaction (src/library/PostgREST/Query.hs). */
function begin(readOnly: boolean): Statement {
  return { text: `BEGIN ISOLATION LEVEL READ COMMITTED ${readOnly ? 'READ ONLY' : 'READ WRITE'}`, values: [] };
}

/** The texts of settingsStatement, by how many settings: built once, not per request. */
const settingsTexts: string[] = [];

/** Transaction-local settings as parameters, so the text (and its prepared statement) depends only on how many there are. */
function settingsStatement(settings: Array<[string, string]>): Statement {
  const values: string[] = [];
  for (const [name, value] of settings) values.push(name, value);
  settingsTexts[settings.length] ??= `SELECT ${settings.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(', ')}`;
  return { text: settingsTexts[settings.length], values };
}

export async function createRest(ctx: Context): Promise<Product> {
  const cache = new SchemaCache(ctx.admin, ctx.log);
  await cache.start(ctx.adminConnectionString);
  const authenticate = authenticator(ctx.jwtSecret);

  /** PostgREST's transaction-local settings, in its order (PostgREST src/library/PostgREST/Query/PreQuery.hs). */
  async function settingsFor(req: IncomingMessage, caller: Caller, path: string): Promise<Statement> {
    const roleSettings = (await cache.current()).roleSettings.get(caller.role) ?? [];
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return settingsStatement([
      ['search_path', `"${EXPOSED_SCHEMA}", "${EXTRA_SEARCH_PATH}"`],
      ...roleSettings,
      ['role', caller.role],
      ['request.jwt.claims', caller.claimsJson],
      ['request.method', req.method ?? ''],
      ['request.path', path],
      ['request.headers', JSON.stringify(headers)],
      ['request.cookies', JSON.stringify(cookies(req.headers.cookie))],
    ]);
  }

  /** The JSON body and its text; undefined when the body is empty. */
  async function readJson(req: IncomingMessage, rpc: boolean): Promise<{ value: unknown; text: string } | undefined> {
    checkContentType(req, rpc);
    let raw: Buffer;
    try {
      raw = await readBody(req, ctx.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw ERRORS.bodyTooLarge(ctx.maxBodyBytes);
      // The client hung up mid-body: there is no one left to answer, only nothing to leak.
      throw ERRORS.invalidBody(`The request body could not be read: ${(err as Error).message}`);
    }
    if (raw.length === 0) return undefined;
    let text: string;
    let value: unknown;
    try {
      text = utf8(raw);
      value = JSON.parse(text);
    } catch {
      throw ERRORS.invalidBody();
    }
    // Postgres parses the body again, recursively: nesting it cannot parse is refused here.
    if (nestingDepth(text) > MAX_JSON_DEPTH) throw ERRORS.invalidBody(`JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
    return { value, text };
  }

  async function planFor(req: IncomingMessage, target: Target, url: URL, prefs: Preferences): Promise<Plan> {
    const method = req.method!;
    const reading = method === 'GET' || method === 'HEAD';
    const body = reading || method === 'DELETE' ? undefined : await readJson(req, target.kind === 'rpc');
    if (target.kind === 'rpc') {
      const candidates = (await cache.current()).functions.get(target.name) ?? [];
      const bodyArgs = body && typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : {};
      // An unknown function fails first: only a known one tells which GET parameters are
      // arguments rather than filters.
      if (!candidates.length) {
        const named = reading ? [...url.searchParams.keys()].filter((k) => !RESERVED_PARAMS.has(k)) : Object.keys(bodyArgs);
        chooseFunction(target.name, candidates, named, body !== undefined);
      }
      const argNames = new Set(candidates.flatMap((f) => f.args.map((a) => a.name)));
      const query = parseQuery(url.searchParams, reading ? (key) => argNames.has(key) : undefined);
      // POST: the body holds the arguments (none when empty); GET: the query string does.
      const named = reading ? query.args : bodyArgs;
      const fn = chooseFunction(target.name, candidates, Object.keys(named), body !== undefined);
      return planCall(fn, query, prefs, named, body?.text ?? JSON.stringify(query.args), reading);
    }
    const query = withRangeHeader(req, parseQuery(url.searchParams));
    if (!reading && method !== 'DELETE' && !body) throw ERRORS.invalidBody();
    const relation = (await cache.current()).relations.get(target.name);
    if (!relation) throw ERRORS.tableNotFound(EXPOSED_SCHEMA, target.name);
    if (method === 'POST') return planInsert(relation, query, prefs, body!.value, body!.text);
    if (method === 'PATCH') return planUpdate(relation, query, prefs, body!.value, body!.text);
    if (method === 'DELETE') return planDelete(relation, query, prefs);
    return planRead(relation, query, prefs);
  }

  /**
   * The request's transaction: BEGIN, the settings, the statement and COMMIT in one round trip. A
   * singular request sees its row before choosing COMMIT or ROLLBACK, as PostgREST does.
   */
  function transact(settings: Statement, planned: Plan, singular: boolean): Promise<ResultRow> {
    const statements = [begin(planned.readOnly), settings, render(planned.action)];
    return withConnection(ctx.api, async (db) => {
      const row = resultRow((await runBatch(db, singular ? statements : [...statements, COMMIT], 'bytes'))[2][0]);
      if (singular) await runBatch(db, [row.pageTotal === 1 ? COMMIT : ROLLBACK]);
      return row;
    });
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, url: URL, caller: Caller): Promise<void> {
    const target = route(path);
    const method = req.method ?? 'GET';
    if (!METHODS[target.kind].includes(method)) throw ERRORS.unsupportedMethod(method);
    const reading = method === 'GET' || method === 'HEAD';
    checkProfile(req, reading);
    const singular = wantsSingular(req);
    const { prefs, applied } = preferences(req);
    const planned = await planFor(req, target, url, prefs);
    const row = await transact(await settingsFor(req, caller, path), planned, singular);
    if (singular && row.pageTotal !== 1) throw ERRORS.singularity(row.pageTotal);

    const headers: Record<string, string> = { ...CORS_HEADERS };
    if (applied.length) headers['preference-applied'] = applied.join(', ');
    let status: number;
    let body: Buffer | null = row.body;
    if (target.kind === 'table' && !reading) {
      const total = prefs.count ? row.pageTotal : '*';
      if (method === 'POST') status = prefs.resolution && row.inserted === 0 ? 200 : 201;
      else status = prefs.representation ? 200 : 204;
      headers['content-range'] = method === 'PATCH' && row.pageTotal > 0 ? `0-${row.pageTotal - 1}/${total}` : `*/${total}`;
    } else {
      // RangeQuery.hs: 416 past the end, 206 for a partial page of a counted result.
      const lower = planned.offset;
      const upper = lower + row.pageTotal - 1;
      if (row.total !== null && lower > row.total) throw ERRORS.rangeNotSatisfiable(lower, row.total);
      status = planned.result === 'void' ? 204 : row.total !== null && upper - lower + 1 < row.total ? 206 : 200;
      headers['content-range'] = `${row.pageTotal > 0 ? `${lower}-${upper}` : '*'}/${row.total ?? '*'}`;
    }
    if (status === 204) body = null;
    else if (body !== null && (singular || planned.result === 'value')) body = firstElement(body);
    if (body !== null) headers['content-type'] = `${singular ? SINGULAR : 'application/json'}; charset=utf-8`;
    headers['content-length'] = String(body === null ? 0 : body.length);
    res.writeHead(status, headers);
    res.end(body ?? undefined);
  }

  return {
    async handle(req, res, path, url) {
      let caller: Caller | undefined;
      try {
        caller = authenticate(req);
        await serve(req, res, path, url, caller);
      } catch (err) {
        let error: RestError;
        if (err instanceof RestError) error = err;
        else if (isPgError(err)) error = fromPgError(err, (caller?.role ?? ANON_ROLE) !== ANON_ROLE);
        else throw err;
        // Whatever is left of the request body must not be parsed as the next request.
        if (!req.complete) req.resume();
        sendJson(res, error.status, error.body(), error.headers);
      }
    },
    close: () => cache.close(),
  };
}

/**
 * Go's encoding/json stops at this depth (maxNestingDepth in encoding/json/scanner.go); it is far
 * inside what Postgres's recursive JSON parser takes with its default 2 MB max_stack_depth.
 */
const MAX_JSON_DEPTH = 10000;

const JSON_NULL = Buffer.from('null');

/** The one element of a JSON array as json_agg prints it: `[` element `]`. */
function firstElement(jsonArray: Buffer): Buffer {
  return jsonArray.length === 2 ? JSON_NULL : jsonArray.subarray(1, -1);
}
