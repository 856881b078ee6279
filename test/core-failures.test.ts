// How a failed send is read, as one table over HTTP statuses and backend codes: what may be sent
// again, what waits for the rate limit, what already landed, and what was refused (with the
// sentence the user reads). The statuses and codes are those PostgREST (Error.hs), Supabase
// Storage and the messages trigger answer with.
import { classifyFailure, type Verdict } from '../miniprogram/core/failures';
import { zh } from '../miniprogram/core/strings';
import { BackendFailure } from '../miniprogram/core/ports';

const transient: Verdict = { kind: 'transient' };
const throttled: Verdict = { kind: 'throttled' };
const duplicate: Verdict = { kind: 'duplicate' };
const rejected = (reason: string): Verdict => ({ kind: 'rejected', reason });

test.each<[string, number, string, Verdict]>([
  // Nothing came back, or the server may answer next time.
  ['no answer (network down, connection cut)', 0, '', transient],
  ['an upload cancelled by stop()', 0, 'cancelled', transient],
  ['request timeout', 408, '', transient],
  ['a plain 500', 500, '', transient],
  ['serialization failure, as PostgREST maps class 40', 500, '40001', transient],
  ['serialization failure under any other status', 409, '40001', transient],
  ['deadlock', 500, '40P01', transient],
  ['bad gateway', 502, '', transient],
  ['PostgREST without a database connection', 503, 'PGRST001', transient],
  ['gateway timeout', 504, '', transient],
  ['a CDN error page', 520, '', transient],
  ['JWT expired mid-flight (claims check)', 401, 'PGRST303', transient],
  ['JWT refused mid-flight', 401, 'PGRST301', transient],
  // The rate limit: wait, then the same message goes.
  ['the messages trigger’s rate limit', 429, 'PT429', throttled],
  ['a 429 without a code (a gateway’s limit)', 429, '', throttled],
  // Already stored: an earlier attempt landed and lost its answer.
  ['duplicate client_id', 409, '23505', duplicate],
  ['storage object already there', 409, 'Duplicate', duplicate],
  // Refused for good: the user reads why.
  ['a CHECK constraint', 400, '23514', rejected(zh.sendRejectedRule)],
  ['RLS, signed in', 403, '42501', rejected(zh.sendNoPermission)],
  ['privilege, anonymous role', 401, '42501', rejected(zh.sendNoPermission)],
  ['storage refusing the token', 401, '', rejected(zh.sendNoPermission)],
  ['storage policy', 403, 'Unauthorized', rejected(zh.sendNoPermission)],
  ['image too large', 413, '413', rejected(zh.imageTooLarge)],
  ['image type refused', 415, 'invalid_mime_type', rejected(zh.imageTypeUnsupported)],
  ['the picked file is gone', 400, 'file_unreadable', rejected(zh.imageFileMissing)],
  ['the room is gone (foreign key)', 409, '23503', rejected(zh.sendFailed)],
  ['not found', 404, '', rejected(zh.sendFailed)],
  ['an unknown column', 400, 'PGRST204', rejected(zh.sendFailed)],
  ['the last 4xx', 499, '', rejected(zh.sendFailed)],
  ['a code naming an Object member decides nothing', 400, 'constructor', rejected(zh.sendFailed)],
  ['nor does toString, under a 5xx', 503, 'toString', transient],
])('%s (%i %s)', (_label, status, code, verdict) => {
  expect(classifyFailure(new BackendFailure(status, code, 'message'))).toEqual(verdict);
});
