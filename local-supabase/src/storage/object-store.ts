// Buckets and objects as Supabase Storage's storage layer keeps them (supabase/storage
// src/storage/object.ts, uploader.ts): rows in storage.buckets and storage.objects, read and
// written under the caller's RLS, and each object version's bytes in a BlobStore. No HTTP here:
// the route handlers (routes.ts) turn requests into these calls.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Pool, PoolClient } from 'pg';
import type { Context } from '../context';
import { decodeJwt, signJwt, type Claims } from '../jwt';
import { BlobStore } from './blobs';
import { asCaller, ownerOf, type Caller } from './caller';
import { accessDenied, entityTooLarge, invalidJwt, invalidSignature, keyAlreadyExists, noSuchBucket, noSuchKey, rlsDenied } from './errors';
import { checkKey, isEmptyFolder } from './keys';
import type { ObjectMetadata } from './render';
import { checkMimeType, type UploadSource } from './upload-source';

/** Self-hosted Storage's global FILE_SIZE_LIMIT, which also caps buckets without a limit. */
const GLOBAL_FILE_SIZE_LIMIT = 50 * 1024 * 1024;
export const SORT_COLUMNS = ['name', 'updated_at', 'created_at', 'last_accessed_at'] as const;
const SELECT_OBJECT = 'select name, version, metadata from storage.objects where bucket_id = $1 and name = $2';

