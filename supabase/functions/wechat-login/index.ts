// WeChat login for stock Supabase. POST {code} with a wx.login code; the answer is a one-time
// token hash that the mini program trades for a normal session with auth.verifyOtp.
//
// Why the device, not this function, makes the last step: Supabase Auth rate-limits sign-ins and
// verifications per caller address (token_verifications: 30 per 5 minutes by default). Every call
// from this function comes from the function's own address, so signing people in here would cap
// the whole app at 30 logins per 5 minutes. The admin API used here is not rate-limited, and
// /verify then counts against each phone's own address.
//
// The person is their openid, obtained with code2Session. Their auth user carries it in
// app_metadata, which only the service role can write; the user's email is derived from the openid
// and never receives mail (.invalid, RFC 2606). Secrets: WECHAT_APPID, WECHAT_SECRET, and
// WECHAT_API_BASE (default https://api.weixin.qq.com).
import { serviceClient, wechatApp } from '../_shared/app.ts';
import { corsHeaders, json } from '../_shared/http.ts';
import { loginRefusal, personOfCode, WechatApiError } from '../_shared/wechat.ts';

/** wx.login codes are 32 characters; anything far longer is not one. */
const MAX_CODE_LENGTH = 256;

async function emailOf(openid: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(openid)));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 40)}@wechat.invalid`;
}

async function login(request: Request): Promise<Response> {
  let code: unknown;
  try {
    ({ code } = (await request.json()) as { code?: unknown });
  } catch {
    return json(400, { code: 'invalid_request', message: 'The body must be JSON: {"code": "<wx.login code>"}' });
  }
  if (typeof code !== 'string' || code === '' || code.length > MAX_CODE_LENGTH) {
    return json(400, { code: 'invalid_request', message: 'code must be the string wx.login returned' });
  }
  let openid: string;
  try {
    ({ openid } = await personOfCode(wechatApp(), code));
  } catch (error) {
    if (!(error instanceof WechatApiError)) throw error;
    const { status, ...refusal } = loginRefusal(error);
    return json(status, refusal);
  }

  const admin = serviceClient();
  const email = await emailOf(openid);
  // The first login creates the person; later ones find them by the derived address.
  const created = await admin.auth.admin.createUser({ email, email_confirm: true, app_metadata: { openid } });
  if (created.error && created.error.code !== 'email_exists') {
    // A concurrent first login of the same person may have won the race; the link tells.
    console.warn(`createUser: ${created.error.code}: ${created.error.message}`);
  }
  const link = await admin.auth.admin.generateLink({ type: 'magiclink', email });
  if (link.error) {
    return json(502, { code: 'auth_unavailable', message: `Supabase Auth refused the login link: ${link.error.message}` });
  }
  // Only a user this function created carries the openid: an address taken any other way is not this person.
  if (link.data.user.app_metadata?.openid !== openid) {
    return json(409, { code: 'identity_conflict', message: 'The account for this WeChat identity was not created by WeChat login' });
  }
  return json(200, { token_hash: link.data.properties.hashed_token, type: link.data.properties.verification_type });
}

Deno.serve(async (request) => {
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: corsHeaders });
  if (request.method !== 'POST') return json(405, { code: 'method_not_allowed', message: 'Use POST {"code": "…"}' });
  try {
    return await login(request);
  } catch (error) {
    console.error(error);
    return json(500, { code: 'internal_error', message: (error as Error).message });
  }
});
