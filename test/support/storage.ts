// Helpers for the Storage suites: raw HTTP requests (for what supabase-js cannot send, such as
// un-normalised `..` paths or wx.uploadFile's form), the files on disk and the object rows.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type pg from 'pg';
import { superuserQuery, type TestServer } from './server';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given: Node does not normalise `..` or percent-escapes. */
  path: string;
  headers?: Record<string, string>;
  /** One buffer is sent with a content-length; several are sent chunked, without one. */
  body?: Buffer | Buffer[];
}

export function rawRequest(server: TestServer, request: RawRequest): Promise<RawResponse> {
  const headers = { ...request.headers };
  // Node frames a DELETE body only when told its length.
  if (Buffer.isBuffer(request.body)) headers['content-length'] = String(request.body.length);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method: request.method, path: request.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(request.body)) {
      for (const chunk of request.body) req.write(chunk);
      req.end();
    } else {
      req.end(request.body);
    }
  });
}

export function json(response: RawResponse): Record<string, unknown> {
  return JSON.parse(response.body.toString('utf8'));
}

export { multipart, type FormPart } from './multipart';

/** Every regular file under `dir`, relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Every file the server keeps outside Postgres: the storage folder and anything else in the data dir. */
export function filesOutsidePostgres(server: TestServer): string[] {
  return filesUnder(server.dataDir).filter((file) => !file.startsWith(`pg${path.sep}`));
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  server: TestServer,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await superuserQuery<T>(server.dbUrl, text, params)).rows;
}

export interface ObjectRecord {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  version: string;
  metadata: Record<string, unknown>;
}

export async function objectRows(server: TestServer): Promise<ObjectRecord[]> {
  return sql<ObjectRecord>(server, 'select id, bucket_id, name, owner, version, metadata from storage.objects order by name');
}

/**
 * A private bucket whose policies let any signed-in user do anything in it, created as the
 * superuser, for the behaviours the app's bucket forbids (upsert, delete, private reads).
 */
export async function createOpenBucket(
  server: TestServer,
  id: string,
  limits: { fileSizeLimit?: number; allowedMimeTypes?: string[] } = {},
): Promise<void> {
  await sql(server, 'insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types) values ($1, $1, false, $2, $3)', [
    id,
    limits.fileSizeLimit ?? null,
    limits.allowedMimeTypes ?? null,
  ]);
  for (const command of ['select', 'insert', 'update', 'delete']) {
    const check = command === 'insert' ? 'with check' : 'using';
    await sql(server, `create policy "${id} ${command}" on storage.objects for ${command} to authenticated ${check} (bucket_id = '${id}')`);
  }
}

/** Runs `attempt` and checks that it wrote neither a storage.objects row nor a file. */
export async function expectNoWrite(server: TestServer, attempt: () => Promise<void>): Promise<void> {
  const rowsBefore = await objectRows(server);
  const filesBefore = filesOutsidePostgres(server);
  await attempt();
  expect(await objectRows(server)).toEqual(rowsBefore);
  expect(filesOutsidePostgres(server)).toEqual(filesBefore);
}

/** Supabase Storage's refusal: HTTP 400, the semantic status and code in a JSON body. */
export function expectStorageError(res: RawResponse, statusCode: string, code: string): void {
  expect(res.status).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(json(res)).toMatchObject({ statusCode, code, error: expect.any(String), message: expect.any(String) });
}
