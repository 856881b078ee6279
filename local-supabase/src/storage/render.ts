// Serving an object's bytes as Supabase Storage's renderer does: stored type and cache policy,
// ETag with 304 on If-None-Match, Last-Modified, single byte ranges, HEAD without a body.
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { CORS_HEADERS } from '../http';
import { noSuchKey } from './errors';

export interface ObjectMetadata {
  eTag?: string;
  size?: number;
  mimetype?: string;
  cacheControl?: string;
  lastModified?: string;
  contentLength?: number;
  httpStatusCode?: number;
}

export async function render(req: IncomingMessage, res: ServerResponse, file: string, metadata: ObjectMetadata | null): Promise<void> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw noSuchKey();
    throw err;
  }
  try {
    const size = (await handle.stat()).size;
    const headers: Record<string, string> = {
      ...CORS_HEADERS,
      'content-type': metadata?.mimetype ?? 'application/octet-stream',
      'cache-control': metadata?.cacheControl ?? 'no-cache',
      'accept-ranges': 'bytes',
    };
    if (metadata?.eTag) headers.etag = metadata.eTag;
    if (metadata?.lastModified) headers['last-modified'] = new Date(metadata.lastModified).toUTCString();
    if (metadata?.eTag && etagMatches(req.headers['if-none-match'], metadata.eTag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const range = byteRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' });
      res.end();
      return;
    }
    const [start, end] = range ?? [0, size - 1];
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    headers['content-length'] = String(end - start + 1);
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    await pipeline(handle.createReadStream({ start, end, autoClose: false }), res);
  } finally {
    await handle.close();
  }
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => bare(tag) === '*' || bare(tag) === bare(etag));
}

/** One `bytes=` range, clipped to the file; anything else (several ranges, junk) is ignored. */
function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [start, end] =
    match[1] === ''
      ? [Math.max(size - Number(match[2]), 0), Number(match[2]) === 0 ? -1 : size - 1]
      : [Number(match[1]), match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)];
  return start > end || start >= size ? 'unsatisfiable' : [start, end];
}
