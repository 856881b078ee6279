// Content security end to end on the real pipeline: the insert trigger, pg_net, the moderate and
// wechat-push Edge Functions under Deno, the fake WeChat API's verdicts and signed pushes, pg_cron's
// sweeper, RLS over REST and Realtime; then reports, moderators, bans, recall and blocks.
import { randomUUID } from 'node:crypto';
import { pushSignature } from '../supabase/functions/_shared/wechat-push';
import { sealPush } from '../local-supabase/src/wechat/push-crypto';
import { LOCAL_WECHAT_APP, LOCAL_WECHAT_PUSH } from '../local-supabase/src/server';
import { IMAGE_FIXTURES } from './support/core-fakes';
import { subscribeChanges, type ChangeEvent } from './support/realtime';
import { startTestServer, superuserQuery, textMessage, wechatUser, type TestServer } from './support/server';
import { sleep, waitFor } from './support/wait';
import type { Row } from './support/row';

jest.setTimeout(90000);

type Person = Awaited<ReturnType<typeof wechatUser>>;
let server: TestServer;
let roomId: number;
let author: Person;
let reader: Person;
let moderator: Person;

const sql = <T extends Record<string, unknown> = Row>(text: string, params: unknown[] = []) =>
  superuserQuery<T>(server.dbUrl, text, params).then((r) => r.rows);

let authors = 0;

beforeAll(async () => {
  server = await startTestServer({ moderation: true });
  roomId = (await sql(`select id from public.rooms where slug = 'lobby'`))[0].id;
  [reader, moderator] = await Promise.all(['读者', '版主'].map((person) => wechatUser(server, { person })));
  await sql('insert into public.moderators (user_id, note) values ($1, $2)', [moderator.id, '测试版主']);
});
// A fresh author per test: the database allows each person 10 messages in 10 seconds.
beforeEach(async () => {
  author = await wechatUser(server, { person: `作者${++authors}` });
});
afterAll(() => server.stop());

async function send(person: Person, fields: Record<string, unknown>) {
  const { data, error } = await person.sb.from('messages').insert(textMessage(roomId, fields)).select().single();
  if (error) throw new Error(`${error.code}: ${error.message}`);
  return data as Row;
}

/** The pipeline's bookkeeping of a message's check, if it is still pending. */
async function checkOf(id: number): Promise<Row | undefined> {
  return (
    await sql(`select *, retry_at - now() as wait from private.moderation_checks where subject = 'message' and subject_id = $1`, [id])
  )[0];
}

async function statusOf(id: number): Promise<string> {
  return (await sql('select status from public.messages where id = $1', [id]))[0].status;
}

async function visibleTo(person: Person, id: number): Promise<Row | undefined> {
  const { data, error } = await person.sb.from('messages').select('*').eq('id', id);
  if (error) throw new Error(error.message);
  return (data as Array<Row>)[0];
}

async function uploadImage(person: Person, bytes: Buffer): Promise<string> {
  const path = `${person.id}/2026-12/${randomUUID()}.png`;
  const { error } = await person.sb.storage.from('images').upload(path, bytes, { contentType: 'image/png' });
  if (error) throw error;
  return path;
}

const png = () => Buffer.from(IMAGE_FIXTURES.png, 'base64');

/** Uploads `bytes` into the person's folder and sends them as a 16×16 image message. */
async function sendImage(person: Person, bytes: Buffer) {
  return send(person, { kind: 'image', body: null, image_path: await uploadImage(person, bytes), image_width: 16, image_height: 16 });
}

