// How the outbox reads a failed send: the same message sent again could succeed (network,
// server trouble), it already succeeded (duplicate client_id), or the server refused it for good.
import { t } from './messages';
import type { BackendFailure } from './ports';

export type Verdict =
  | { kind: 'duplicate' }
  | { kind: 'transient' }
  | { kind: 'rejected'; reason: string };

/** Codes that mean "this exact object or row is already stored". */
const DUPLICATE_CODES = ['23505', 'Duplicate'];
/** PostgREST's JWT errors: the session expired mid-flight; supabase-js refreshes it, so resend. */
const EXPIRED_SESSION_CODES = ['PGRST301', 'PGRST303'];

export function classifyFailure(failure: BackendFailure): Verdict {
  const { status, code } = failure;
  if (DUPLICATE_CODES.indexOf(code) >= 0) return { kind: 'duplicate' };
  if (status === 0 || status === 408 || status >= 500) return { kind: 'transient' };
  if (status === 401 && EXPIRED_SESSION_CODES.indexOf(code) >= 0) return { kind: 'transient' };
  return { kind: 'rejected', reason: rejectionReason(failure) };
}

function rejectionReason({ status, code }: BackendFailure): string {
  if (code === 'PT429' || status === 429) return t('sendRateLimited');
  if (code === 'file_unreadable') return t('imageFileMissing');
  if (code === '23514') return t('sendRejectedRule');
  if (code === '42501' || status === 401 || status === 403) return t('sendNoPermission');
  if (status === 413) return t('imageTooLarge');
  if (status === 415) return t('imageTypeUnsupported');
  return t('sendFailed');
}

/** WeChat or Auth asked the app to slow down or try again. */
const BUSY_LOGIN_CODES = ['wechat_busy', 'wechat_unreachable', 'wechat_rate_limited', 'over_request_rate_limit'];
/** Login went wrong in a way a fresh wx.login code may fix. */
const FAILED_LOGIN_CODES = ['invalid_code', 'otp_expired', 'bad_login_answer', 'identity_conflict', 'wechat_misconfigured', 'auth_unavailable'];

/**
 * What a failed connect (WeChat login, finding the room, the newest page) tells the person, and
 * whether retrying can help: the session retries everything but a final refusal.
 */
export function connectProblem(failure: BackendFailure, roomSlug: string): { message: string; final: boolean } {
  const { status, code } = failure;
  if (code === 'room_not_found') return { message: t('roomNotFound', { slug: roomSlug }), final: true };
  // WeChat's risk control refuses the person: no retry changes that.
  if (code === 'wechat_high_risk') return { message: t('loginHighRisk'), final: true };
  if (BUSY_LOGIN_CODES.indexOf(code) >= 0) return { message: t('loginBusy'), final: false };
  if (FAILED_LOGIN_CODES.indexOf(code) >= 0) return { message: t('loginFailed'), final: false };
  return { message: t(status === 0 ? 'connectFailed' : 'loadFailed'), final: false };
}
