// Small HTTP helpers shared by the products: bounded body reading, JSON replies, CORS.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export class BodyTooLarge extends Error {}

/** Reads the whole body, refusing (without buffering the rest) once it passes `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume();
      return reject(new BodyTooLarge());
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers':
    'content-range, content-length, content-type, etag, x-supabase-api-version, preference-applied, x-sb-error-code',
};

/** The head of every JSON answer, success or error: CORS, type and length, then the caller's headers. */
function jsonHead(text: string, headers: Record<string, string>): Record<string, string> {
  return {
    ...CORS_HEADERS,
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  };
}

/** The one way a product answers with JSON; each product brings its own body shape. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, jsonHead(text, headers));
  res.end(text);
}

export function sendPreflight(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(204, {
    ...CORS_HEADERS,
    'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '*'),
    'access-control-max-age': '3600',
    'content-length': '0',
  });
  res.end();
}

/**
 * The bearer token of a request: undefined without an `Authorization: Bearer` header, '' when the
 * header names the scheme but no token (wai-extra's extractBearerAuth, which PostgREST uses).
 */
export function bearer(req: IncomingMessage): string | undefined {
  const match = /^(\S*)\s*(.*)$/s.exec(req.headers.authorization ?? '');
  return match && match[1].toLowerCase() === 'bearer' ? match[2] : undefined;
}

/** The body as text; throws on invalid UTF-8 rather than replacing it. */
export function utf8(body: Buffer): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(body);
}

/** Parses a JSON body; `undefined` for an empty body, throws on invalid UTF-8 or JSON. */
export function parseJson(body: Buffer): unknown {
  return body.length === 0 ? undefined : JSON.parse(utf8(body));
}

/**
 * Nesting a body may have when the server parses it and encodes it again (JSON.stringify recurses,
 * as does Postgres's jsonb parser): far beyond any real payload, far inside what either can take.
 */
export const MAX_REENCODED_DEPTH = 512;

/** How deeply arrays and objects nest in valid JSON text. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}

/**
 * Answers on a raw socket (no ServerResponse exists yet: a refused upgrade, a request Node's
 * parser rejected) with a JSON error body, then closes it.
 */
export function endSocket(socket: Duplex, status: number, body: Record<string, string>): void {
  const text = JSON.stringify(body);
  const head = Object.entries(jsonHead(text, { connection: 'close' })).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.join('')}\r\n${text}`);
}
