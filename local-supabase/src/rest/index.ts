// /rest/v1: the PostgREST subset the official client generates (research §2). Each request is one
// transaction on the `authenticator` pool: BEGIN and PostgREST's transaction-local settings in one
// round trip (the caller's role, request.jwt.claims, …), the single statement built by ./plan, then
// COMMIT — or ROLLBACK on an error or a failed singular check — so RLS decides as in production.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Product } from '../context';
import { inTransaction } from '../db';
import { bearer, BodyTooLarge, CORS_HEADERS, readBody, utf8 } from '../http';
import { checkTimes, decodeJwt, JwtError, roleOf, type Claims } from '../jwt';
import { fromPgError, isPgError, RestError } from './errors';
import { parseQuery, RESERVED_PARAMS } from './parse';
import { chooseFunction, literal, planCall, planDelete, planInsert, planRead, planUpdate, type Plan, type Preferences } from './plan';
import { EXPOSED_SCHEMA, SchemaCache, type Snapshot } from './schema';

const ANON_ROLE = 'anon';
const EXTRA_SEARCH_PATH = 'extensions';
const SINGULAR = 'application/vnd.pgrst.object+json';

interface Caller {
  role: string;
  claims: Claims;
}

interface ResultRow {
  page_total: number;
  total: number | null;
  inserted: number | null;
  body: string | null;
}

type Target = { kind: 'table'; name: string } | { kind: 'rpc'; name: string };

function jwtError(code: string, message: string): RestError {
  return new RestError(401, code, message, null, null, {
    'www-authenticate': `Bearer error="invalid_token", error_description="${message}"`,
  });
}

/** PostgREST's Auth/Jwt.hs: no token means the anon role; a bad one is 401. */
function authenticate(req: IncomingMessage, secret: string): Caller {
  const token = bearer(req);
  if (!token) return { role: ANON_ROLE, claims: {} };
  let claims: Claims;
  try {
    claims = decodeJwt(token, secret);
  } catch (err) {
    throw jwtError('PGRST301', (err as JwtError).message);
  }
  try {
    checkTimes(claims);
  } catch (err) {
    throw jwtError('PGRST303', (err as JwtError).message);
  }
  return { role: roleOf(claims), claims };
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
  throw new RestError(404, 'PGRST125', 'Invalid path specified in request URL');
}

