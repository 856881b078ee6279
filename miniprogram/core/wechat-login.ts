// Signing in as the person behind the WeChat account, so they are the same Supabase user on every
// device and after every reinstall. The platform supplies a wx.login code; the backend exchanges it
// server-side (code2Session) for the person's openid. Two paths, chosen per backend in config.ts:
//   'function': stock Supabase. The Edge Function supabase/functions/wechat-login answers a one-time
//               token hash, which the device verifies itself (auth.verifyOtp), so Supabase Auth's
//               per-address rate limit counts each phone, not the function's one address.
//   'memfire':  MemFire Cloud's built-in GET /auth/v1/wechat_mini/login?code=…, which answers a session.
// Either way supabase-js then keeps and refreshes the session as usual; a new code is asked for
// only when there is no valid session.
import type { SupabaseClient } from '@supabase/supabase-js';
import { BackendFailure } from './ports';

export type WechatLoginPath = 'function' | 'memfire';

/**
 * The subset of fetch login needs (wx.request in WeChat, fetch in Node). Plain requests rather than
 * supabase-js's functions client, which the mini program's bundle leaves out to stay small.
 */
export type LoginFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface WechatLogin {
  path: WechatLoginPath;
  /** A fresh wx.login code (codes are single-use and expire after 5 minutes). */
  code(): Promise<string>;
  /** Backend URL and anon key. */
  url: string;
  anonKey: string;
  fetch: LoginFetch;
}

export const LOGIN_FUNCTION = 'wechat-login';

/** A backend answer `{code, message}` (or GoTrue's `{error_code, msg}`) as a BackendFailure. */
function answerFailure(status: number, body: unknown): BackendFailure {
  const answer = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const code = String(answer.code ?? answer.error_code ?? '');
  const message = String(answer.message ?? answer.msg ?? answer.error_description ?? 'login failed');
  return new BackendFailure(status, code, message);
}

/** An Auth error (auth-js AuthError) as a BackendFailure. */
export function authFailure(error: { message: string; status?: number; code?: string }): BackendFailure {
  return new BackendFailure(error.status || 0, error.code || '', error.message);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** One login request; its JSON answer, or a BackendFailure with the backend's code. */
async function request(login: WechatLogin, path: string, body?: unknown): Promise<Record<string, unknown>> {
  let response: { status: number; text(): Promise<string> };
  try {
    response = await login.fetch(`${login.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { apikey: login.anonKey, Authorization: `Bearer ${login.anonKey}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new BackendFailure(0, '', (error as Error).message);
  }
  const answer = parse(await response.text());
  if (response.status < 200 || response.status > 299) throw answerFailure(response.status, answer);
  if (typeof answer !== 'object' || answer === null) throw new BackendFailure(502, 'bad_login_answer', `${path} answered no JSON`);
  return answer as Record<string, unknown>;
}

async function viaFunction(client: SupabaseClient, login: WechatLogin, code: string): Promise<void> {
  const answer = await request(login, `/functions/v1/${LOGIN_FUNCTION}`, { code });
  if (typeof answer.token_hash !== 'string' || typeof answer.type !== 'string') {
    throw new BackendFailure(502, 'bad_login_answer', `${LOGIN_FUNCTION} answered no token`);
  }
  const verified = await client.auth.verifyOtp({ token_hash: answer.token_hash, type: answer.type as 'magiclink' });
  if (verified.error) throw authFailure(verified.error);
}

async function viaMemfire(client: SupabaseClient, login: WechatLogin, code: string): Promise<void> {
  const answer = await request(login, `/auth/v1/wechat_mini/login?code=${encodeURIComponent(code)}`);
  if (typeof answer.access_token !== 'string' || typeof answer.refresh_token !== 'string') {
    throw new BackendFailure(502, 'bad_login_answer', 'wechat_mini/login answered no session');
  }
  const stored = await client.auth.setSession({ access_token: answer.access_token, refresh_token: answer.refresh_token });
  if (stored.error) throw authFailure(stored.error);
}

/** Signs in with a fresh wx.login code; rejects with a BackendFailure whose code says why. */
export async function signInWithWechat(client: SupabaseClient, login: WechatLogin): Promise<void> {
  const code = await login.code();
  if (login.path === 'memfire') await viaMemfire(client, login, code);
  else await viaFunction(client, login, code);
}
