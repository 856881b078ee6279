// /storage/v1: the Supabase Storage subset the app uses — upload (raw and multipart), public,
// authenticated and signed downloads, signed URLs, list and remove — with the caller's RLS on
// storage.objects deciding, bucket limits enforced, and the bytes kept under ctx.storageDir.
// routes.ts reads requests (supabase/storage src/http/routes), object-store.ts does the work
// (src/storage).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Product } from '../context';
import { CORS_HEADERS, sendJson } from '../http';
import { internalError, routeNotFound, StorageError } from './errors';
import { ObjectStore } from './object-store';
import { dispatch } from './routes';

export function createStorage(ctx: Context): Product {
  const store = new ObjectStore(ctx);

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
        await dispatch(ctx, store, req, res, rawPath.slice('/storage/v1'.length), url);
      } catch (err) {
        fail(req, res, err);
      }
    },
  };
}
