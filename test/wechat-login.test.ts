// WeChat login end to end: codes from the fake WeChat API, the wechat-login Edge Function run by
// Deno, /verify from the phone; the database rule that only WeChat people write; Auth's per-address
// limits as a hosted project applies them; and MemFire's built-in login driven by MemFire's own SDK.
import { randomUUID } from 'node:crypto';
import { memoryStore } from './support/memory-store';
import { RoomSession } from '../miniprogram/core/room-session';
import { signInWithWechat } from '../miniprogram/core/wechat-login';
import { startFakeWechat, type FakeWechat } from '../local-supabase/src/wechat/fake-api';
import { localWechatLogin, nodeBackend, nodeClient } from '../lib/node-client';
import { createClient as createMemfireClient } from 'supabase-wechat-stable-v2';
import { IMAGE_FIXTURES, RenderedList } from './support/core-fakes';
import {
  anonymousUser,
  client,
  fetchFrom,
  startTestServer,
  superuserQuery,
  textMessage,
  wechatUser,
  type TestServer,
} from './support/server';
import { createNodeWx, installWx } from './support/wx-node';
import { waitFor } from './support/wait';

jest.setTimeout(60000);

let server: TestServer;
let roomId: number;

beforeAll(async () => {
  // Anonymous sign-ins are on only so a test can show what a user without WeChat cannot do.
  server = await startTestServer({ config: { auth: { anonymousSignIns: true } } });
  roomId = (await superuserQuery<{ id: number }>(server.dbUrl, `select id from public.rooms where slug = 'lobby'`)).rows[0].id;
});
afterAll(() => server.stop());

