// /storage/v1: the Supabase Storage subset the app uses — upload (raw and multipart), public,
// authenticated and signed downloads, signed URLs, list and remove — with the caller's RLS on
// storage.objects deciding, bucket limits enforced, and the bytes kept under ctx.storageDir.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool, PoolClient } from 'pg';
import type { Context, Product } from '../context';
import { BodyTooLarge, CORS_HEADERS, parseJson, readBody, sendJson } from '../http';
import { decodeJwt, signJwt, type Claims } from '../jwt';
import { BlobStore } from './blobs';
import { asCaller, identify, ownerOf } from './caller';
import {
  accessDenied,
  entityTooLarge,
  internalError,
  invalidJwt,
  invalidKey,
  invalidRequest,
  invalidSignature,
  keyAlreadyExists,
  noSuchBucket,
  noSuchKey,
  rlsDenied,
  routeNotFound,
  StorageError,
} from './errors';
import { render, type ObjectMetadata } from './render';
import { checkMimeType, uploadSource } from './upload-source';

/** Self-hosted Storage's global FILE_SIZE_LIMIT, which also caps buckets without a limit. */
const GLOBAL_FILE_SIZE_LIMIT = 50 * 1024 * 1024;
/** Supabase Storage's key alphabet (`src/storage/limits.ts`). */
const KEY_CHARACTERS = /^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$/;
/** Longest file name most filesystems accept; a longer key segment could not be stored. */
const MAX_SEGMENT_BYTES = 255;
const MAX_PATHS_PER_REQUEST = 1000;
const SORT_COLUMNS = ['name', 'updated_at', 'created_at', 'last_accessed_at'];
const NOT_ACCESSIBLE = 'Either the object does not exist or you do not have access to it';

interface Bucket {
  id: string;
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
}

interface ObjectRow {
  name: string;
  version: string | null;
  metadata: ObjectMetadata | null;
}

/** The `{bucket}` and `{path}` of a route, percent-decoded exactly once. */
interface Target {
  bucket: string;
  key?: string;
}

type Route = 'public' | 'authenticated' | 'sign' | 'list' | 'object';
const NAMED_ROUTES: Route[] = ['public', 'authenticated', 'sign', 'list'];

/**
 * Splits the raw request path (before any URL normalisation, so `..` and `%2e%2e` reach the key
 * checks instead of being silently resolved) into a route and its target.
 */
function parseObjectPath(rawPath: string): { route: Route; target: Target } | undefined {
  if (!rawPath.startsWith('/object/')) return undefined;
  let rest = rawPath.slice('/object/'.length);
  let route: Route = 'object';
  const first = rest.split('/', 1)[0] as Route;
  if (NAMED_ROUTES.includes(first) && rest.includes('/')) {
    route = first;
    rest = rest.slice(first.length + 1);
  }
  const slash = rest.indexOf('/');
  const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
  const rawKey = slash < 0 ? undefined : rest.slice(slash + 1);
  let bucket: string;
  try {
    bucket = decodeURIComponent(rawBucket);
  } catch {
    throw noSuchBucket();
  }
  // Postgres text cannot hold NUL: such a name can exist nowhere.
  if (bucket.includes('\0')) throw noSuchBucket();
  if (rawKey === undefined) return { route, target: { bucket } };
  let key: string;
  try {
    key = decodeURIComponent(rawKey);
  } catch {
    throw invalidKey(rawKey);
  }
  if (key.includes('\0')) throw invalidKey(key);
  return { route, target: { bucket, key } };
}

/** A key Supabase Storage treats as a folder marker (src/storage/limits.ts, isEmptyFolder). */
function isEmptyFolder(key: string): boolean {
  return key.endsWith('.emptyFolderPlaceholder');
}

