// The core over the official supabase-js (Node fetch, ws, realtime vsn 1.0.0) against a real
// local-supabase: history, sending, receiving, gap-fill, and failure injection through a TCP proxy
// that can refuse connections or lose one answer, plus an app kill and a server restart.
import fs from 'node:fs';
import path from 'node:path';
import type { SupabaseClient } from '@supabase/supabase-js';
import pg from 'pg';
import { memoryStore } from './support/memory-store';
import { RoomSession } from '../miniprogram/core/room-session';
import { zh } from '../miniprogram/core/strings';
import type { ConnectionState, RoomPatch } from '../miniprogram/core/types';
import { IMAGE_FIXTURES, RenderedList } from './support/core-fakes';
import { startFaultProxy } from './support/fault-proxy';
import { startTestServer, tempDir, type TestServer } from './support/server';
import { sleep, waitFor } from './support/wait';
import { localWechatLogin, nodeBackend, nodeClient } from '../lib/node-client';
import { signInWithWechat, type WechatLogin } from '../miniprogram/core/wechat-login';

jest.setTimeout(60000);

interface Device {
  client: SupabaseClient;
  store: ReturnType<typeof memoryStore>;
  login: WechatLogin;
}

let phones = 0;

/** What one phone has: a supabase-js client (its session kept in the device store), the store, its WeChat account. */
function device(url: string, anonKey: string, store = memoryStore(), person = `phone-${++phones}`): Device {
  return { client: nodeClient(url, anonKey, store, { autoRefreshToken: false }), store, login: localWechatLogin(url, anonKey, person) };
}

const openSessions: Array<{ session: RoomSession; client: SupabaseClient }> = [];

async function openRoom(dev: Device, name = '楚留香') {
  const backend = nodeBackend(dev.client, dev.login);
  const session = new RoomSession({
    backend,
    store: dev.store,
    roomSlug: 'lobby',
    speaker: () => ({ name, color: '#c0392b', characterId: null }),
  });
  const rendered = new RenderedList();
  session.onPatch(rendered.apply);
  openSessions.push({ session, client: dev.client });
  await session.start();
  const states = () => rendered.of('connection').map((patch) => (patch as { state: ConnectionState }).state);
  await waitFor('subscribed', () => states()[states().length - 1] === 'connected', 20000);
  return { session, rendered, backend, states };
}

async function closeAll(): Promise<void> {
  for (const { session, client } of openSessions.splice(0)) {
    session.stop();
    await client.removeAllChannels();
    client.realtime.disconnect();
  }
}

let server: TestServer;
let db: pg.Client;

async function rows(where = 'true'): Promise<Array<{ id: number; body: string | null; username: string; client_id: string }>> {
  return (await db.query(`select id, body, username, client_id from public.messages where ${where} order by id`)).rows;
}

/** Another user writing through their own official client. */
async function otherUser(): Promise<SupabaseClient> {
  const { client, login } = device(server.url, server.anonKey);
  await signInWithWechat(client, login);
  return client;
}

async function say(client: SupabaseClient, body: string): Promise<void> {
  const { error } = await client
    .from('messages')
    .insert({ room_id: 1, username: '路人甲', avatar_color: '#1f618d', kind: 'text', body, client_id: crypto.randomUUID() });
  if (error) throw new Error(error.message);
}

function bodies(rendered: RenderedList): Array<string | null> {
  return rendered.messages.map((message) => message.body);
}