describe('nothing reaches others before a verdict', () => {
  test('a message lands pending for its author only; it turns visible and reaches others by Realtime', async () => {
    const watching = await subscribeChanges(reader.sb, `room-${randomUUID()}`, [
      { event: 'INSERT', table: 'messages' },
      { event: 'UPDATE', table: 'messages' },
    ]);
    // WeChat is busy for a while: the message stays pending long enough to look at it.
    server.wechat!.failNext('msg_sec_check', -1, 3);
    const row = await send(author, { body: '大家好' });
    expect(row).toMatchObject({ status: 'pending', label: null });
    expect(await visibleTo(author, row.id)).toMatchObject({ status: 'pending', body: '大家好' });
    expect(await visibleTo(reader, row.id)).toBeUndefined();
    await sql('select private.sweep_moderation()');
    await sleep(300);
    expect(watching.changes).toEqual([]);

    // The retry after the backoff gets WeChat's verdict.
    await sql(`update private.moderation_checks set retry_at = now() where subject = 'message' and subject_id = $1`, [row.id]);
    await sql('select private.sweep_moderation()');
    await waitFor('visible', async () => (await statusOf(row.id)) === 'visible', 20000);
    await waitFor('delivered to the reader', () => watching.changes.length > 0);
    expect(watching.changes.map((c: ChangeEvent) => [c.eventType, c.new.id, c.new.status, c.new.body])).toEqual([
      ['UPDATE', row.id, 'visible', '大家好'],
    ]);
    expect(await visibleTo(reader, row.id)).toMatchObject({ status: 'visible', body: '大家好' });
    await reader.sb.removeChannel(watching.channel);
  });

  test.each([
    ['违禁测试词', 'blocked', 20006],
    ['待审测试词', 'held', 21000],
    ['一句平常话', 'visible', null],
  ])('text containing %s ends %s', async (marker, status, label) => {
    const row = await send(author, { body: `这里有${marker}。` });
    await waitFor(status, async () => (await statusOf(row.id)) === status, 20000);
    expect(await visibleTo(author, row.id)).toMatchObject({ status, label });
    expect(await visibleTo(reader, row.id)).toEqual(
      status === 'visible' ? expect.objectContaining({ body: `这里有${marker}。` }) : undefined,
    );
  });

  test('the role name is checked with the message (msg_sec_check nickname)', async () => {
    const row = await send(author, { username: '违禁测试词', body: '名字有问题' });
    await waitFor('blocked', async () => (await statusOf(row.id)) === 'blocked', 20000);
  });

  test('images: the verdict arrives by WeChat push, signed and encrypted; a marked image is blocked', async () => {
    const clean = await sendImage(author, png());
    const risky = await sendImage(author, Buffer.concat([png(), Buffer.from('RISKY-IMAGE')]));
    await waitFor(
      'image verdicts',
      async () => (await statusOf(clean.id)) !== 'pending' && (await statusOf(risky.id)) !== 'pending',
      20000,
    );
    expect(await statusOf(clean.id)).toBe('visible');
    expect(await visibleTo(author, risky.id)).toMatchObject({ status: 'blocked', label: 20002 });
    expect(server.wechat!.pushes().filter((p) => p.delivered)).toHaveLength(2);
  });

  test('an image whose verdict never comes goes to the moderators after 10 minutes', async () => {
    server.wechat!.holdPushes();
    try {
      const row = await sendImage(author, png());
      await waitFor('awaiting the push', async () => (await checkOf(row.id))?.trace_id);
      await sql('select private.sweep_moderation()');
      expect(await statusOf(row.id)).toBe('pending');
      await sql(
        `update private.moderation_checks set created_at = now() - interval '10 minutes 1 second' where subject = 'message' and subject_id = $1`,
        [row.id],
      );
      await sql('select private.sweep_moderation()');
      expect(await statusOf(row.id)).toBe('held');
      expect(await visibleTo(reader, row.id)).toBeUndefined();
    } finally {
      server.wechat!.releasePushes();
    }
  });

  test('WeChat busy is retried server-side with backoff until a verdict, without the author', async () => {
    const before = server.wechat!.calls('msg_sec_check');
    server.wechat!.failNext('msg_sec_check', -1, 4);
    const row = await send(author, { body: '重试几次' });
    const check = await waitFor('a retry scheduled', async () => ((await checkOf(row.id))?.retry_at ? checkOf(row.id) : null));
    expect(check.attempts).toBe(1);
    expect(check.last_error).toContain('-1');
    // pg_cron's sweeper runs the retry once its time has come (every 5 seconds).
    await waitFor('visible after the retry', async () => (await statusOf(row.id)) === 'visible', 30000);
    expect(server.wechat!.calls('msg_sec_check') - before).toBe(5);
  });

  test('checks share the function’s warm worker and its access token: one stable_token call serves many checks', async () => {
    // What keeps a check near WeChat's own answer time (bench/moderation.ts): no Deno start and
    // no token fetch per message.
    await visibleMessage(author, '热身');
    const tokens = server.wechat!.calls('stable_token');
    const checks = server.wechat!.calls('msg_sec_check');
    for (const body of ['一', '二', '三']) await visibleMessage(author, body);
    expect(server.wechat!.calls('msg_sec_check') - checks).toBe(3);
    expect(server.wechat!.calls('stable_token')).toBe(tokens);
  });

  test('a WeChat too slow for the function is retried until it answers in time: slow, not lost', async () => {
    const wechat = server.wechat!;
    // Longer than the function waits for one call (5 s, supabase/functions/_shared/wechat.ts):
    // each attempt times out, and the function reports a failure after its own retries.
    wechat.delayAnswers(6000);
    try {
      const row = await send(author, { body: '微信慢吞吞' });
      const failed = async () => {
        const check = await checkOf(row.id);
        return check?.retry_at ? check : undefined;
      };
      const check = await waitFor('a retry scheduled', failed, 30000);
      expect(check.last_error).toContain('-1000');
      expect(await visibleTo(reader, row.id)).toBeUndefined();
      // Still slow, but within what the function waits for: the retry gets the verdict.
      wechat.delayAnswers(1000);
      await waitFor('visible', async () => (await statusOf(row.id)) === 'visible', 30000);
      expect(await visibleTo(reader, row.id)).toMatchObject({ body: '微信慢吞吞' });
    } finally {
      wechat.delayAnswers(0);
    }
  });

  test('a request that failed on its way to the function is retried with backoff at the next sweep', async () => {
    const since = (await sql('select now() as at'))[0].at;
    const [{ url }] = await sql(`select decrypted_secret as url from vault.decrypted_secrets where name = 'project_url'`);
    await sql(`select vault.update_secret(id, 'http://127.0.0.1:9') from vault.secrets where name = 'project_url'`);
    let row: Awaited<ReturnType<typeof send>>;
    try {
      row = await send(author, { body: '路上断了' });
      // pg_net records the refused connection as the request's outcome.
      const failures = () => sql('select 1 from net._http_response where error_msg is not null and created >= $1', [since]);
      await waitFor('the failure recorded', async () => (await failures()).length > 0);
    } finally {
      await sql(`select vault.update_secret(id, $1) from vault.secrets where name = 'project_url'`, [url]);
    }
    await sql('select private.sweep_moderation()');
    const check = await checkOf(row.id);
    expect(check).toMatchObject({ attempts: 1, last_error: expect.stringContaining("Couldn't connect to server") });
    expect(check!.retry_at).not.toBeNull();
    // pg_cron's sweeper sends it again once the backoff has passed.
    await waitFor('visible', async () => (await statusOf(row.id)) === 'visible', 20000);
  });

  test('a check whose step vanished (the function unreachable) is sent again by the sweeper', async () => {
    const [{ url }] = await sql(`select decrypted_secret as url from vault.decrypted_secrets where name = 'project_url'`);
    await sql(`select vault.update_secret(id, 'http://127.0.0.1:9') from vault.secrets where name = 'project_url'`);
    let row: Row;
    try {
      row = await send(author, { body: '第一次没送到' });
      await sleep(500);
      expect(await statusOf(row.id)).toBe('pending');
    } finally {
      await sql(`select vault.update_secret(id, $1) from vault.secrets where name = 'project_url'`, [url]);
    }
    await sql(
      `update private.moderation_checks set dispatched_at = now() - interval '61 seconds' where subject = 'message' and subject_id = $1`,
      [row.id],
    );
    await sql('select private.sweep_moderation()');
    await waitFor('visible', async () => (await statusOf(row.id)) === 'visible', 20000);
  });

  test('with moderation off, messages land visible at once', async () => {
    await sql('update private.moderation_settings set enabled = false');
    try {
      const row = await send(author, { body: '不审了' });
      expect(row.status).toBe('visible');
      expect(await visibleTo(reader, row.id)).toMatchObject({ body: '不审了' });
    } finally {
      await sql('update private.moderation_settings set enabled = true');
    }
  });

  test('clients cannot choose a state, a label, or call the functions the pipeline uses', async () => {
    const row = await send(author, { body: '我说可见就可见', status: 'visible', label: 100 });
    expect(row).toMatchObject({ status: 'pending', label: null });
    const key = { subject: 'message', id: row.id };
    for (const [fn, args] of [
      ['moderation_verdict', { ...key, suggest: 'pass', verdict_label: 100 }],
      ['moderation_push_verdict', { trace: 'x', suggest: 'pass', verdict_label: 100 }],
      ['moderation_subject', key],
      ['moderation_awaiting', { ...key, trace: 'x' }],
      ['moderation_retry', { ...key, error: 'x' }],
    ] as const) {
      const { error } = await author.sb.rpc(fn, args as never);
      expect(error).toMatchObject({ code: '42501' });
    }
    expect((await author.sb.from('messages').update({ status: 'visible' }).eq('id', row.id)).error).toMatchObject({ code: '42501' });
  });
});

