// The message-push URL WeChat calls (开发 → 开发管理 → 消息推送配置, 安全模式, 数据格式 JSON):
//   GET  ?signature&timestamp&nonce&echostr  WeChat checking the URL when it is saved
//   POST ?timestamp&nonce&msg_signature&encrypt_type=aes with {Encrypt}  a push; the one this app
//        acts on is wxa_media_check, the verdict of an image sent to media_check_async.
// Every request must carry WeChat's signature under the push Token; anything else is refused.
// Secrets: WECHAT_APPID, WECHAT_PUSH_TOKEN, WECHAT_PUSH_AES_KEY (the EncodingAESKey).
import { serviceClient } from '../_shared/app.ts';
import { json, requiredEnv } from '../_shared/http.ts';
import { openPush, PushError, signedBy } from '../_shared/wechat-push.ts';
import { readVerdict } from '../_shared/wechat.ts';

const text = (status: number, body: string) => new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

async function receive(request: Request, query: URLSearchParams, token: string): Promise<Response> {
  if (query.get('encrypt_type') !== 'aes') {
    return text(400, 'configure the message push in 安全模式 (safe mode) with the JSON format');
  }
  let encrypt: unknown;
  try {
    ({ Encrypt: encrypt } = (await request.json()) as { Encrypt?: unknown });
  } catch {
    return text(400, 'the body must be JSON with an Encrypt field');
  }
  const timestamp = query.get('timestamp') ?? '';
  const nonce = query.get('nonce') ?? '';
  if (typeof encrypt !== 'string' || !signedBy(query.get('msg_signature'), [token, timestamp, nonce, encrypt])) {
    return text(403, 'signature mismatch');
  }
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(openPush(encrypt, requiredEnv('WECHAT_APPID'), requiredEnv('WECHAT_PUSH_AES_KEY')));
  } catch (error) {
    if (error instanceof PushError || error instanceof SyntaxError) return text(400, `unreadable push: ${error.message}`);
    throw error;
  }
  if (event.Event === 'wxa_media_check' && typeof event.trace_id === 'string') {
    // No result (v1's status_code when WeChat could not download the image): nobody decided, so
    // the moderators do.
    const verdict = event.result === undefined ? { suggest: 'review', label: 21000 } : readVerdict(event.result);
    const recorded = await serviceClient().rpc('moderation_push_verdict', {
      trace: event.trace_id,
      suggest: verdict.suggest,
      verdict_label: verdict.label,
    });
    if (recorded.error) throw new Error(`moderation_push_verdict: ${recorded.error.message}`);
  }
  // "success" tells WeChat not to push this again.
  return text(200, 'success');
}

Deno.serve(async (request) => {
  const query = new URL(request.url).searchParams;
  const token = requiredEnv('WECHAT_PUSH_TOKEN');
  try {
    if (request.method === 'GET') {
      const signed = signedBy(query.get('signature'), [token, query.get('timestamp') ?? '', query.get('nonce') ?? '']);
      return signed ? text(200, query.get('echostr') ?? '') : text(403, 'signature mismatch');
    }
    if (request.method === 'POST') return await receive(request, query, token);
    return json(405, { code: 'method_not_allowed', message: 'WeChat calls this URL with GET and POST' });
  } catch (error) {
    console.error(error);
    return json(500, { code: 'internal_error', message: (error as Error).message });
  }
});
