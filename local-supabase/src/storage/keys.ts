// Where a Storage request points: its route, bucket and key, read from the raw request path, and
// the rules a key must follow before it may name stored bytes.
import { invalidKey, noSuchBucket } from './errors';

/** Supabase Storage's key alphabet (supabase/storage src/storage/limits.ts). */
const KEY_CHARACTERS = /^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$/;
/** Longest file name most filesystems accept; a longer key segment could not be stored. */
const MAX_SEGMENT_BYTES = 255;
/**
 * S3's limit on an object key, under which hosted Supabase Storage keeps its objects. Longer keys
 * also outgrow Postgres's index on storage.objects (2,704 bytes) and a file path (4,096).
 */
export const MAX_KEY_BYTES = 1024;

export type Route = 'public' | 'authenticated' | 'sign' | 'list' | 'object';
const NAMED_ROUTES: Route[] = ['public', 'authenticated', 'sign', 'list'];

/** The `{bucket}` and `{path}` of a route, percent-decoded exactly once. */
export interface Target {
  bucket: string;
  key?: string;
}

/**
 * Splits the raw request path (before any URL normalisation, so `..` and `%2e%2e` reach the key
 * checks instead of being silently resolved) into a route and its target.
 */
export function parseObjectPath(rawPath: string): { route: Route; target: Target } | undefined {
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

/** Supabase's key rule, plus what a key must not be to name a file: empty, `.` or `..` segments. */
export function checkKey(key: string): void {
  const segments = key.split('/');
  const valid =
    KEY_CHARACTERS.test(key) &&
    Buffer.byteLength(key) <= MAX_KEY_BYTES &&
    segments.every((s) => s !== '' && s !== '.' && s !== '..' && Buffer.byteLength(s) <= MAX_SEGMENT_BYTES);
  if (!valid) throw invalidKey(key);
}

/** A key Supabase Storage treats as a folder marker (src/storage/limits.ts, isEmptyFolder). */
export function isEmptyFolder(key: string): boolean {
  return key.endsWith('.emptyFolderPlaceholder');
}