describe('the message-push URL', () => {
  const pushUrl = () => `${server.url}/functions/v1/wechat-push`;

  test("WeChat's URL check is answered only when signed with the Token", async () => {
    const [timestamp, nonce] = ['1714036504', '1514711492'];
    const signature = pushSignature([LOCAL_WECHAT_PUSH.token, timestamp, nonce]);
    const ok = await fetch(`${pushUrl()}?${new URLSearchParams({ signature, timestamp, nonce, echostr: 'echo-123' })}`);
    expect([ok.status, await ok.text()]).toEqual([200, 'echo-123']);
    const bad = await fetch(`${pushUrl()}?${new URLSearchParams({ signature: 'f'.repeat(40), timestamp, nonce, echostr: 'echo-123' })}`);
    expect(bad.status).toBe(403);
  });

  test('the documented signature example checks out', () => {
    expect(pushSignature(['AAAAA', '1714036504', '1514711492'])).toBe('f464b24fc39322e44b38aa78f5edd27bd1441696');
  });

  test('a push with a bad signature, a tampered body, another app or plaintext mode is refused and changes nothing', async () => {
    server.wechat!.holdPushes();
    try {
      const row = await sendImage(author, png());
      const trace = await waitFor('trace', async () => (await checkOf(row.id))?.trace_id as string | undefined);
      const event = JSON.stringify({ Event: 'wxa_media_check', trace_id: trace, result: { suggest: 'pass', label: 100 }, version: 2 });
      const post = (query: Record<string, string>, encrypt: string) =>
        fetch(`${pushUrl()}?${new URLSearchParams(query)}`, {
          method: 'POST',
          body: JSON.stringify({ ToUserName: 'gh_x', Encrypt: encrypt }),
        });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = '42';
      const sealed = sealPush(event, LOCAL_WECHAT_APP.appid, LOCAL_WECHAT_PUSH.aesKey);
      const sign = (encrypt: string, token = LOCAL_WECHAT_PUSH.token) => pushSignature([token, timestamp, nonce, encrypt]);
      const query = (encrypt: string, token?: string) => ({ timestamp, nonce, encrypt_type: 'aes', msg_signature: sign(encrypt, token) });
      expect((await post(query(sealed, 'a-guessed-token'), sealed)).status).toBe(403);
      const tampered = sealed.slice(0, -8) + (sealed.endsWith('AAAAAAA=') ? 'BBBBBBB=' : 'AAAAAAA=');
      expect((await post(query(sealed), tampered)).status).toBe(403);
      const otherApp = sealPush(event, 'wx00000000000000ff', LOCAL_WECHAT_PUSH.aesKey);
      expect((await post(query(otherApp), otherApp)).status).toBe(400);
      expect((await post({ timestamp, nonce, signature: pushSignature([LOCAL_WECHAT_PUSH.token, timestamp, nonce]) }, sealed)).status).toBe(
        400,
      );
      expect(await statusOf(row.id)).toBe('pending');
      // The same push, properly signed, is accepted.
      const accepted = await post(query(sealed), sealed);
      expect([accepted.status, await accepted.text()]).toEqual([200, 'success']);
      expect(await statusOf(row.id)).toBe('visible');
    } finally {
      server.wechat!.releasePushes();
    }
  });
});

