// The /storage/v1/object routes, one handler each, as supabase/storage's src/http/routes/object/:
// a handler reads and checks its request, names the caller, and leaves the work to the ObjectStore.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from '../context';
import { BodyTooLarge, parseJson, readBody, sendJson } from '../http';
import { identify } from './caller';
import { entityTooLarge, invalidRequest, routeNotFound } from './errors';
import { parseObjectPath } from './keys';
import { isSortColumn, SORT_COLUMNS, type ObjectStore } from './object-store';
import { render } from './render';
import { uploadSource } from './upload-source';

const MAX_PATHS_PER_REQUEST = 1000;
const NOT_ACCESSIBLE = 'Either the object does not exist or you do not have access to it';

/** One request to a route: where it points and what serves it. */
interface RouteRequest {
  ctx: Context;
  store: ObjectStore;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  bucket: string;
}

type BucketHandler = (r: RouteRequest) => Promise<void>;
type ObjectHandler = (r: RouteRequest, key: string) => Promise<void>;

function wholeNumber(value: unknown, name: string, fallback?: number, minimum = 1): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(Math.floor(value)) || value < minimum) {
    throw invalidRequest(`body/${name} must be a whole number >= ${minimum}`);
  }
  return Math.floor(value);
}

/** A string Postgres can store (no NUL). */
function isText(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\0');
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PATHS_PER_REQUEST || !value.every(isText)) {
    throw invalidRequest(`body/${name} must be a list of 1 to ${MAX_PATHS_PER_REQUEST} strings`);
  }
  return value;
}

async function jsonObject({ ctx, req }: RouteRequest): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = parseJson(await readBody(req, ctx.maxBodyBytes));
  } catch (err) {
    if (err instanceof BodyTooLarge) throw entityTooLarge();
    throw invalidRequest('Body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest('body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

const caller = ({ ctx, req }: RouteRequest, tolerant = false) => identify(req, ctx.jwtSecret, tolerant);

const upload = (upsert: (req: IncomingMessage) => boolean): ObjectHandler =>
  async function upload(r, key) {
    const who = caller(r);
    const bucket = await r.store.findBucket(r.bucket);
    const source = await uploadSource(r.req);
    const id = await r.store.upload(who, r.req, bucket, key, source, upsert(r.req));
    sendJson(r.res, 200, { Id: id, Key: `${bucket.id}/${key}` });
  };

const readPublic: ObjectHandler = async (r, key) => {
  const { file, metadata } = await r.store.publicObject(r.bucket, key);
  await render(r.req, r.res, file, metadata);
};

/** `/object/authenticated/…` wants a valid JWT; a plain object GET reads a missing or bad one as anon. */
const readAsCaller =
  (tolerant: boolean): ObjectHandler =>
  async (r, key) => {
    const { file, metadata } = await r.store.callerObject(caller(r, tolerant), r.req, r.bucket, key);
    await render(r.req, r.res, file, metadata);
  };

const readSigned: ObjectHandler = async (r, key) => {
  const token = r.url.searchParams.get('token');
  if (!token) throw invalidRequest("querystring must have required property 'token'");
  const { file, metadata } = await r.store.signedObject(token, r.bucket, key);
  await render(r.req, r.res, file, metadata);
};

const sign: ObjectHandler = async (r, key) => {
  const who = caller(r);
  const expiresIn = wholeNumber((await jsonObject(r)).expiresIn, 'expiresIn');
  sendJson(r.res, 200, { signedURL: await r.store.signUrl(who, r.req, r.bucket, key, expiresIn) });
};

const signMany: BucketHandler = async (r) => {
  const who = caller(r);
  const body = await jsonObject(r);
  const expiresIn = wholeNumber(body.expiresIn, 'expiresIn');
  const paths = stringList(body.paths, 'paths');
  const urls = await r.store.signUrls(who, r.req, r.bucket, paths, expiresIn);
  sendJson(
    r.res,
    200,
    paths.map((path, i) => (urls[i] ? { error: null, path, signedURL: urls[i] } : { error: NOT_ACCESSIBLE, path, signedURL: null })),
  );
};

const list: BucketHandler = async (r) => {
  const who = caller(r);
  const body = await jsonObject(r);
  if (!isText(body.prefix)) throw invalidRequest("body must have required property 'prefix'");
  const search = body.search === undefined ? '' : body.search;
  if (!isText(search)) throw invalidRequest('body/search must be a string');
  const sortBy = (body.sortBy ?? {}) as { column?: unknown; order?: unknown };
  const column = sortBy.column ?? 'name';
  const order = typeof sortBy.order === 'string' ? sortBy.order.toLowerCase() : 'asc';
  if (!isSortColumn(column) || (order !== 'asc' && order !== 'desc')) {
    throw invalidRequest(`body/sortBy must have a column in ${SORT_COLUMNS.join(', ')} and order asc or desc`);
  }
  const entries = await r.store.list(who, r.req, r.bucket, {
    prefix: body.prefix === '' || body.prefix.endsWith('/') ? body.prefix : `${body.prefix}/`,
    search,
    limit: wholeNumber(body.limit, 'limit', 100),
    offset: wholeNumber(body.offset, 'offset', 0, 0),
    column,
    order,
  });
  sendJson(r.res, 200, entries);
};

const removeMany: BucketHandler = async (r) => {
  const who = caller(r);
  const names = stringList((await jsonObject(r)).prefixes, 'prefixes');
  sendJson(r.res, 200, await r.store.removeMany(who, r.req, r.bucket, names));
};

const removeOne: ObjectHandler = async (r, key) => {
  await r.store.remove(caller(r), r.req, r.bucket, key);
  sendJson(r.res, 200, { message: 'Successfully deleted' });
};

/** By `<method> <route>`; HEAD is served as GET. */
const OBJECT_ROUTES = new Map<string, ObjectHandler>([
  ['GET public', readPublic],
  ['GET authenticated', readAsCaller(false)],
  ['GET object', readAsCaller(true)],
  ['GET sign', readSigned],
  ['POST sign', sign],
  ['POST object', upload((req) => req.headers['x-upsert'] === 'true')],
  ['PUT object', upload(() => true)],
  ['DELETE object', removeOne],
]);

const BUCKET_ROUTES = new Map<string, BucketHandler>([
  ['POST sign', signMany],
  ['POST list', list],
  ['DELETE object', removeMany],
]);

/** Serves one request below /storage/v1, given its raw path there (e.g. `/object/public/images/a.png`). */
export async function dispatch(ctx: Context, store: ObjectStore, req: IncomingMessage, res: ServerResponse, rawPath: string, url: URL) {
  const parsed = parseObjectPath(rawPath);
  if (parsed) {
    const name = `${req.method === 'HEAD' ? 'GET' : req.method} ${parsed.route}`;
    const { bucket, key } = parsed.target;
    const r: RouteRequest = { ctx, store, req, res, url, bucket };
    if (key === undefined) {
      const handler = BUCKET_ROUTES.get(name);
      if (handler) return handler(r);
    } else {
      const handler = OBJECT_ROUTES.get(name);
      if (handler) return handler(r, key);
    }
  }
  throw routeNotFound(req.method ?? '', rawPath);
}
