// A fake of WeChat's server API (api.weixin.qq.com), the one boundary nobody can reach from here.
// It answers as the documented API does, failures included, so the Edge Functions run unchanged
// against it through WECHAT_API_BASE:
//   GET  /sns/jscode2session   code2Session (developers.weixin.qq.com/miniprogram/dev/server/API/user-login/api_code2session.md)
//   GET  /cgi-bin/token        getAccessToken: a new token per call, the previous one valid 5 more minutes
//   POST /cgi-bin/stable_token getStableAccessToken: the same token while it is valid
//   POST /wxa/msg_sec_check, /wxa/media_check_async  content security (fake-security.ts)
// WeChat answers HTTP 200 with an errcode in the body, even for errors.
//
// Codes: `wx.login` codes are single-use and expire after 5 minutes. A code of the form NAME.N
// belongs to the person NAME (the openid derives from NAME alone), so a test or the terminal client
// can log one person in again with a fresh code; any other code (DevTools' own) is a new person.
// Control routes under /__fake/ let out-of-process clients (the `wx` fake, the terminal client)
// obtain codes the way wx.login would.
//
// Latency: by default every answer is immediate. delayAnswers(ms) makes every API answer (errors
// included, control routes not) take that long first, as calls across the internet to WeChat's
// servers do; benchmarks and tests of a slow WeChat set it (bench/moderation.ts uses 50 ms).
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readBody } from '../http';
import { createContentSecurity, type PushRecord, type PushTarget } from './fake-security';

export const CODE_LIFETIME_MS = 5 * 60 * 1000;
export const TOKEN_LIFETIME_S = 7200;
/** getAccessToken keeps the previous token valid this long after issuing a new one. */
const TOKEN_OVERLAP_MS = 5 * 60 * 1000;
/** code2Session's documented quota: "每个用户每分钟100次". */
const LOGINS_PER_USER_PER_MINUTE = 100;

/** The APIs a test can make fail. */
export type WechatApi = 'jscode2session' | 'token' | 'stable_token' | 'msg_sec_check' | 'media_check_async';

export interface FakeWechatOptions {
  appid: string;
  secret: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Where media_check_async verdicts are pushed; without it they are never delivered, as on WeChat. */
  push?: PushTarget;
  /** How long WeChat takes to push an image verdict (WeChat: up to 30 minutes). */
  pushDelayMs?: number;
  log?: (line: string) => void;
}

export interface FakeWechat {
  url: string;
  port: number;
  appid: string;
  secret: string;
  /** A fresh wx.login code for the person NAME (a new anonymous person without a name). */
  issueCode(name?: string): string;
  /** The openid WeChat gives the person NAME in this mini program. */
  openidOf(name: string): string;
  /** The next `times` calls of `api` answer `errcode` (e.g. -1, WeChat busy). */
  failNext(api: WechatApi, errcode: number, times?: number): void;
  /** From now on every API call is answered `ms` after it arrived (0: at once, the default). */
  delayAnswers(ms: number): void;
  /** WeChat's risk control flags the person NAME: their codes answer 40226. */
  flagHighRisk(name: string): void;
  /** Moves the fake's clock forward (code and token expiry). */
  advanceClock(ms: number): void;
  /** How many calls each API has answered, failures included. */
  calls(api: WechatApi): number;
  /** Every image check so far and how its verdict's push went. */
  pushes(): PushRecord[];
  /** Image verdicts wait, as when WeChat takes its time, until releasePushes(). */
  holdPushes(): void;
  releasePushes(): void;
  stop(): Promise<void>;
}

/** Documented errcodes and their errmsg, as WeChat words them. */
const ERRORS: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40013: 'invalid appid',
  40003: 'invalid openid',
  40029: 'invalid code',
  40125: 'invalid appsecret',
  40129: 'invalid scene',
  40226: 'code blocked',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41001: 'access_token missing',
  41008: 'missing code',
  42001: 'access_token expired',
  43002: 'require POST method',
  44002: 'empty post data',
  45011: 'api minute-quota reach limit mustslower retry next minute',
  47001: 'data format error',
};

export class WechatError extends Error {
  constructor(readonly errcode: number) {
    super(ERRORS[errcode] ?? 'unknown error');
  }
}

/** Real errmsgs end with a request id; callers must match on errcode, never on the text. */
function errorBody(errcode: number): Record<string, unknown> {
  return { errcode, errmsg: `${ERRORS[errcode] ?? 'unknown error'}, rid: ${randomBytes(6).toString('hex')}` };
}