const METHODS = { table: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'], rpc: ['GET', 'HEAD', 'POST'] };

function checkProfile(req: IncomingMessage, readOnlyMethod: boolean): void {
  const profile = req.headers[readOnlyMethod ? 'accept-profile' : 'content-profile'];
  if (profile !== undefined && profile !== EXPOSED_SCHEMA) {
    throw new RestError(406, 'PGRST106', `Invalid schema: ${profile}`, null, `Only the following schemas are exposed: ${EXPOSED_SCHEMA}`);
  }
}

/** Whether the client asked for one object; 406 for media types this server cannot produce. */
function wantsSingular(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '*/*';
  if (accept.includes(SINGULAR)) return true;
  if (accept === '' || /(^|,)\s*(\*\/\*|application\/\*|application\/json)/.test(accept)) return false;
  throw new RestError(406, 'PGRST107', `None of these media types are available: ${accept}`);
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

function cookies(header: string | undefined): Record<string, string> {
  const jar: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return jar;
}

export async function createRest(ctx: Context): Promise<Product> {
  const cache = new SchemaCache(ctx.admin);
  await cache.current();

  /** BEGIN plus PostgREST's transaction-local settings, in its order (research §2.2). */
  async function beginSql(req: IncomingMessage, caller: Caller, path: string, readOnly: boolean): Promise<string> {
    const roleSettings = (await cache.current()).roleSettings.get(caller.role) ?? [];
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const settings: Array<[string, string]> = [
      ['search_path', `"${EXPOSED_SCHEMA}", "${EXTRA_SEARCH_PATH}"`],
      ...roleSettings,
      ['role', caller.role],
      ['request.jwt.claims', JSON.stringify({ ...caller.claims, role: caller.role })],
      ['request.method', req.method ?? ''],
      ['request.path', path],
      ['request.headers', JSON.stringify(headers)],
      ['request.cookies', JSON.stringify(cookies(req.headers.cookie))],
    ];
    const calls = settings.map(([name, value]) => `set_config(${literal(name)}, ${literal(value)}, true)`);
    return `BEGIN ISOLATION LEVEL READ COMMITTED ${readOnly ? 'READ ONLY' : 'READ WRITE'}; SELECT ${calls.join(', ')}`;
  }

  /** Builds the plan, reloading the schema cache once if the request names something unknown. */
  async function plan(build: (snapshot: Snapshot) => Plan): Promise<Plan> {
    try {
      return build(await cache.current());
    } catch (err) {
      if (!(err instanceof RestError) || !['PGRST202', 'PGRST204', 'PGRST205', '42703'].includes(err.code)) throw err;
      return build(await cache.reload());
    }
  }

  /** The JSON body and its text; undefined when the body is empty. */
  async function readJson(req: IncomingMessage): Promise<{ value: unknown; text: string } | undefined> {
    let raw: Buffer;
    try {
      raw = await readBody(req, ctx.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        throw new RestError(413, 'request_too_large', `Request body larger than ${ctx.maxBodyBytes} bytes`);
      }
      // The client hung up mid-body: there is no one left to answer, only nothing to leak.
      throw new RestError(400, 'PGRST102', `The request body could not be read: ${(err as Error).message}`);
    }
    if (raw.length === 0) return undefined;
    try {
      const text = utf8(raw);
      return { value: JSON.parse(text), text };
    } catch {
      throw new RestError(400, 'PGRST102', 'Empty or invalid json');
    }
  }

  async function planFor(req: IncomingMessage, target: Target, url: URL, prefs: Preferences): Promise<Plan> {
    const method = req.method!;
    const reading = method === 'GET' || method === 'HEAD';
    const body = reading || method === 'DELETE' ? undefined : await readJson(req);
    if (target.kind === 'rpc') {
      return plan((s) => {
        const candidates = s.functions.get(target.name) ?? [];
        const bodyArgs = body && typeof body.value === 'object' && body.value !== null && !Array.isArray(body.value) ? body.value : {};
        // An unknown function fails first (reloading the cache): only a known one tells which
        // GET parameters are arguments rather than filters.
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
      });
    }
    const query = parseQuery(url.searchParams);
    if (!reading && method !== 'DELETE' && !body) throw new RestError(400, 'PGRST102', 'Empty or invalid json');
    return plan((s) => {
      const relation = s.relations.get(target.name);
      if (!relation) throw new RestError(404, 'PGRST205', `Could not find the table '${EXPOSED_SCHEMA}.${target.name}' in the schema cache`);
      if (method === 'POST') return planInsert(relation, query, prefs, body!.value, body!.text);
      if (method === 'PATCH') return planUpdate(relation, query, prefs, body!.value, body!.text);
      if (method === 'DELETE') return planDelete(relation, query, prefs);
      return planRead(relation, query, prefs);
    });
  }

  /** Runs the plan in one transaction; `keep` decides between COMMIT and ROLLBACK. */
  function transact(beginStatement: string, planned: Plan, keep: (row: ResultRow) => boolean): Promise<ResultRow> {
    return inTransaction(ctx.api, beginStatement, async (db) => (await db.query<ResultRow>(planned.sql, planned.values)).rows[0], keep);
  }


  async function serve(req: IncomingMessage, res: ServerResponse, path: string, url: URL, caller: Caller): Promise<void> {
    const target = route(path);
    const method = req.method ?? 'GET';
    if (!METHODS[target.kind].includes(method)) throw new RestError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
    const reading = method === 'GET' || method === 'HEAD';
    checkProfile(req, reading);
    const singular = wantsSingular(req);
    const { prefs, applied } = preferences(req);
    const planned = await planFor(req, target, url, prefs);
    const begin = await beginSql(req, caller, path, planned.readOnly);
    const row = await transact(begin, planned, (r) => !singular || r.page_total === 1);
    if (singular && row.page_total !== 1) {
      throw new RestError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${row.page_total} rows`);
    }

    const headers: Record<string, string> = { ...CORS_HEADERS };
    if (applied.length) headers['preference-applied'] = applied.join(', ');
    let status: number;
    let body: string | null = row.body;
    if (target.kind === 'table' && !reading) {
      const total = prefs.count ? row.page_total : '*';
      if (method === 'POST') status = prefs.resolution && row.inserted === 0 ? 200 : 201;
      else status = prefs.representation ? 200 : 204;
      headers['content-range'] = method === 'PATCH' && row.page_total > 0 ? `0-${row.page_total - 1}/${total}` : `*/${total}`;
    } else {
      // RangeQuery.hs: 416 past the end, 206 for a partial page of a counted result.
      const lower = planned.offset;
      const upper = lower + row.page_total - 1;
      if (row.total !== null && lower > row.total) {
        throw new RestError(416, 'PGRST103', 'Requested range not satisfiable', `An offset of ${lower} was requested, but there are only ${row.total} rows.`);
      }
      status = planned.result === 'void' ? 204 : row.total !== null && upper - lower + 1 < row.total ? 206 : 200;
      headers['content-range'] = `${row.page_total > 0 ? `${lower}-${upper}` : '*'}/${row.total ?? '*'}`;
    }
    if (status === 204) body = null;
    else if (body !== null && (singular || planned.result === 'value')) body = firstElement(body);
    if (body !== null) headers['content-type'] = `${singular ? SINGULAR : 'application/json'}; charset=utf-8`;
    headers['content-length'] = String(body === null ? 0 : Buffer.byteLength(body));
    res.writeHead(status, headers);
    res.end(body ?? undefined);
  }

  return {
    async handle(req, res, path, url) {
      let caller: Caller | undefined;
      try {
        caller = authenticate(req, ctx.jwtSecret);
        await serve(req, res, path, url, caller);
      } catch (err) {
        let error: RestError;
        if (err instanceof RestError) error = err;
        else if (isPgError(err)) error = fromPgError(err, (caller?.role ?? ANON_ROLE) === ANON_ROLE);
        else throw err;
        // Whatever is left of the request body must not be parsed as the next request.
        if (!req.complete) req.resume();
        const text = JSON.stringify(error.body());
        res.writeHead(error.status, {
          ...CORS_HEADERS,
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(text)),
          ...error.headers,
        });
        res.end(text);
      }
    },
  };
}

/** The one element of a JSON array as json_agg prints it: `[` element `]`. */
function firstElement(jsonArray: string): string {
  return jsonArray === '[]' ? 'null' : jsonArray.slice(1, -1);
}
