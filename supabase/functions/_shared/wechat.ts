// WeChat's server API (api.weixin.qq.com) as the Edge Functions call it: code2Session for login.
// Plain fetch and no Deno globals, so local-supabase's emulation of MemFire's built-in WeChat login
// exchanges codes with the very same code. WeChat answers HTTP 200 with an `errcode` in the body
// (developers.weixin.qq.com/miniprogram/dev/server/API/user-login/api_code2session.md).

export const WECHAT_API = 'https://api.weixin.qq.com';

export interface WechatApp {
  appid: string;
  secret: string;
  /** `https://api.weixin.qq.com`, or a stand-in such as local-supabase's fake. */
  apiBase: string;
}

/** An errcode from WeChat; `UNREACHABLE` when no answer came back at all. */
export class WechatApiError extends Error {
  static readonly UNREACHABLE = -1000;

  constructor(
    readonly errcode: number,
    errmsg: string,
  ) {
    super(`WeChat errcode ${errcode}: ${errmsg}`);
    this.name = 'WechatApiError';
  }
}

/** WeChat's "system error, retry later". */
const BUSY = -1;

export interface CallOptions {
  /** Further attempts after a busy answer or no answer. */
  retries?: number;
  /** Wait before the first retry; doubles each time. */
  backoffMs?: number;
  /** Per attempt. */
  timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One API call: the JSON answer, or a WechatApiError. Busy answers and dead connections are retried. */
export async function callWechat(
  app: WechatApp,
  path: string,
  init: { query?: Record<string, string>; body?: unknown },
  options: CallOptions = {},
): Promise<Record<string, unknown>> {
  const { retries = 2, backoffMs = 200, timeoutMs = 5000 } = options;
  const url = new URL(path, app.apiBase);
  for (const [key, value] of Object.entries(init.query ?? {})) url.searchParams.set(key, value);
  for (let attempt = 0; ; attempt++) {
    let error: WechatApiError;
    try {
      const response = await fetch(url, {
        method: init.body === undefined ? 'GET' : 'POST',
        headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const answer = (await response.json()) as Record<string, unknown>;
      // A success body may carry errcode 0 or none at all.
      const errcode = typeof answer.errcode === 'number' ? answer.errcode : 0;
      if (errcode === 0) return answer;
      error = new WechatApiError(errcode, String(answer.errmsg ?? ''));
    } catch (caught) {
      if (caught instanceof WechatApiError) throw caught;
      error = new WechatApiError(WechatApiError.UNREACHABLE, (caught as Error).message);
    }
    const retryable = error.errcode === BUSY || error.errcode === WechatApiError.UNREACHABLE;
    if (!retryable || attempt >= retries) throw error;
    await sleep(backoffMs * 2 ** attempt);
  }
}

export interface WechatPerson {
  openid: string;
  unionid?: string;
}

/** code2Session: who the person behind a wx.login code is. The session_key stays on the server. */
export async function personOfCode(app: WechatApp, code: string, options?: CallOptions): Promise<WechatPerson> {
  const answer = await callWechat(
    app,
    '/sns/jscode2session',
    { query: { appid: app.appid, secret: app.secret, js_code: code, grant_type: 'authorization_code' } },
    options,
  );
  if (typeof answer.openid !== 'string' || answer.openid === '') throw new WechatApiError(-2, 'code2Session returned no openid');
  return typeof answer.unionid === 'string' ? { openid: answer.openid, unionid: answer.unionid } : { openid: answer.openid };
}

/** How a failed login reads to the app: an HTTP status and a stable code it can act on. */
export interface LoginRefusal {
  status: number;
  code: 'invalid_code' | 'wechat_high_risk' | 'wechat_rate_limited' | 'wechat_busy' | 'wechat_unreachable' | 'wechat_misconfigured';
  message: string;
}

export function loginRefusal(error: WechatApiError): LoginRefusal {
  switch (error.errcode) {
    case 40029:
    case 41008:
      return { status: 400, code: 'invalid_code', message: 'The wx.login code is invalid, expired or already used' };
    case 40226:
      return { status: 403, code: 'wechat_high_risk', message: 'WeChat flags this account as high-risk; login refused' };
    case 45011:
      return { status: 429, code: 'wechat_rate_limited', message: 'Too many logins for this person; try again in a minute' };
    case BUSY:
      return { status: 503, code: 'wechat_busy', message: 'WeChat is busy; try again' };
    case WechatApiError.UNREACHABLE:
      return { status: 502, code: 'wechat_unreachable', message: `WeChat did not answer: ${error.message}` };
    default:
      return { status: 500, code: 'wechat_misconfigured', message: error.message };
  }
}

// Access token -----------------------------------------------------------------------------------
// getStableAccessToken: repeated calls return the same token while it is valid, so several function
// instances never invalidate each other's token, which getAccessToken's would
// (developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-access-token/getStableAccessToken.html).

/** errcodes that mean "this token no longer works": fetch the current one and try once more. */
const STALE_TOKEN = [40001, 42001];
/** Tokens are renewed a little before WeChat's expiry. */
const TOKEN_MARGIN_MS = 5 * 60 * 1000;

export interface TokenSource {
  /** The current access token, fetched when there is none or it is about to expire. */
  get(): Promise<string>;
  /** Forget the cached token (WeChat said it is stale). */
  forget(): void;
}

export function stableTokenSource(app: WechatApp, options?: CallOptions, now: () => number = Date.now): TokenSource {
  let cached: { token: string; renewAt: number } | null = null;
  return {
    async get() {
      if (cached && now() < cached.renewAt) return cached.token;
      const answer = await callWechat(
        app,
        '/cgi-bin/stable_token',
        { body: { grant_type: 'client_credential', appid: app.appid, secret: app.secret, force_refresh: false } },
        options,
      );
      const token = String(answer.access_token);
      cached = { token, renewAt: now() + Math.max(0, Number(answer.expires_in) * 1000 - TOKEN_MARGIN_MS) };
      return token;
    },
    forget() {
      cached = null;
    },
  };
}

/** A wxa API call with the access token in the URL (in the body it would be 47001). */
async function callWithToken(app: WechatApp, tokens: TokenSource, path: string, body: unknown, options?: CallOptions) {
  for (let attempt = 0; ; attempt++) {
    const token = await tokens.get();
    try {
      return await callWechat(app, path, { query: { access_token: token }, body }, options);
    } catch (error) {
      if (!(error instanceof WechatApiError) || !STALE_TOKEN.includes(error.errcode) || attempt > 0) throw error;
      tokens.forget();
    }
  }
}

// Content security v2 ----------------------------------------------------------------------------
// Scenes: 1 资料 (profiles: names, notes), 2 评论, 3 论坛, 4 社交日志. The database picks the scene
// of what it asks to check (moderation_subject).

export interface ContentVerdict {
  suggest: 'pass' | 'risky' | 'review';
  /** 100 正常, 10001 广告, 20001 时政, 20002 色情, 20003 辱骂, 20006 违法犯罪, 20008 欺诈, 20012 低俗, 20013 版权, 21000 其他. */
  label: number;
}

/** WeChat's result, read defensively: `label` comes as a number or a string; anything unknown needs review. */
export function readVerdict(result: unknown): ContentVerdict {
  const value = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
  const suggest = value.suggest === 'pass' || value.suggest === 'risky' ? value.suggest : 'review';
  const label = Number(value.label);
  return { suggest, label: Number.isInteger(label) ? label : 21000 };
}

/** msgSecCheck v2 (developers.weixin.qq.com/miniprogram/dev/server/API/sec-center/sec-check/api_msgseccheck.html). */
export async function checkText(
  app: WechatApp,
  tokens: TokenSource,
  check: { content: string; openid: string; scene: number; nickname?: string },
  options?: CallOptions,
): Promise<ContentVerdict> {
  const answer = await callWithToken(app, tokens, '/wxa/msg_sec_check', { version: 2, ...check }, options);
  return readVerdict(answer.result);
}

/** mediaCheckAsync v2: the trace_id whose verdict WeChat pushes to the message-push URL later. */
export async function checkImageAsync(
  app: WechatApp,
  tokens: TokenSource,
  check: { mediaUrl: string; openid: string; scene: number },
  options?: CallOptions,
): Promise<string> {
  const answer = await callWithToken(
    app,
    tokens,
    '/wxa/media_check_async',
    { media_url: check.mediaUrl, media_type: 2, version: 2, scene: check.scene, openid: check.openid },
    options,
  );
  if (typeof answer.trace_id !== 'string') throw new WechatApiError(-2, 'media_check_async returned no trace_id');
  return answer.trace_id;
}