/** An openid looks like WeChat's: 28 URL-safe characters starting with "o". */
function openidFrom(seed: string): string {
  return 'o' + createHash('sha256').update(seed).digest('base64url').slice(0, 27);
}

interface IssuedCode {
  person: string | null;
  issuedAt: number;
}

interface AccessToken {
  token: string;
  expiresAt: number;
}

export async function startFakeWechat(options: FakeWechatOptions): Promise<FakeWechat> {
  const { appid, secret } = options;
  const log = options.log ?? (() => undefined);
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const issued = new Map<string, IssuedCode>();
  const used = new Set<string>();
  const highRisk = new Set<string>();
  const failures = new Map<WechatApi, Array<number>>();
  const callCounts = new Map<WechatApi, number>();
  const loginsPerMinute = new Map<string, { minute: number; count: number }>();
  let answerDelayMs = 0;
  /** Tokens still accepted, newest last. */
  let tokens: AccessToken[] = [];
  let stableToken: AccessToken | null = null;
  /** Every token ever issued and when it stops working, to tell an expired token (42001) from a wrong one (40001). */
  const tokenExpiry = new Map<string, number>();
  const lastLogins = new Map<string, number>();
  const security = createContentSecurity({
    appid,
    now,
    lastLogin: (openid) => lastLogins.get(openid),
    fail: (errcode) => new WechatError(errcode),
    push: options.push ?? null,
    pushDelayMs: options.pushDelayMs ?? 50,
    log,
  });

  const openidOf = (name: string) => openidFrom(`${appid}:person:${name}`);

  const personOf = (code: string): string | null => {
    const match = /^(.+)\.(\d+)$/.exec(code);
    return match ? match[1] : null;
  };

  const issueCode = (name?: string): string => {
    const code = name ? `${name}.${randomBytes(4).readUInt32BE()}` : randomBytes(16).toString('hex');
    issued.set(code, { person: name ?? null, issuedAt: now() });
    return code;
  };

  const newToken = (): AccessToken => {
    const issuedToken = { token: randomBytes(48).toString('base64url'), expiresAt: now() + TOKEN_LIFETIME_S * 1000 };
    tokenExpiry.set(issuedToken.token, issuedToken.expiresAt);
    return issuedToken;
  };

  /** The wxa APIs take the access token in the URL ("放在 body 里会报 47001"). */
  const checkToken = (query: URLSearchParams) => {
    const given = query.get('access_token');
    if (!given) throw new WechatError(41001);
    const expiresAt = tokenExpiry.get(given);
    if (expiresAt === undefined) throw new WechatError(40001);
    // A getAccessToken token is cut short by its successor after the overlap.
    const current = tokens.find((t) => t.token === given) ?? (stableToken?.token === given ? stableToken : undefined);
    if (!current || current.expiresAt <= now()) throw new WechatError(expiresAt <= now() ? 42001 : 40001);
  };

  const injected = (api: WechatApi): number | undefined => {
    callCounts.set(api, (callCounts.get(api) ?? 0) + 1);
    const queue = failures.get(api);
    return queue?.length ? queue.shift() : undefined;
  };

  const checkApp = (givenAppid: unknown, givenSecret: unknown) => {
    if (!givenAppid) throw new WechatError(41002);
    if (givenAppid !== appid) throw new WechatError(40013);
    if (!givenSecret) throw new WechatError(41004);
    if (givenSecret !== secret) throw new WechatError(40125);
  };

  function jscode2session(query: URLSearchParams): Record<string, unknown> {
    checkApp(query.get('appid'), query.get('secret'));
    if (query.get('grant_type') !== 'authorization_code') throw new WechatError(40002);
    const code = query.get('js_code');
    if (!code) throw new WechatError(41008);
    // A code never issued here counts as issued now: DevTools and tests make their own.
    const record = issued.get(code) ?? { person: personOf(code), issuedAt: now() };
    if (used.has(code) || now() - record.issuedAt > CODE_LIFETIME_MS) throw new WechatError(40029);
    used.add(code);
    issued.delete(code);
    if (record.person !== null && highRisk.has(record.person)) throw new WechatError(40226);
    const openid = record.person !== null ? openidOf(record.person) : openidFrom(`${appid}:code:${code}`);
    const minute = Math.floor(now() / 60000);
    const quota = loginsPerMinute.get(openid);
    const count = quota && quota.minute === minute ? quota.count + 1 : 1;
    loginsPerMinute.set(openid, { minute, count });
    if (count > LOGINS_PER_USER_PER_MINUTE) throw new WechatError(45011);
    lastLogins.set(openid, now());
    return { session_key: randomBytes(16).toString('base64'), openid };
  }

  function token(query: URLSearchParams): Record<string, unknown> {
    if (query.get('grant_type') !== 'client_credential') throw new WechatError(40002);
    checkApp(query.get('appid'), query.get('secret'));
    const fresh = newToken();
    // The previous tokens stay valid for the overlap, then only the newest one does.
    tokens = tokens
      .map((t) => ({ ...t, expiresAt: Math.min(t.expiresAt, now() + TOKEN_OVERLAP_MS) }))
      .filter((t) => t.expiresAt > now())
      .concat(fresh);
    return { access_token: fresh.token, expires_in: TOKEN_LIFETIME_S };
  }

  function stable(body: Record<string, unknown>): Record<string, unknown> {
    if (body.grant_type !== 'client_credential') throw new WechatError(40002);
    checkApp(body.appid, body.secret);
    if (body.force_refresh === true || !stableToken || stableToken.expiresAt <= now()) {
      stableToken = newToken();
    }
    // Whole seconds left, rounded up: a token issued a millisecond ago still has all 7200.
    return { access_token: stableToken.token, expires_in: Math.ceil((stableToken.expiresAt - now()) / 1000) };
  }

  async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    const text = (await readBody(req, 1024 * 1024)).toString('utf8');
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // falls through to WeChat's "data format error"
    }
    throw new WechatError(47001);
  }

  async function control(req: IncomingMessage, path: string): Promise<Record<string, unknown>> {
    const body = req.method === 'POST' ? await jsonBody(req) : {};
    const name = typeof body.name === 'string' && body.name !== '' ? body.name : undefined;
    switch (path) {
      case '/__fake/code':
        return { code: issueCode(name) };
      case '/__fake/high-risk':
        if (!name) throw new WechatError(47001);
        highRisk.add(name);
        return { ok: true };
      default:
        return errorBody(404);
    }
  }

  async function answer(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
    if (url.pathname.startsWith('/__fake/')) return control(req, url.pathname);
    const route: Record<string, [WechatApi, 'GET' | 'POST']> = {
      '/sns/jscode2session': ['jscode2session', 'GET'],
      '/cgi-bin/token': ['token', 'GET'],
      '/cgi-bin/stable_token': ['stable_token', 'POST'],
      '/wxa/msg_sec_check': ['msg_sec_check', 'POST'],
      '/wxa/media_check_async': ['media_check_async', 'POST'],
    };
    const found = route[url.pathname];
    if (!found) return { errcode: 404, errmsg: `${url.pathname} is not an API of this fake` };
    const [api, method] = found;
    if (answerDelayMs > 0) await sleep(answerDelayMs);
    if (method === 'POST' && req.method !== 'POST') throw new WechatError(43002);
    const failure = injected(api);
    if (failure !== undefined) throw new WechatError(failure);
    if (api === 'jscode2session') return jscode2session(url.searchParams);
    if (api === 'token') return token(url.searchParams);
    if (api === 'stable_token') return stable(await jsonBody(req));
    checkToken(url.searchParams);
    const body = await jsonBody(req);
    return api === 'msg_sec_check' ? security.msgSecCheck(body) : security.mediaCheckAsync(body);
  }

  const server = http.createServer((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    answer(req, url)
      .catch((error: unknown) => {
        if (error instanceof WechatError) return errorBody(error.errcode);
        log(`fake wechat ${url.pathname}: ${(error as Error).stack}`);
        return errorBody(-1);
      })
      .then((body) => {
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json; encoding=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    appid,
    secret,
    issueCode,
    openidOf,
    failNext(api, errcode, times = 1) {
      const queue = failures.get(api) ?? [];
      for (let i = 0; i < times; i++) queue.push(errcode);
      failures.set(api, queue);
    },
    delayAnswers(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`an answer delay is a number of milliseconds ≥ 0, not ${ms}`);
      answerDelayMs = ms;
    },
    flagHighRisk: (name) => void highRisk.add(name),
    advanceClock: (ms) => {
      clockOffset += ms;
    },
    calls: (api) => callCounts.get(api) ?? 0,
    pushes: security.pushes,
    holdPushes: security.holdPushes,
    releasePushes: security.releasePushes,
    stop: () =>
      new Promise<void>((resolve) => {
        security.stop();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