export interface Bucket {
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

/** What a read serves: the file of the object's current version and how to describe it. */
export interface StoredObject {
  file: string;
  metadata: ObjectMetadata | null;
}

export interface ListQuery {
  /** Empty, or ending in `/`. */
  prefix: string;
  search: string;
  limit: number;
  offset: number;
  column: (typeof SORT_COLUMNS)[number];
  order: 'asc' | 'desc';
}

export function isSortColumn(column: unknown): column is ListQuery['column'] {
  return SORT_COLUMNS.includes(column as ListQuery['column']);
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

/** LIKE pattern matching `text` literally at the start of a value. */
function startsWithPattern(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}

export class ObjectStore {
  private readonly blobs: BlobStore;

  constructor(private readonly ctx: Context) {
    this.blobs = new BlobStore(ctx.storageDir);
  }

  async findBucket(id: string): Promise<Bucket> {
    const bucket = (
      await this.ctx.admin.query<Bucket>('select id, public, file_size_limit, allowed_mime_types from storage.buckets where id = $1', [id])
    ).rows[0];
    if (!bucket) throw noSuchBucket();
    return bucket;
  }

  /** An object of a public bucket, which anyone may read. */
  async publicObject(bucketId: string, key: string): Promise<StoredObject> {
    const bucket = await this.findBucket(bucketId);
    if (!bucket.public) throw noSuchBucket();
    return this.stored(bucket.id, await this.findObject(this.ctx.admin, bucket.id, key));
  }

  /** An object as `caller` may read it: a public bucket's freely, a private one's under RLS. */
  async callerObject(caller: Caller, req: IncomingMessage, bucketId: string, key: string): Promise<StoredObject> {
    const bucket = await this.findBucket(bucketId);
    if (!bucket.public && !caller.authenticated) throw noSuchBucket();
    const row = bucket.public
      ? await this.findObject(this.ctx.admin, bucket.id, key)
      : await asCaller(this.ctx, caller, req, 'storage.object.get', (db) => this.findObject(db, bucket.id, key));
    return this.stored(bucket.id, row);
  }

  /** An object named by a signed URL's token, which grants the read by itself. */
  async signedObject(token: string, bucket: string, key: string): Promise<StoredObject> {
    let claims: Claims;
    try {
      claims = decodeJwt(token, this.ctx.jwtSecret);
    } catch (err) {
      throw invalidJwt((err as Error).message);
    }
    // Exact expiry, without the clock-skew allowance access tokens get: a URL signed for one
    // second must stop working after that second.
    if (typeof claims.exp !== 'number' || Math.floor(Date.now() / 1000) >= claims.exp) throw invalidJwt('jwt expired');
    const forDownload = claims.scope === 'download' || (claims.scope === undefined && claims.upsert === undefined);
    if (!forDownload) throw invalidJwt('jwt scope is not download');
    if (claims.url !== `${bucket}/${key}`) throw invalidSignature();
    return this.stored(bucket, await this.findObject(this.ctx.admin, bucket, key));
  }

  /** A download URL for one object the caller can see, valid for `expiresIn` seconds. */
  async signUrl(caller: Caller, req: IncomingMessage, bucket: string, key: string, expiresIn: number): Promise<string> {
    await asCaller(this.ctx, caller, req, 'storage.object.sign', (db) => this.findObject(db, bucket, key));
    return this.signedUrl(bucket, key, expiresIn);
  }

  /** Download URLs for each of `paths`; undefined for those the caller cannot see. */
  async signUrls(caller: Caller, req: IncomingMessage, bucket: string, paths: string[], expiresIn: number) {
    const visible = await asCaller(this.ctx, caller, req, 'storage.object.sign', async (db) => {
      const rows = await db.query<{ name: string }>('select name from storage.objects where bucket_id = $1 and name = any($2::text[])', [
        bucket,
        paths,
      ]);
      return new Set(rows.rows.map((r) => r.name));
    });
    return paths.map((path) => (visible.has(path) ? this.signedUrl(bucket, path, expiresIn) : undefined));
  }

  /**
   * Stores an upload's bytes under `key` and records the object, as the caller: the bucket's type
   * and size rules and its RLS policies decide, and a refused upload leaves no row and no byte.
   */
  async upload(caller: Caller, req: IncomingMessage, bucket: Bucket, key: string, source: UploadSource, upsert: boolean) {
    const tempFile = this.blobs.tempFile();
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
      const file = this.blobs.file(bucket.id, key, version);
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
      await asCaller(this.ctx, caller, req, 'storage.object.upload', async (db) => {
        await db.query('savepoint permission_check');
        await insertAsCaller(db, source.declaredLength ?? null);
        await db.query('rollback to savepoint permission_check');
      });
      const saved = await this.blobs.save(source.body, limit, tempFile);
      const recorded = await asCaller(this.ctx, caller, req, 'storage.object.upload', async (db) => {
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
        await this.blobs.place(tempFile, file);
        return row;
      });
      if (recorded.previous_version !== version) await this.discardVersion(bucket.id, key, recorded.previous_version);
      return recorded.id;
    } catch (err) {
      source.discard();
      if (placedFile) await this.blobs.remove(placedFile);
      throw err;
    } finally {
      await this.blobs.remove(tempFile);
    }
  }

  /** One level below the prefix: deeper objects collapse into their first folder, which has no id, timestamps or metadata. */
  async list(caller: Caller, req: IncomingMessage, bucket: string, query: ListQuery) {
    return asCaller(
      this.ctx,
      caller,
      req,
      'storage.object.list',
      async (db) =>
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
           select * from entries order by ${query.column} ${query.order}, name limit $4 offset $5`,
            [bucket, query.prefix, startsWithPattern(query.prefix + query.search), query.limit, query.offset],
          )
        ).rows,
    );
  }

  /** Deletes the named objects the caller may delete; returns their rows. */
  async removeMany(caller: Caller, req: IncomingMessage, bucket: string, names: string[]) {
    const deleted = await asCaller(
      this.ctx,
      caller,
      req,
      'storage.object.delete_many',
      async (db) =>
        (await db.query('delete from storage.objects where bucket_id = $1 and name = any($2::text[]) returning *', [bucket, names])).rows,
    );
    for (const row of deleted) await this.discardVersion(bucket, row.name, row.version);
    return deleted;
  }

  async remove(caller: Caller, req: IncomingMessage, bucket: string, key: string): Promise<void> {
    const deleted = await asCaller(
      this.ctx,
      caller,
      req,
      'storage.object.delete',
      async (db) =>
        (
          await db.query<{ name: string; version: string | null }>(
            'delete from storage.objects where bucket_id = $1 and name = $2 returning name, version',
            [bucket, key],
          )
        ).rows[0],
    );
    if (!deleted) {
      // Tell a missing object from one the caller may not delete, as Supabase does.
      await this.findObject(this.ctx.admin, bucket, key);
      throw accessDenied('Access denied');
    }
    await this.discardVersion(bucket, deleted.name, deleted.version);
  }

  private async findObject(db: Pool | PoolClient, bucket: string, key: string): Promise<ObjectRow> {
    const row = (await db.query<ObjectRow>(SELECT_OBJECT, [bucket, key])).rows[0];
    if (!row) throw noSuchKey();
    return row;
  }

  private stored(bucket: string, row: ObjectRow): StoredObject {
    if (!row.version) throw noSuchKey();
    return { file: this.blobs.file(bucket, row.name, row.version), metadata: row.metadata };
  }

  private signedUrl(bucket: string, key: string, expiresIn: number): string {
    const iat = Math.floor(Date.now() / 1000);
    const token = signJwt({ url: `${bucket}/${key}`, scope: 'download', iat, exp: iat + expiresIn }, this.ctx.jwtSecret);
    return `/object/sign/${bucket}/${key}?token=${token}`;
  }

  /** Deletes the bytes of a version the database no longer references; the request already succeeded. */
  private async discardVersion(bucket: string, name: string, version: string | null): Promise<void> {
    if (!version) return;
    try {
      await this.blobs.remove(this.blobs.file(bucket, name, version));
    } catch (err) {
      this.ctx.log(`storage: could not delete ${bucket}/${name} version ${version}: ${(err as Error).message}`);
    }
  }
}