/** Supabase's key rule, plus what a key must not be to name a file: empty, `.` or `..` segments. */
function checkKey(key: string): void {
  const segments = key.split('/');
  const valid =
    KEY_CHARACTERS.test(key) &&
    segments.every((s) => s !== '' && s !== '.' && s !== '..' && Buffer.byteLength(s) <= MAX_SEGMENT_BYTES);
  if (!valid) throw invalidKey(key);
}

function dbError(err: unknown): unknown {
  switch ((err as { code?: string }).code) {
    case '42501':
      return rlsDenied();
    case '23505':
      return keyAlreadyExists();
    case '23503':
      return noSuchBucket();
    default:
      return err;
  }
}

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

/** LIKE pattern matching `text` literally at the start of a value. */
function startsWithPattern(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}

const SELECT_OBJECT = 'select name, version, metadata from storage.objects where bucket_id = $1 and name = $2';

export function createStorage(ctx: Context): Product {
  const blobs = new BlobStore(ctx.storageDir);

  async function findBucket(id: string): Promise<Bucket> {
    const bucket = (
      await ctx.admin.query<Bucket>(
        'select id, public, file_size_limit, allowed_mime_types from storage.buckets where id = $1',
        [id],
      )
    ).rows[0];
    if (!bucket) throw noSuchBucket();
    return bucket;
  }

  async function findObject(db: Pool | PoolClient, bucket: string, key: string): Promise<ObjectRow> {
    const row = (await db.query<ObjectRow>(SELECT_OBJECT, [bucket, key])).rows[0];
    if (!row) throw noSuchKey();
    return row;
  }

  function objectFile(bucket: string, row: ObjectRow): string {
    if (!row.version) throw noSuchKey();
    return blobs.file(bucket, row.name, row.version);
  }

  /** Deletes the bytes of a version the database no longer references; the request already succeeded. */
  async function discardVersion(bucket: string, name: string, version: string | null): Promise<void> {
    if (!version) return;
    try {
      await blobs.remove(blobs.file(bucket, name, version));
    } catch (err) {
      ctx.log(`storage: could not delete ${bucket}/${name} version ${version}: ${(err as Error).message}`);
    }
  }

  async function jsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
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

  async function upload(req: IncomingMessage, res: ServerResponse, bucketId: string, key: string, upsert: boolean) {
    const caller = identify(req, ctx.jwtSecret, false);
    const bucket = await findBucket(bucketId);
    const source = await uploadSource(req);
    const tempFile = blobs.tempFile();
    let placedFile: string | undefined;
    try {
      // A folder placeholder skips the type rule, so it may hold nothing at all (supabase/storage
      // src/storage/uploader.ts fileUploadFromRequest: its size limit is 0).
      const placeholder = isEmptyFolder(key);
      if (!placeholder) checkMimeType(source.mimeType, bucket.allowed_mime_types);
      const limit = placeholder ? 0 : Math.min(bucket.file_size_limit ?? GLOBAL_FILE_SIZE_LIMIT, GLOBAL_FILE_SIZE_LIMIT);
      if (source.declaredLength !== undefined && source.declaredLength > limit) throw entityTooLarge();
      checkKey(key);
      const version = randomUUID();
      const file = blobs.file(bucket.id, key, version);
      const { owner, ownerId } = ownerOf(caller);
      // The caller's own insert is the permission check: the bucket's policies accept or refuse
      // it before a byte is stored. An upsert's update path is checked against the UPDATE and
      // SELECT policies, which is why it returns the row as Supabase's does.
      const insertAsCaller = (db: PoolClient, contentLength: number | null) =>
        db
          .query(
            `insert into storage.objects (id, bucket_id, name, owner, owner_id, metadata, version)
             values ($1, $2, $3, $4, $5, $6, $7)` +
              (upsert
                ? ` on conflict (bucket_id, name) do update
                      set owner = excluded.owner, owner_id = excluded.owner_id, metadata = excluded.metadata
                    returning *`
                : ''),
            [randomUUID(), bucket.id, key, owner, ownerId, { mimetype: source.mimeType, contentLength }, version],
          )
          .catch((err) => {
            throw dbError(err);
          });
      // Checked once before the body is read, in a transaction that keeps nothing, so a refused
      // upload stores no byte; the body then streams with no connection held, because a slow
      // (or hostile) client must not pin one of the pool's connections for minutes.
      await asCaller(ctx, caller, req, 'storage.object.upload', async (db) => {
        await db.query('savepoint permission_check');
        await insertAsCaller(db, source.declaredLength ?? null);
        await db.query('rollback to savepoint permission_check');
      });
      const saved = await blobs.save(source.body, limit, tempFile);
      const recorded = await asCaller(ctx, caller, req, 'storage.object.upload', async (db) => {
        await insertAsCaller(db, saved.size);
        // Recording size and hash is the server's bookkeeping (Supabase does it as superuser): the
        // caller was authorised above and may have no UPDATE policy. The subquery still sees the
        // version the row had before this statement, i.e. the one an upsert replaced.
        await db.query(`select set_config('role', 'service_role', true)`);
        const metadata: ObjectMetadata = {
          eTag: `"${saved.md5}"`,
          size: saved.size,
          mimetype: source.mimeType,
          cacheControl: source.cacheControl,
          lastModified: new Date().toISOString(),
          contentLength: saved.size,
          httpStatusCode: 200,
        };
        const row = (
          await db.query<{ id: string; previous_version: string | null }>(
            `update storage.objects o set version = $3, metadata = $4
               from (select id, version from storage.objects where bucket_id = $1 and name = $2) previous
              where o.id = previous.id
              returning o.id, previous.version as previous_version`,
            [bucket.id, key, version, metadata],
          )
        ).rows[0];
        placedFile = file;
        await blobs.place(tempFile, file);
        return row;
      });
      if (recorded.previous_version !== version) await discardVersion(bucket.id, key, recorded.previous_version);
      sendJson(res, 200, { Id: recorded.id, Key: `${bucket.id}/${key}` });
    } catch (err) {
      source.discard();
      if (placedFile) await blobs.remove(placedFile);
      throw err;
    } finally {
      await blobs.remove(tempFile);
    }
  }

  async function readPublic(req: IncomingMessage, res: ServerResponse, bucketId: string, key: string) {
    const bucket = await findBucket(bucketId);
    if (!bucket.public) throw noSuchBucket();
    const row = await findObject(ctx.admin, bucket.id, key);
    await render(req, res, objectFile(bucket.id, row), row.metadata);
  }

  async function readAsCaller(req: IncomingMessage, res: ServerResponse, target: Required<Target>, tolerant: boolean) {
    const caller = identify(req, ctx.jwtSecret, tolerant);
    const bucket = await findBucket(target.bucket);
    if (!bucket.public && !caller.authenticated) throw noSuchBucket();
    // A public bucket's objects are readable by anyone anyway; a private one's only under RLS.
    const row = bucket.public
      ? await findObject(ctx.admin, bucket.id, target.key)
      : await asCaller(ctx, caller, req, 'storage.object.get', (db) => findObject(db, bucket.id, target.key));
    await render(req, res, objectFile(bucket.id, row), row.metadata);
  }

  function signedUrl(bucket: string, key: string, expiresIn: number): string {
    const iat = Math.floor(Date.now() / 1000);
    const token = signJwt({ url: `${bucket}/${key}`, scope: 'download', iat, exp: iat + expiresIn }, ctx.jwtSecret);
    return `/object/sign/${bucket}/${key}?token=${token}`;
  }

  async function sign(req: IncomingMessage, res: ServerResponse, target: Required<Target>) {
    const caller = identify(req, ctx.jwtSecret, false);
    const expiresIn = wholeNumber((await jsonObject(req)).expiresIn, 'expiresIn');
    await asCaller(ctx, caller, req, 'storage.object.sign', (db) => findObject(db, target.bucket, target.key));
    sendJson(res, 200, { signedURL: signedUrl(target.bucket, target.key, expiresIn) });
  }

  async function signMany(req: IncomingMessage, res: ServerResponse, bucket: string) {
    const caller = identify(req, ctx.jwtSecret, false);
    const body = await jsonObject(req);
    const expiresIn = wholeNumber(body.expiresIn, 'expiresIn');
    const paths = stringList(body.paths, 'paths');
    const visible = await asCaller(ctx, caller, req, 'storage.object.sign', async (db) => {
      const rows = await db.query<{ name: string }>(
        'select name from storage.objects where bucket_id = $1 and name = any($2::text[])',
        [bucket, paths],
      );
      return new Set(rows.rows.map((r) => r.name));
    });
    sendJson(
      res,
      200,
      paths.map((path) =>
        visible.has(path)
          ? { error: null, path, signedURL: signedUrl(bucket, path, expiresIn) }
          : { error: NOT_ACCESSIBLE, path, signedURL: null },
      ),
    );
  }

  async function readSigned(req: IncomingMessage, res: ServerResponse, target: Required<Target>, url: URL) {
    const token = url.searchParams.get('token');
    if (!token) throw invalidRequest("querystring must have required property 'token'");
    let claims: Claims;
    try {
      claims = decodeJwt(token, ctx.jwtSecret);
    } catch (err) {
      throw invalidJwt((err as Error).message);
    }
    // Exact expiry, without the clock-skew allowance access tokens get: a URL signed for one
    // second must stop working after that second.
    if (typeof claims.exp !== 'number' || Math.floor(Date.now() / 1000) >= claims.exp) throw invalidJwt('jwt expired');
    const forDownload = claims.scope === 'download' || (claims.scope === undefined && claims.upsert === undefined);
    if (!forDownload) throw invalidJwt('jwt scope is not download');
    if (claims.url !== `${target.bucket}/${target.key}`) throw invalidSignature();
    const row = await findObject(ctx.admin, target.bucket, target.key);
    await render(req, res, objectFile(target.bucket, row), row.metadata);
  }

  async function list(req: IncomingMessage, res: ServerResponse, bucket: string) {
    const caller = identify(req, ctx.jwtSecret, false);
    const body = await jsonObject(req);
    if (!isText(body.prefix)) throw invalidRequest("body must have required property 'prefix'");
    const prefix = body.prefix === '' || body.prefix.endsWith('/') ? body.prefix : `${body.prefix}/`;
    const search = body.search === undefined ? '' : body.search;
    if (!isText(search)) throw invalidRequest('body/search must be a string');
    const limit = wholeNumber(body.limit, 'limit', 100);
    const offset = wholeNumber(body.offset, 'offset', 0, 0);
    const sortBy = (body.sortBy ?? {}) as { column?: unknown; order?: unknown };
    const column = sortBy.column ?? 'name';
    const order = typeof sortBy.order === 'string' ? sortBy.order.toLowerCase() : 'asc';
    if (typeof column !== 'string' || !SORT_COLUMNS.includes(column) || !['asc', 'desc'].includes(order)) {
      throw invalidRequest(`body/sortBy must have a column in ${SORT_COLUMNS.join(', ')} and order asc or desc`);
    }
    // One level below the prefix: deeper objects collapse into their first folder, which has no
    // id, timestamps or metadata.
    const entries = await asCaller(ctx, caller, req, 'storage.object.list', async (db) =>
      (
        await db.query(
          `with matched as (
             select substr(name, char_length($2::text) + 1) as rest, id, updated_at, created_at, last_accessed_at, metadata
               from storage.objects
              where bucket_id = $1 and name ilike $3
           ), entries as (
             select distinct split_part(rest, '/', 1) as name, null::uuid as id, null::timestamptz as updated_at,
                    null::timestamptz as created_at, null::timestamptz as last_accessed_at, null::jsonb as metadata
               from matched where strpos(rest, '/') > 0
             union all
             select rest, id, updated_at, created_at, last_accessed_at, metadata from matched where strpos(rest, '/') = 0
           )
           select * from entries order by ${column} ${order}, name limit $4 offset $5`,
          [bucket, prefix, startsWithPattern(prefix + search), limit, offset],
        )
      ).rows,
    );
    sendJson(res, 200, entries);
  }

  async function removeMany(req: IncomingMessage, res: ServerResponse, bucket: string) {
    const caller = identify(req, ctx.jwtSecret, false);
    const names = stringList((await jsonObject(req)).prefixes, 'prefixes');
    const deleted = await asCaller(ctx, caller, req, 'storage.object.delete_many', async (db) =>
      (
        await db.query(
          'delete from storage.objects where bucket_id = $1 and name = any($2::text[]) returning *',
          [bucket, names],
        )
      ).rows,
    );
    for (const row of deleted) await discardVersion(bucket, row.name, row.version);
    sendJson(res, 200, deleted);
  }

  async function removeOne(req: IncomingMessage, res: ServerResponse, target: Required<Target>) {
    const caller = identify(req, ctx.jwtSecret, false);
    const deleted = await asCaller(ctx, caller, req, 'storage.object.delete', async (db) =>
      (
        await db.query<{ name: string; version: string | null }>(
          'delete from storage.objects where bucket_id = $1 and name = $2 returning name, version',
          [target.bucket, target.key],
        )
      ).rows[0],
    );
    if (!deleted) {
      // Tell a missing object from one the caller may not delete, as Supabase does.
      await findObject(ctx.admin, target.bucket, target.key);
      throw accessDenied('Access denied');
    }
    await discardVersion(target.bucket, deleted.name, deleted.version);
    sendJson(res, 200, { message: 'Successfully deleted' });
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, rawPath: string, url: URL) {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const parsed = parseObjectPath(rawPath);
    if (!parsed) throw routeNotFound(req.method ?? '', rawPath);
    const { route, target } = parsed;
    const key = target.key;
    if (key === undefined) {
      if (method === 'POST' && route === 'sign') return signMany(req, res, target.bucket);
      if (method === 'POST' && route === 'list') return list(req, res, target.bucket);
      if (method === 'DELETE' && route === 'object') return removeMany(req, res, target.bucket);
      throw routeNotFound(req.method ?? '', rawPath);
    }
    const withKey = { bucket: target.bucket, key };
    switch (`${method} ${route}`) {
      case 'GET public':
        return readPublic(req, res, target.bucket, key);
      case 'GET authenticated':
        return readAsCaller(req, res, withKey, false);
      case 'GET object':
        return readAsCaller(req, res, withKey, true);
      case 'GET sign':
        return readSigned(req, res, withKey, url);
      case 'POST sign':
        return sign(req, res, withKey);
      case 'POST object':
        return upload(req, res, target.bucket, key, req.headers['x-upsert'] === 'true');
      case 'PUT object':
        return upload(req, res, target.bucket, key, true);
      case 'DELETE object':
        return removeOne(req, res, withKey);
      default:
        throw routeNotFound(req.method ?? '', rawPath);
    }
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown) {
    const failure = err instanceof StorageError ? err : internalError();
    if (!(err instanceof StorageError)) ctx.log(`storage: ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
    if (res.headersSent) return void res.destroy();
    if (req.method === 'HEAD') {
      res.writeHead(failure.httpStatus, { ...CORS_HEADERS, 'content-length': '0' });
      return void res.end();
    }
    sendJson(res, failure.httpStatus, failure.body());
  }

  return {
    async handle(req, res, _path, url) {
      const rawPath = (req.url ?? '').split('?')[0];
      try {
        // The gateway matched the normalised path; the raw one may still differ (e.g. "x/../").
        if (!rawPath.startsWith('/storage/v1/')) throw routeNotFound(req.method ?? '', rawPath);
        await dispatch(req, res, rawPath.slice('/storage/v1'.length), url);
      } catch (err) {
        fail(req, res, err);
      }
    },
  };
}