/** POST to the function as the app does; the status and JSON answer. */
async function callLogin(body: unknown, init: { method?: string } = {}) {
  const res = await fetch(`${server.url}/functions/v1/wechat-login`, {
    method: init.method ?? 'POST',
    headers: { apikey: server.anonKey, Authorization: `Bearer ${server.anonKey}`, 'Content-Type': 'application/json' },
    body: init.method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function sessionCount(): Promise<number> {
  return Number((await superuserQuery(server.dbUrl, 'select count(*) as n from auth.sessions')).rows[0].n);
}

describe('the wechat-login function', () => {
  test('the same person logging in again with a new code is the same user; two people are two users', async () => {
    const first = await wechatUser(server, { person: '楚留香' });
    const again = await wechatUser(server, { person: '楚留香' });
    const other = await wechatUser(server, { person: '陆小凤' });
    expect(again.id).toBe(first.id);
    expect(again.session.access_token).not.toBe(first.session.access_token);
    expect(other.id).not.toBe(first.id);
    expect(first.user.app_metadata.openid).toBe(server.wechat!.openidOf('楚留香'));
    expect(other.user.app_metadata.openid).toBe(server.wechat!.openidOf('陆小凤'));
    // The openid sits in app_metadata, which users cannot edit, never in user_metadata.
    expect(first.user.user_metadata).toEqual({});
  });

  test('a second device of the same person sees their messages as "mine"', async () => {
    const phone = await wechatUser(server, { person: '花满楼' });
    const sent = textMessage(roomId, { body: '第一台手机发的' });
    expect((await phone.sb.from('messages').insert(sent)).error).toBeNull();

    const store = memoryStore();
    const client2 = nodeClient(server.url, server.anonKey, store, { autoRefreshToken: false });
    const session = new RoomSession({
      backend: nodeBackend(client2, localWechatLogin(server.url, server.anonKey, '花满楼')),
      store,
      roomSlug: 'lobby',
      speaker: () => ({ name: '花满楼', color: '#1f618d', characterId: null }),
    });
    const rendered = new RenderedList();
    session.onPatch(rendered.apply);
    await session.start();
    await waitFor('the message on the second device', () => rendered.messages.find((m) => m.body === '第一台手机发的'));
    expect(rendered.messages.find((m) => m.body === '第一台手机发的')).toMatchObject({ mine: true, userId: phone.id });
    session.stop();
    await client2.removeAllChannels();
  });

  test('the session refreshes as usual and stays the same person', async () => {
    const person = await wechatUser(server, { person: '西门吹雪' });
    const { data, error } = await person.sb.auth.refreshSession();
    expect(error).toBeNull();
    expect(data.session!.refresh_token).not.toBe(person.session.refresh_token);
    expect(data.user!.id).toBe(person.id);
    expect(data.user!.app_metadata.openid).toBe(server.wechat!.openidOf('西门吹雪'));
  });

  test('a reused code and an expired code get invalid_code and no session', async () => {
    const code = server.wechat!.issueCode('李寻欢');
    expect((await callLogin({ code })).status).toBe(200);
    const before = await sessionCount();
    expect(await callLogin({ code })).toEqual({
      status: 400,
      body: { code: 'invalid_code', message: expect.stringContaining('already used') },
    });

    const stale = server.wechat!.issueCode('李寻欢');
    server.wechat!.advanceClock(5 * 60 * 1000 + 1000);
    expect((await callLogin({ code: stale })).body).toMatchObject({ code: 'invalid_code' });
    expect(await sessionCount()).toBe(before);
  });

  test.each([
    ['no JSON', 'not json', 400, 'invalid_request'],
    ['no code', {}, 400, 'invalid_request'],
    ['a code that is not a string', { code: 42 }, 400, 'invalid_request'],
    ['a code far longer than WeChat ever gives', { code: 'x'.repeat(257) }, 400, 'invalid_request'],
  ])('%s: a clear 4xx, nothing created', async (_, body, status, code) => {
    const users = (await superuserQuery(server.dbUrl, 'select count(*) as n from auth.users')).rows[0].n;
    expect(await callLogin(body)).toEqual({ status, body: { code, message: expect.any(String) } });
    expect((await superuserQuery(server.dbUrl, 'select count(*) as n from auth.users')).rows[0].n).toBe(users);
  });

  test('GET is refused with 405; the preflight is answered by the function with CORS headers', async () => {
    expect((await callLogin(undefined, { method: 'GET' })).status).toBe(405);
    const preflight = await fetch(`${server.url}/functions/v1/wechat-login`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('apikey');
  });

  test('WeChat busy is retried by the function; still busy after the retries, it is reported', async () => {
    const fake = server.wechat!;
    const before = fake.calls('jscode2session');
    fake.failNext('jscode2session', -1, 2);
    expect((await callLogin({ code: fake.issueCode('阿飞') })).status).toBe(200);
    expect(fake.calls('jscode2session') - before).toBe(3);

    fake.failNext('jscode2session', -1, 3);
    expect(await callLogin({ code: fake.issueCode('阿飞') })).toEqual({
      status: 503,
      body: { code: 'wechat_busy', message: expect.any(String) },
    });
  });

  test.each([
    [40226, 403, 'wechat_high_risk'],
    [45011, 429, 'wechat_rate_limited'],
    [40013, 500, 'wechat_misconfigured'],
  ])('WeChat errcode %i is answered %i %s', async (errcode, status, code) => {
    server.wechat!.failNext('jscode2session', errcode);
    expect(await callLogin({ code: server.wechat!.issueCode('荆无命') })).toEqual({ status, body: { code, message: expect.any(String) } });
  });

  test('a person WeChat flags as high-risk is refused with that reason, and the app stops retrying', async () => {
    server.wechat!.flagHighRisk('上官金虹');
    const sb = client(server);
    await expect(signInWithWechat(sb, localWechatLogin(server.url, server.anonKey, '上官金虹'))).rejects.toMatchObject({
      status: 403,
      code: 'wechat_high_risk',
    });
    expect((await sb.auth.getSession()).data.session).toBeNull();
  });

  test('wrong AppSecret in the function secrets: a 500 that names the misconfiguration, not the person', async () => {
    const fake: FakeWechat = await startFakeWechat({ appid: 'wx00000000000000b2', secret: 'the-right-secret' });
    const misconfigured = await startTestServer({ wechat: { appid: fake.appid, secret: 'a-wrong-secret', apiBase: fake.url } });
    try {
      await expect(
        signInWithWechat(client(misconfigured), localWechatLogin(misconfigured.url, misconfigured.anonKey, '某人')),
      ).rejects.toMatchObject({
        status: 500,
        code: 'wechat_misconfigured',
      });
    } finally {
      await misconfigured.stop();
      await fake.stop();
    }
  });
});

describe('only WeChat people write', () => {
  test('an anonymous session can read but not send a message or upload an image', async () => {
    const stranger = await anonymousUser(server);
    expect((await stranger.sb.from('messages').select('id').limit(1)).error).toBeNull();
    const insert = await stranger.sb.from('messages').insert(textMessage(roomId, { body: '匿名的话' }));
    expect(insert.error).toMatchObject({ code: '42501' });
    const upload = await stranger.sb.storage
      .from('images')
      .upload(`${stranger.id}/2026-12/${randomUUID()}.png`, Buffer.from(IMAGE_FIXTURES.png, 'base64'), { contentType: 'image/png' });
    expect(upload.error).toMatchObject({ statusCode: '403' });
    expect((await superuserQuery(server.dbUrl, `select count(*) as n from public.messages where body = '匿名的话'`)).rows[0].n).toBe(0);

    const person = await wechatUser(server, { person: '叶开' });
    expect((await person.sb.from('messages').insert(textMessage(roomId, { body: '微信用户的话' }))).error).toBeNull();
    const photo = await person.sb.storage
      .from('images')
      .upload(`${person.id}/2026-12/${randomUUID()}.png`, Buffer.from(IMAGE_FIXTURES.png, 'base64'), { contentType: 'image/png' });
    expect(photo.error).toBeNull();
  });

  test('nobody can make themselves a WeChat person: an openid in user_metadata (which users edit) counts for nothing', async () => {
    const stranger = await anonymousUser(server);
    const openid = server.wechat!.openidOf('叶开');
    const updated = await stranger.sb.auth.updateUser({ data: { openid } });
    expect(updated.data.user!.user_metadata).toEqual({ openid });
    await stranger.sb.auth.refreshSession();
    expect((await stranger.sb.from('messages').insert(textMessage(roomId))).error).toMatchObject({ code: '42501' });
    // Nor can a user change their address to another person's: only user_metadata is theirs to edit.
    const person = await wechatUser(server, { person: '叶开' });
    const taken = await stranger.sb.auth.updateUser({ email: person.user.email });
    expect(taken.error).toMatchObject({ status: 422 });
  });
});

describe("Auth's per-address limits, as on a hosted project (config.toml defaults)", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ config: { auth: { rateLimits: { tokenVerifications: 30 } } } });
  });
  afterAll(() => limited.stop());

  async function phoneLogin(address: string, person: string) {
    const phoneFetch = fetchFrom(address);
    const sb = client(limited, { fetch: phoneFetch });
    await signInWithWechat(sb, { ...localWechatLogin(limited.url, limited.anonKey, person), fetch: phoneFetch });
    return sb;
  }

  test('one phone gets 30 logins in a burst, then 429; other phones are not affected', async () => {
    for (let i = 0; i < 30; i++) await phoneLogin('127.0.0.2', `常客${i}`);
    await expect(phoneLogin('127.0.0.2', '第三十一位')).rejects.toMatchObject({ status: 429, code: 'over_request_rate_limit' });
    // Every login called the same function from the same place; the limit still counts phones, so
    // 40 people on 40 other phones all get in: capacity grows with phones, not with the function.
    const others = await Promise.all(Array.from({ length: 40 }, (_, i) => phoneLogin(`127.0.1.${i + 1}`, `新人${i}`)));
    expect(others).toHaveLength(40);
    const users = Number((await superuserQuery(limited.dbUrl, 'select count(*) as n from auth.users')).rows[0].n);
    expect(users).toBe(30 + 1 + 40);
  });
});