/** A message that made it through moderation, as others see it. */
async function visibleMessage(person: Person, body: string): Promise<Row> {
  const row = await send(person, { body });
  await waitFor('visible', async () => (await statusOf(row.id)) === 'visible', 20000);
  return row;
}

describe('reports and moderators', () => {
  test('three different people reporting a message hide it from everyone but moderators', async () => {
    const row = await visibleMessage(author, '会被举报的话');
    const reporters = await Promise.all(['举报人甲', '举报人乙', '举报人丙'].map((person) => wechatUser(server, { person })));
    for (const [i, person] of reporters.entries()) {
      const { error } = await person.sb.from('reports').insert({ message_id: row.id, reason: i === 0 ? 'abuse' : 'spam' });
      expect(error).toBeNull();
      expect(await statusOf(row.id)).toBe(i < 2 ? 'visible' : 'hidden');
    }
    // The placeholder stays (so live screens update), the content is gone from the API.
    expect(await visibleTo(reader, row.id)).toMatchObject({ status: 'hidden', body: null });
    expect(await visibleTo(author, row.id)).toMatchObject({ status: 'hidden', body: null });
    const { data: queue } = await moderator.sb.rpc('moderation_queue');
    expect((queue as Array<Row>).find((item) => item.id === row.id)).toMatchObject({
      status: 'hidden',
      body: '会被举报的话',
      reports: { abuse: 1, spam: 2 },
      openid: server.wechat!.openidOf(author.person),
      banned: false,
    });
  });

  test('one report per person per message; not of one’s own message, nor of one not shown to them', async () => {
    const row = await visibleMessage(author, '举报规则');
    expect((await reader.sb.from('reports').insert({ message_id: row.id, reason: 'spam' })).error).toBeNull();
    expect((await reader.sb.from('reports').insert({ message_id: row.id, reason: 'abuse' })).error).toMatchObject({ code: '23505' });
    expect((await author.sb.from('reports').insert({ message_id: row.id, reason: 'spam' })).error).toMatchObject({ code: '42501' });
    const pending = await send(author, { body: '待审测试词' });
    await waitFor('held', async () => (await statusOf(pending.id)) === 'held', 20000);
    expect((await reader.sb.from('reports').insert({ message_id: pending.id, reason: 'spam' })).error).toMatchObject({ code: '42501' });
    expect((await reader.sb.from('reports').insert({ message_id: row.id + 0, reason: 'because' })).error).toMatchObject({ code: '23514' });
  });

  test('moderators hide, restore, ban and unban; the actions are logged', async () => {
    const row = await visibleMessage(author, '版主处理的话');
    expect((await moderator.sb.rpc('moderate_message', { message: row.id, action: 'hide' })).data).toBe('hidden');
    expect(await visibleTo(reader, row.id)).toMatchObject({ status: 'hidden', body: null });
    expect((await moderator.sb.rpc('moderate_message', { message: row.id, action: 'restore' })).data).toBe('visible');
    expect(await visibleTo(reader, row.id)).toMatchObject({ status: 'visible', body: '版主处理的话' });

    const held = await send(author, { body: '待审测试词：请版主看看' });
    await waitFor('held', async () => (await statusOf(held.id)) === 'held', 20000);
    expect((await moderator.sb.rpc('moderate_message', { message: held.id, action: 'restore' })).data).toBe('visible');
    expect(await visibleTo(reader, held.id)).toMatchObject({ body: '待审测试词：请版主看看' });

    const { data: openid, error } = await moderator.sb.rpc('ban_author', { message: row.id, reason: '多次发布广告' });
    expect(error).toBeNull();
    expect(openid).toBe(server.wechat!.openidOf(author.person));
    expect((await moderator.sb.rpc('unban', { person: openid })).error).toBeNull();
    const log = await moderator.sb.from('moderation_log').select('action, message_id').order('id');
    expect((log.data as Array<{ action: string }>).map((entry) => entry.action)).toEqual(['hide', 'restore', 'restore', 'ban', 'unban']);
  });

  test('anyone who is not a moderator gets 403 for every moderator action and sees no log', async () => {
    const row = await visibleMessage(author, '普通人不能管');
    for (const [fn, args] of [
      ['moderation_queue', {}],
      ['moderate_message', { message: row.id, action: 'hide' }],
      ['ban_author', { message: row.id, reason: '我说的' }],
      ['unban', { person: 'o-anyone' }],
      ['withheld_message', { message: row.id }],
    ] as const) {
      const { error, status } = await reader.sb.rpc(fn, args as never);
      expect([status, error?.code]).toEqual([403, '42501']);
    }
    expect(await statusOf(row.id)).toBe('visible');
    expect((await reader.sb.from('moderation_log').select('*')).data).toEqual([]);
    expect((await reader.sb.from('moderators').insert({ user_id: reader.id })).error).toMatchObject({ code: '42501' });
  });

  test('a banned person can read but not post, upload or report, and is told why; every session of theirs', async () => {
    const target = await wechatUser(server, { person: '捣乱者' });
    const row = await visibleMessage(target, '捣乱之前');
    await moderator.sb.rpc('ban_author', { message: row.id, reason: '辱骂他人' });
    const again = await wechatUser(server, { person: '捣乱者' });
    for (const person of [target, again]) {
      const insert = await person.sb.from('messages').insert(textMessage(roomId, { body: '还想说话' }));
      expect(insert.error).toMatchObject({ code: 'RCBAN', message: expect.stringContaining('辱骂他人') });
      const upload = await person.sb.storage
        .from('images')
        .upload(`${person.id}/2026-12/${randomUUID()}.png`, png(), { contentType: 'image/png' });
      expect(upload.error).toMatchObject({ statusCode: '403' });
      expect((await person.sb.from('reports').insert({ message_id: row.id, reason: 'spam' })).error).toMatchObject({ code: '42501' });
      expect((await person.sb.from('messages').select('id').limit(1)).error).toBeNull();
      expect((await person.sb.from('bans').select('reason')).data).toEqual([{ reason: '辱骂他人' }]);
    }
    await moderator.sb.rpc('unban', { person: server.wechat!.openidOf('捣乱者') });
    expect((await again.sb.from('messages').insert(textMessage(roomId, { body: '改过自新' }))).error).toBeNull();
  });
});

