// Where an upload's bytes and their description come from: a raw body (storage-js with an
// ArrayBuffer/Buffer, the mini program through wx.request) or a multipart form (storage-js with a
// Blob: file part with an empty field name; wx.uploadFile: a named file field plus form fields).
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { invalidMimeType, invalidRequest } from './errors';

export interface UploadSource {
  body: Readable;
  mimeType: string;
  cacheControl: string;
  /** The body size the client announced, when it announced one (raw bodies only). */
  declaredLength?: number;
  /** Reads and discards the body, for when the upload is refused before its bytes are used. */
  discard(): void;
}

const MULTIPART = /^multipart\/form-data\b/i;
// Form fields are a few short strings; anything bigger is not a Storage upload form.
const FORM_LIMITS = { fields: 32, fieldSize: 64 * 1024, files: 1, parts: 64 };

export function uploadSource(req: IncomingMessage): Promise<UploadSource> {
  const contentType = req.headers['content-type'] ?? '';
  if (MULTIPART.test(contentType)) return multipartSource(req);
  const declared = req.headers['content-length'];
  return Promise.resolve({
    body: req,
    mimeType: contentType || 'application/octet-stream',
    cacheControl: headerValue(req.headers['cache-control']) ?? 'no-cache',
    declaredLength: declared === undefined ? undefined : Number(declared),
    // Node drops an unread request body itself once the response is finished.
    discard: () => undefined,
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value || undefined;
}

/**
 * Resolves at the first file part, with the form fields sent before it, as Supabase Storage does
 * (fields after the file are not seen). A `contentType` field overrides the part's own type.
 */
function multipartSource(req: IncomingMessage): Promise<UploadSource> {
  return new Promise((resolve, reject) => {
    let form: busboy.Busboy;
    try {
      form = busboy({ headers: req.headers, limits: FORM_LIMITS });
    } catch (err) {
      req.resume();
      return reject(invalidRequest(`invalid multipart body: ${(err as Error).message}`));
    }
    const fields: Record<string, string> = {};
    let found = false;
    form.on('field', (name, value) => {
      fields[name] = value;
    });
    form.on('file', (_name, file, info) => {
      if (found) {
        file.resume();
        return;
      }
      found = true;
      // busboy destroys this stream with an error when the form breaks off (no closing boundary).
      // It may sit unread then (during the permission check, or refused), and an 'error' event
      // with no listener ends the process; the reader finds the error on the stream (errored).
      file.on('error', () => undefined);
      // Both come back as response headers on every read, so they must be valid header values.
      if (!isHeaderValue(fields.contentType ?? '') || !isHeaderValue(fields.cacheControl ?? '')) {
        file.resume();
        return reject(invalidRequest('contentType and cacheControl must be valid HTTP header values'));
      }
      resolve({
        body: file,
        mimeType: fields.contentType || info.mimeType,
        cacheControl: fields.cacheControl ? `max-age=${fields.cacheControl}` : 'no-cache',
        discard: () => file.resume(),
      });
    });
    form.on('close', () => {
      if (!found) reject(invalidRequest('the multipart body has no file part'));
    });
    form.on('error', (err: Error) => {
      // After the file part was handed over, its stream carries the error to the reader.
      if (!found) reject(invalidRequest(`invalid multipart body: ${err.message}`));
      req.unpipe(form);
      req.resume();
    });
    req.pipe(form);
  });
}

/** What Node accepts in a header value: tabs, visible ASCII and Latin-1. */
function isHeaderValue(value: string): boolean {
  return !/[^\t\x20-\x7e\x80-\xff]/.test(value);
}

/** A content type a browser parses as one: `type/subtype`, each an HTTP token, then any parameters. */
const MIME_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*;.*)?$/s;

/**
 * Supabase Storage's rule (supabase/storage src/storage/uploader.ts, validateMimeType): the type
 * as sent, case and parameters included, equals an allowed entry, or its type equals that of an
 * entry `type/*`. Upstream splits on `/` and so also admits types no browser parses
 * (`image/png/x` under `image/png`, `image/` under `image/*`); those come back as Content-Type on
 * every read and would be sniffed, so they are refused here whatever the bucket allows.
 */
export function checkMimeType(mimeType: string, allowed: string[] | null): void {
  if (!allowed || allowed.length === 0) return;
  const type = mimeType.slice(0, mimeType.indexOf('/'));
  const ok = MIME_TYPE.test(mimeType) && allowed.some((entry) => entry === mimeType || entry === `${type}/*`);
  if (!ok) throw invalidMimeType(mimeType);
}
