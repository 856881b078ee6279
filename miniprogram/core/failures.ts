// How the outbox reads a failed send: the same message sent again could succeed (network,
// server trouble), must wait for the rate limit, already succeeded (duplicate client_id), or was
// refused for good. Codes decide first, since one HTTP status carries many meanings; the status
// decides the rest.
import { t, type MessageId } from './messages';
import type { BackendFailure } from './ports';

export type Verdict =
  | { kind: 'duplicate' }
  | { kind: 'transient' }
  /** The rate limit: the same message goes through once the user's window has room again. */
  | { kind: 'throttled' }
  | { kind: 'rejected'; reason: string };

type Decision = Exclude<Verdict, { kind: 'rejected' }> | { kind: 'rejected'; reason: MessageId };

const DUPLICATE: Decision = { kind: 'duplicate' };
const TRANSIENT: Decision = { kind: 'transient' };
const THROTTLED: Decision = { kind: 'throttled' };
const rejected = (reason: MessageId): Decision => ({ kind: 'rejected', reason });

/** Backend codes that decide by themselves, whatever HTTP status carries them. */
const BY_CODE = new Map<string, Decision>([
  // This exact row (unique client_id) or storage object is already stored.
  ['23505', DUPLICATE],
  ['Duplicate', DUPLICATE],
  // The messages trigger's rate limit (supabase/migrations: private.check_message).
  ['PT429', THROTTLED],
  // Serialization failure and deadlock: Postgres asks the client to run the transaction again.
  ['40001', TRANSIENT],
  ['40P01', TRANSIENT],
  // PostgREST's JWT errors: the session expired mid-flight; supabase-js refreshes it, so resend.
  ['PGRST301', TRANSIENT],
  ['PGRST303', TRANSIENT],
  ['23514', rejected('sendRejectedRule')],
  ['42501', rejected('sendNoPermission')],
  ['file_unreadable', rejected('imageFileMissing')],
]);

function byStatus(status: number): Decision {
  // 0: no answer at all (network down, connection cut); 408 and 5xx: the server may answer next time.
  if (status === 0 || status === 408 || status >= 500) return TRANSIENT;
  if (status === 429) return THROTTLED;
  if (status === 401 || status === 403) return rejected('sendNoPermission');
  if (status === 413) return rejected('imageTooLarge');
  if (status === 415) return rejected('imageTypeUnsupported');
  return rejected('sendFailed');
}

export function classifyFailure({ status, code }: BackendFailure): Verdict {
  const decision = BY_CODE.get(code) || byStatus(status);
  return decision.kind === 'rejected' ? { kind: 'rejected', reason: t(decision.reason) } : decision;
}