describe('recall and block', () => {
  test('recall within 2 minutes: everyone gets the placeholder by Realtime; the content stays only for moderators', async () => {
    const row = await visibleMessage(author, '说错了');
    const watching = await subscribeChanges(reader.sb, `room-${randomUUID()}`, [{ event: 'UPDATE', table: 'messages' }]);
    expect((await author.sb.rpc('recall_message', { message: row.id })).error).toBeNull();
    // The turn to visible may still be on its way: the recall is the update that says recalled.
    const recall = await waitFor('recall delivered', () =>
      watching.changes.find((c) => c.new.id === row.id && c.new.status === 'recalled'),
    );
    expect(recall.new).toMatchObject({ body: null, image_path: null });
    for (const person of [reader, author]) expect(await visibleTo(person, row.id)).toMatchObject({ status: 'recalled', body: null });
    expect((await moderator.sb.rpc('withheld_message', { message: row.id })).data).toMatchObject({ body: '说错了', status: 'recalled' });
    await reader.sb.removeChannel(watching.channel);
  });

  test('recall later than 2 minutes, or of someone else’s message, is refused with a clear error', async () => {
    const row = await visibleMessage(author, '太久了');
    await sql(`update public.messages set created_at = now() - interval '2 minutes 1 second' where id = $1`, [row.id]);
    expect((await author.sb.rpc('recall_message', { message: row.id })).error).toMatchObject({
      code: 'RCLAT',
      message: expect.stringContaining('within 2 minutes'),
    });
    const fresh = await visibleMessage(author, '别人的');
    expect((await reader.sb.rpc('recall_message', { message: fresh.id })).error).toMatchObject({ code: '42501' });
    expect(await statusOf(row.id)).toBe('visible');
    expect(await statusOf(fresh.id)).toBe('visible');
  });

  test('a block follows the account: hidden on every device of the blocker, over REST and Realtime; unblock restores', async () => {
    const blocker = await wechatUser(server, { person: '不想看的人' });
    const before = await visibleMessage(author, '屏蔽之前');
    expect((await blocker.sb.from('blocks').insert({ blocked: author.id, blocked_name: '作者' })).error).toBeNull();
    const otherDevice = await wechatUser(server, { person: '不想看的人' });
    const watching = await subscribeChanges(otherDevice.sb, `room-${randomUUID()}`, [{ event: '*', table: 'messages' }]);
    const after = await visibleMessage(author, '屏蔽之后');
    await sleep(500);
    expect(watching.changes.filter((c) => c.new.id === after.id)).toEqual([]);
    for (const person of [blocker, otherDevice]) {
      expect(await visibleTo(person, before.id)).toBeUndefined();
      expect(await visibleTo(person, after.id)).toBeUndefined();
    }
    expect((await otherDevice.sb.from('blocks').select('blocked, blocked_name')).data).toEqual([
      { blocked: author.id, blocked_name: '作者' },
    ]);
    expect(await visibleTo(reader, after.id)).toMatchObject({ body: '屏蔽之后' });
    expect((await otherDevice.sb.from('blocks').delete().eq('blocked', author.id)).error).toBeNull();
    expect(await visibleTo(blocker, after.id)).toMatchObject({ body: '屏蔽之后' });
    expect((await blocker.sb.from('blocks').insert({ blocked: blocker.id, blocked_name: '自己' })).error).toMatchObject({ code: '23514' });
    await otherDevice.sb.removeChannel(watching.channel);
  });
});
