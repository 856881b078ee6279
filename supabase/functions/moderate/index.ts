// Checks one subject (a message, a character, a scene) with WeChat's content security before anyone
// else sees it. The database calls it through pg_net after a pending row is committed
// (supabase/migrations/*_moderation.sql), with the service-role key: POST {subject, id}.
//   text   msg_sec_check v2 with the scene, content and nickname the database chose and the
//          author's openid: the verdict is recorded at once (pass → visible, risky → blocked,
//          review → held).
//   image  media_check_async v2 with the image's public URL: WeChat pushes the verdict later to
//          the wechat-push function, which records it.
// A WeChat failure is recorded as a retry with backoff; the database's sweeper calls again, and
// after 10 minutes without a verdict the message goes to the moderators (fail closed).
import { serviceClient, wechatApp } from '../_shared/app.ts';
import { json, requiredEnv } from '../_shared/http.ts';
import { checkImageAsync, checkText, stableTokenSource, WechatApiError } from '../_shared/wechat.ts';

interface Subject {
  subject: string;
  id: number;
  status: string;
  openid: string | null;
  scene: number;
  content: string | null;
  nickname: string | null;
  image_path: string | null;
}

const SUBJECTS = ['message', 'character', 'scene'];

const app = wechatApp();
const tokens = stableTokenSource(app);

async function moderate(kind: string, id: number): Promise<Response> {
  const db = serviceClient();
  const key = { subject: kind, id };
  const found = await db.rpc('moderation_subject', key);
  if (found.error) throw new Error(`moderation_subject: ${found.error.message}`);
  const subject = found.data as Subject | null;
  if (!subject) return json(404, { code: 'not_found', message: `no ${kind} ${id}` });
  // A repeated call (pg_net and the sweeper may overlap) after the verdict changes nothing.
  if (subject.status !== 'pending') return json(200, { ...key, status: subject.status });
  const verdict = (suggest: string, label: number) => db.rpc('moderation_verdict', { ...key, suggest, verdict_label: label });
  if (!subject.openid) {
    // Content security needs the author's openid; without one nobody else may see it.
    return json(200, { ...key, status: (await verdict('review', 21000)).data });
  }
  try {
    if (subject.image_path) {
      const mediaUrl = db.storage.from('images').getPublicUrl(subject.image_path).data.publicUrl;
      const trace = await checkImageAsync(app, tokens, { mediaUrl, openid: subject.openid, scene: subject.scene });
      const awaiting = await db.rpc('moderation_awaiting', { ...key, trace });
      if (awaiting.error) throw new Error(`moderation_awaiting: ${awaiting.error.message}`);
      return json(202, { ...key, trace_id: trace });
    }
    const result = await checkText(app, tokens, {
      content: subject.content ?? '',
      openid: subject.openid,
      scene: subject.scene,
      ...(subject.nickname ? { nickname: subject.nickname } : {}),
    });
    const recorded = await verdict(result.suggest, result.label);
    if (recorded.error) throw new Error(`moderation_verdict: ${recorded.error.message}`);
    return json(200, { ...key, status: recorded.data, label: result.label });
  } catch (error) {
    if (!(error instanceof WechatApiError)) throw error;
    const retry = await db.rpc('moderation_retry', { ...key, error: error.message });
    return json(502, { code: 'wechat_error', message: error.message, retry_at: retry.data });
  }
}

Deno.serve(async (request) => {
  if (request.method !== 'POST') return json(405, { code: 'method_not_allowed', message: 'POST {"subject": "message", "id": …}' });
  // Only the database calls this: with the service-role key, which the gateway's JWT check alone
  // would not insist on (any signed-in user's token is a valid JWT too).
  if (request.headers.get('authorization') !== `Bearer ${requiredEnv('SUPABASE_SERVICE_ROLE_KEY')}`) {
    return json(403, { code: 'forbidden', message: 'only the database may ask for a check' });
  }
  let body: { subject?: unknown; id?: unknown };
  try {
    body = (await request.json()) as typeof body;
  } catch {
    return json(400, { code: 'invalid_request', message: 'The body must be JSON: {"subject": "message", "id": 1}' });
  }
  if (!SUBJECTS.includes(body.subject as string) || !Number.isSafeInteger(body.id) || (body.id as number) < 1) {
    return json(400, { code: 'invalid_request', message: `subject must be one of ${SUBJECTS.join(', ')} and id a positive integer` });
  }
  try {
    return await moderate(body.subject as string, body.id as number);
  } catch (error) {
    console.error(error);
    return json(500, { code: 'internal_error', message: (error as Error).message });
  }
});
