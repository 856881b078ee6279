// How the outbox reads a failed send: the same message sent again could succeed (network,
// server trouble), must wait for the rate limit, already succeeded (duplicate client_id), or was
// refused for good. Codes decide first, since one HTTP status carries many meanings; the status
// decides the rest.
import { t, type MessageId } from './strings';
import { asBackendFailure, type BackendFailure } from './ports';

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
  // The database's own refusals (supabase/migrations: *_moderation.sql, *_roleplay.sql).
  ['RCBAN', rejected('sendBanned')],
  ['RCDIC', rejected('sendRejectedRule')],
  ['RCCHR', rejected('sendCharacterBlocked')],
  ['RCSCN', rejected('sendSceneArchived')],
  ['RCRPL', rejected('sendReplyUnavailable')],
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

/** WeChat or Auth asked the app to slow down or try again. */
const BUSY_LOGIN_CODES = ['wechat_busy', 'wechat_unreachable', 'wechat_rate_limited', 'over_request_rate_limit'];
/** Login went wrong in a way a fresh wx.login code may fix. */
const FAILED_LOGIN_CODES = [
  'invalid_code',
  'otp_expired',
  'bad_login_answer',
  'identity_conflict',
  'wechat_misconfigured',
  'auth_unavailable',
];

/**
 * WeChat refused a privacy API (platform/wx-failure.ts): the person declined the 隐私保护指引
 * (errno 104), or the mini program did not declare the API in it (errno 112).
 */
export const PRIVACY_DENIED = 'privacy_denied';
export const PRIVACY_UNDECLARED = 'privacy_undeclared';

/** What a failed WeChat login tells the person, or null when the failure is not the login's. */
export function loginProblem({ code }: BackendFailure): { message: string; final: boolean } | null {
  // WeChat's risk control refuses the person: no retry changes that.
  if (code === 'wechat_high_risk') return { message: t('loginHighRisk'), final: true };
  // A retry would only ask again behind the person's back: stop, and say that retrying shows the
  // consent sheet again (a declined sheet stays declined until then).
  if (code === PRIVACY_DENIED) return { message: t('loginPrivacyDenied'), final: true };
  if (code === PRIVACY_UNDECLARED) return { message: t('loginPrivacyUndeclared'), final: true };
  if (BUSY_LOGIN_CODES.indexOf(code) >= 0) return { message: t('loginBusy'), final: false };
  if (FAILED_LOGIN_CODES.indexOf(code) >= 0) return { message: t('loginFailed'), final: false };
  return null;
}

/**
 * What a failed connect (WeChat login, finding the room, the newest page) tells the person, and
 * whether retrying can help: the session retries everything but a final refusal.
 */
export function connectProblem(failure: BackendFailure, roomSlug: string): { message: string; final: boolean } {
  if (failure.code === 'room_not_found') return { message: t('roomNotFound', { slug: roomSlug }), final: true };
  return loginProblem(failure) || { message: t(failure.status === 0 ? 'connectFailed' : 'loadFailed'), final: false };
}

/** Phone features WeChat guards under its privacy rules. */
export type GuardedFeature = 'image' | 'clipboard';

const FEATURE_PROBLEMS: Record<GuardedFeature, { denied: MessageId; undeclared: MessageId; failed: MessageId }> = {
  image: { denied: 'imagePrivacyDenied', undeclared: 'imagePrivacyUndeclared', failed: 'pickImageFailed' },
  clipboard: { denied: 'copyPrivacyDenied', undeclared: 'copyPrivacyUndeclared', failed: 'copyFailed' },
};

/**
 * What the person reads when picking an image or copying failed (anything thrown by the platform).
 * The code is read off the error rather than checked with instanceof: a page may receive it from
 * services built in another realm (the tests' WeChat realm).
 */
export function featureProblem(feature: GuardedFeature, error: unknown): string {
  const problems = FEATURE_PROBLEMS[feature];
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : '';
  if (code === PRIVACY_DENIED) return t(problems.denied);
  if (code === PRIVACY_UNDECLARED) return t(problems.undeclared);
  return t(problems.failed);
}

/**
 * The sentence for a refused request other than a send (saving a character, opening a scene): the
 * backend's code picks it from `byCode`; no answer at all is the network; anything else `fallback`.
 */
export function requestProblem(error: unknown, byCode: Record<string, string>, fallback: string): string {
  const { status, code } = asBackendFailure(error);
  if (code in byCode) return byCode[code];
  return status === 0 ? t('networkFailed') : fallback;
}