describe('against local-supabase', () => {
  let dataDir: string;
  let png: string;

  beforeAll(async () => {
    dataDir = tempDir();
    png = path.join(dataDir, 'photo.png');
    fs.writeFileSync(png, Buffer.from(IMAGE_FIXTURES.png, 'base64'));
    server = await startTestServer({ dataDir });
    db = new pg.Client({ connectionString: server.dbUrl });
    await db.connect();
  });

  afterAll(async () => {
    await closeAll();
    await db.end();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // Scenes point at messages (pinned, last), so messages are deleted rather than truncated.
    await db.query('delete from public.messages');
  });

  afterEach(closeAll);

  test('history: the newest page at once, older pages on request', async () => {
    const writer = await otherUser();
    const { data } = await writer.auth.getUser();
    // Seeded directly: one user's 60 messages would trip the rate limit the app must respect. With
    // the triggers off, the row says itself that it passed moderation.
    await db.query(`set session_replication_role = replica`);
    await db.query(
      `insert into public.messages (room_id, user_id, username, avatar_color, kind, body, client_id, status)
       select 1, $1, '路人甲', '#1f618d', 'text', 'old ' || g, gen_random_uuid(), 'visible' from generate_series(1, 60) g`,
      [data.user!.id],
    );
    await db.query(`set session_replication_role = origin`);

    const room = await openRoom(device(server.url, server.anonKey));
    expect(bodies(room.rendered)).toEqual(Array.from({ length: 50 }, (_, i) => `old ${i + 11}`));
    expect(room.rendered.hasOlder).toBe(true);
    expect(await room.session.loadOlder()).toBe(true);
    expect(bodies(room.rendered)).toEqual(Array.from({ length: 60 }, (_, i) => `old ${i + 1}`));
    expect(await room.session.loadOlder()).toBe(false);
    room.rendered.messages.forEach((message) => expect(message.mine).toBe(false));
  });

  test('send text and an image; another user receives both live, exactly once', async () => {
    const me = await openRoom(device(server.url, server.anonKey), '楚留香');
    const them = await openRoom(device(server.url, server.anonKey), '陆小凤');
    me.session.sendText('在下楚留香');
    me.session.sendImage({ path: png, width: 16, height: 16, size: fs.statSync(png).size, mime: 'image/png' });
    await waitFor('both sent', () => me.rendered.messages.filter((m) => m.status === 'sent').length === 2, 20000);
    await waitFor('both received', () => them.rendered.messages.length === 2, 20000);
    expect(them.rendered.messages.map((m) => [m.username, m.kind, m.mine])).toEqual([
      ['楚留香', 'text', false],
      ['楚留香', 'image', false],
    ]);
    const image = them.rendered.messages[1];
    const response = await fetch(image.imageUrl!);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(fs.readFileSync(png));
    expect(me.rendered.messages.map((m) => m.mine)).toEqual([true, true]);
    expect(await rows()).toHaveLength(2);
    // The echo of our own insert was merged, not added.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(me.rendered.messages).toHaveLength(2);
    me.session.stop();
    them.session.stop();
  });

  test('gap-fill after a forced disconnect: missed messages arrive in order, once', async () => {
    const proxy = await startFaultProxy({ targetPort: server.port, seed: 1 });
    const url = proxy.url;
    try {
      const room = await openRoom(device(url, server.anonKey));
      const writer = await otherUser();
      await say(writer, 'before');
      await waitFor('live message', () => room.rendered.messages.length === 1, 20000);

      proxy.setDown(true);
      await waitFor('drop noticed', () => room.states().includes('reconnecting'), 20000);
      for (const body of ['gap 1', 'gap 2', 'gap 3']) await say(writer, body);
      proxy.setDown(false);
      // realtime-js rejoins by itself; the rejoin triggers the gap-fill.
      await waitFor('gap filled', () => room.rendered.messages.length === 4, 20000);
      expect(bodies(room.rendered)).toEqual(['before', 'gap 1', 'gap 2', 'gap 3']);
      await say(writer, 'after');
      await waitFor('live again', () => room.rendered.messages.length === 5, 20000);
      expect(room.rendered.ids()).toEqual((await rows()).map((row) => row.id));
    } finally {
      await proxy.close();
    }
  });

  test('requests failing: the message waits as sending and goes once the network is back', async () => {
    const proxy = await startFaultProxy({ targetPort: server.port, seed: 1 });
    const url = proxy.url;
    try {
      const room = await openRoom(device(url, server.anonKey));
      proxy.setDown(true);
      room.session.sendText('断网时写的');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(room.rendered.messages).toMatchObject([{ status: 'sending' }]);
      expect(await rows()).toHaveLength(0);
      proxy.setDown(false);
      room.session.resume();
      await waitFor('sent after recovery', () => room.rendered.messages[0].status === 'sent', 20000);
      expect((await rows()).map((row) => row.body)).toEqual(['断网时写的']);
    } finally {
      await proxy.close();
    }
  });

  test('the connection drops mid-send (insert committed, answer lost): exactly one row, shown as sent', async () => {
    const proxy = await startFaultProxy({ targetPort: server.port, seed: 1 });
    const url = proxy.url;
    try {
      const phone = device(url, server.anonKey);
      const room = await openRoom(phone);
      proxy.cutResponseTo('POST /rest/v1/messages');
      room.session.sendText('只发一次');
      await waitFor('shown as sent', () => room.rendered.messages[0]?.status === 'sent', 20000);
      // The outbox retried (a duplicate, counted as success) and is empty.
      await waitFor('outbox settled', () => phone.store.dump()['outbox:lobby'] === undefined, 20000);
      expect(proxy.faults()).toMatchObject([{ kind: 'cut-response', status: 201 }]);
      expect((await rows()).map((row) => row.body)).toEqual(['只发一次']);
      expect(room.rendered.messages).toHaveLength(1);
      expect(room.rendered.messages[0].id).toBe((await rows())[0].id);
    } finally {
      await proxy.close();
    }
  });

  test('app killed with pending messages: the next launch delivers them exactly once', async () => {
    const proxy = await startFaultProxy({ targetPort: server.port, seed: 1 });
    const url = proxy.url;
    const store = memoryStore();
    try {
      const first = await openRoom(device(url, server.anonKey, store));
      proxy.setDown(true);
      first.session.sendText('临走前一');
      first.session.sendText('临走前二');
      await new Promise((resolve) => setTimeout(resolve, 300));
      await first.session.flush();
      await closeAll();
    } finally {
      await proxy.close();
    }

    const second = await openRoom(device(server.url, server.anonKey, store));
    expect(second.rendered.patches[0]).toMatchObject({ type: 'reset' });
    await waitFor('delivered', () => second.rendered.messages.filter((m) => m.status === 'sent').length === 2, 20000);
    expect((await rows()).map((row) => row.body)).toEqual(['临走前一', '临走前二']);
    expect(second.rendered.messages.map((m) => [m.body, m.mine])).toEqual([
      ['临走前一', true],
      ['临走前二', true],
    ]);
    await closeAll();

    const third = await openRoom(device(server.url, server.anonKey, store));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await rows()).toHaveLength(2);
    expect(bodies(third.rendered)).toEqual(['临走前一', '临走前二']);
  });

  test('sixty messages at ten a second against the rate limit: all land, in order, none failed', async () => {
    const room = await openRoom(device(server.url, server.anonKey));
    const lines = Array.from({ length: 60 }, (_, i) => `第${i + 1}条`);
    for (const body of lines) {
      room.session.sendText(body);
      await sleep(100);
    }
    // The database lets 10 through per 10 s: the last ones land about 50 s after the first.
    await waitFor('all sent', () => room.rendered.messages.filter((m) => m.status === 'sent').length === 60, 100000, 100);
    expect((await rows()).map((row) => row.body)).toEqual(lines);
    expect(bodies(room.rendered)).toEqual(lines);
    const updates = room.rendered.of('update') as Array<Extract<RoomPatch, { type: 'update' }>>;
    expect(updates.filter((patch) => patch.changes.status === 'failed')).toEqual([]);
    // The limit was really hit: messages waited, saying why, and the user was told once.
    expect(updates.filter((patch) => patch.changes.error === zh.sendRateLimited).length).toBeGreaterThan(0);
    expect(room.rendered.of('error').filter((patch) => patch.type === 'error' && patch.message === zh.sendRateLimited)).toHaveLength(1);
  }, 150000);

  test('server restarted on the same data and port: the room reconnects, catches up and sends', async () => {
    const room = await openRoom(device(server.url, server.anonKey));
    room.session.sendText('重启前');
    await waitFor('sent before restart', () => room.rendered.messages[0]?.status === 'sent', 20000);

    await db.end();
    await server.stop();
    room.session.sendText('停机时写的');
    server = await startTestServer({ dataDir, port: server.port });
    db = new pg.Client({ connectionString: server.dbUrl });
    await db.connect();

    const writer = await otherUser();
    await say(writer, '重启后别人说的');
    room.session.resume();
    await waitFor(
      'caught up',
      () => room.rendered.messages.length === 3 && room.rendered.messages.every((m) => m.status === 'sent'),
      20000,
    );
    expect((await rows()).map((row) => row.body).sort()).toEqual(['停机时写的', '重启前', '重启后别人说的'].sort());
    expect(room.rendered.ids()).toEqual((await rows()).map((row) => row.id));
    await waitFor('realtime back', () => room.states()[room.states().length - 1] === 'connected', 20000);
    await say(writer, '直播恢复');
    await waitFor('live after restart', () => room.rendered.messages.length === 4, 20000);
  });
});