describe("MemFire's built-in WeChat login, through MemFire's own SDK", () => {
  // The SDK is built for the mini program: it calls the global `wx`, here the fake WeChat client.
  let restoreWx: () => void;
  let nodeWx: ReturnType<typeof createNodeWx>;
  beforeAll(() => {
    nodeWx = createNodeWx({ wechat: { apiBase: server.wechat!.url, person: '胡铁花' } });
    restoreWx = installWx(nodeWx);
  });
  afterAll(() => {
    restoreWx();
    nodeWx.close();
  });

  async function memfireLogin() {
    // The test ends before an auto-refresh would be due; its ticker would outlive the `wx` it needs.
    const memfire = createMemfireClient(server.url, server.anonKey, { auth: { autoRefreshToken: false } });
    const code = await new Promise<string>((resolve, reject) =>
      nodeWx.wx.login({ success: (result) => resolve(result.code), fail: reject }),
    );
    return { memfire, code, result: await memfire.auth.signInWithWechat({ code }) };
  }

  test('signInWithWechat answers a session; the same person again is the same user, and may post', async () => {
    const first = await memfireLogin();
    expect(first.result.error).toBeNull();
    const user = first.result.data.user!;
    expect(first.result.data.session!.access_token).toEqual(expect.any(String));
    expect(user.app_metadata.openid).toBe(server.wechat!.openidOf('胡铁花'));
    expect(user.identities).toEqual([expect.objectContaining({ provider: 'wechat', id: server.wechat!.openidOf('胡铁花') })]);

    const second = await memfireLogin();
    expect(second.result.data.user!.id).toBe(user.id);
    const insert = await second.memfire.from('messages').insert(textMessage(roomId, { body: '来自 MemFire 的问候', user_id: user.id }));
    expect(insert.error).toBeNull();
  });

  test('a reused code is refused with an error and no session', async () => {
    const { memfire, code } = await memfireLogin();
    const again = await memfire.auth.signInWithWechat({ code });
    expect(again.error).not.toBeNull();
    expect(again.data.session).toBeNull();
  });

  test("the app's own MemFire path signs in the same person as MemFire's SDK", async () => {
    const sdk = await memfireLogin();
    const sb = client(server);
    await signInWithWechat(sb, localWechatLogin(server.url, server.anonKey, '胡铁花', 'memfire'));
    expect((await sb.auth.getSession()).data.session!.user.id).toBe(sdk.result.data.user!.id);
  });
});
