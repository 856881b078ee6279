// The mini program's engine as WeChat runs it: the vendor bundle, the platform layer and the core,
// compiled and loaded into a realm with only ECMAScript built-ins, timers, console and a `wx`
// (wx-node: real loopback HTTP, WebSocket and files), against a local-supabase. The other user is
// the official client in Node. Every scenario checks that each message arrives exactly once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { ChatMessage, ConnectionState, MessageRow, RoomPatch } from '../miniprogram/core/types';
import type * as RoomSessionModule from '../miniprogram/core/room-session';
import type * as ServicesModule from '../miniprogram/services';
import type * as WechatLoginModule from '../miniprogram/core/wechat-login';
import { gradientPng } from './support/png';
import { wechatUser, startTestServer, type TestServer } from './support/server';
import { ABSENT_GLOBALS, createWechatRealm, launchWechatApp, type WechatApp } from './support/wechat-realm';
import { waitFor } from './support/wait';

const ROLE = { name: '楚留香', color: '#e4572e' };

let server: TestServer;
let other: Awaited<ReturnType<typeof wechatUser>>;
let roomId: number;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wechat-runtime-'));
const storageFile = path.join(workDir, 'wx-storage.json');
const photo = path.join(workDir, 'photo.png');

/** One launch of the mini program: a realm, its wx, and the platform created in it. */
const running: WechatApp[] = [];

function launch(): WechatApp {
  // Every launch is the same phone: the same storage and the same WeChat account.
  const launched = launchWechatApp(server, { storageFile, wechat: { apiBase: server.wechat!.url, person: 'runtime-phone' } });
  const app: WechatApp = {
    ...launched,
    async close() {
      running.splice(running.indexOf(app), 1);
      await launched.close();
    },
  };
  running.push(app);
  return app;
}

/** The room session of the core, composed by the app's own services.ts over the platform. */
async function openRoom(app: WechatApp) {
  const { createServices } = app.realm.require<typeof ServicesModule>('services');
  const services = createServices(app.platform);
  // Every launch is the same person: the first one creates their character, later ones find it.
  if ((await services.characters.load()).length === 0) {
    expect(await services.characters.save(null, { ...ROLE, note: '', portraitPath: null })).toMatchObject({ ok: true });
  }
  const room = services.room() as RoomSessionModule.RoomSession;
  let connection: ConnectionState | null = null;
  const errors: string[] = [];
  room.onPatch((patch: RoomPatch) => {
    if (patch.type === 'connection') connection = patch.state;
    if (patch.type === 'error') errors.push(patch.detail);
  });
  return {
    room,
    errors,
    connection: () => connection,
    /** The list as plain data (it lives in the other realm). */
    messages: (): ChatMessage[] => JSON.parse(JSON.stringify(room.messages())),
  };
}

function countBody(messages: ChatMessage[], body: string): number {
  return messages.filter((m) => m.body === body).length;
}

/** Rows with this body in the database, as another user reads them. */
async function rowsWithBody(body: string): Promise<MessageRow[]> {
  const { data, error } = await other.sb.from('messages').select('*').eq('body', body);
  if (error) throw error;
  return data as MessageRow[];
}

async function postAsOther(body: string): Promise<MessageRow> {
  const { data, error } = await other.sb
    .from('messages')
    .insert({ room_id: roomId, username: '陆小凤', avatar_color: '#2e86ab', kind: 'text', body, client_id: cryptoId() })
    .select()
    .single();
  if (error) throw error;
  return data as MessageRow;
}

/** GET over a connection of its own, so no pooled keep-alive socket outlives the server. */
function download(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

function cryptoId(): string {
  return crypto.randomUUID();
}

beforeAll(async () => {
  fs.writeFileSync(photo, gradientPng(1400, 350));
  server = await startTestServer();
  other = await wechatUser(server, { vsn: '1.0.0' });
  const { data, error } = await other.sb.from('rooms').select('id').eq('slug', 'lobby').single();
  if (error) throw error;
  roomId = (data as { id: number }).id;
}, 60000);

afterAll(async () => {
  for (const app of [...running]) await app.close();
  await server?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe('the realm', () => {
  it('has only ECMAScript built-ins, timers, console and wx', () => {
    const realm = createWechatRealm({});
    const present = ABSENT_GLOBALS.filter((name) => realm.evaluate<string>(`typeof ${name}`) !== 'undefined');
    expect(present).toEqual([]);
    expect(realm.evaluate('[typeof setTimeout, typeof clearInterval, typeof console, typeof wx, typeof Promise, typeof Proxy]')).toEqual(
      expect.arrayContaining(['function', 'function', 'object', 'object', 'function', 'function']),
    );
    realm.dispose();
  });
});

describe('supabase-js in the WeChat realm', () => {
  let userId: string;

  it('signs in with WeChat (wx.login, the wechat-login function, verifyOtp) and keeps the session in wx storage', async () => {
    const app = launch();
    const { signInWithWechat } = app.realm.require<typeof WechatLoginModule>('core/wechat-login');
    await signInWithWechat(app.platform.supabase, app.platform.login);
    const { data, error } = await app.platform.supabase.auth.getSession();
    expect(error).toBeNull();
    userId = data.session!.user.id;
    expect(data.session!.user.app_metadata.openid).toBe(server.wechat!.openidOf('runtime-phone'));
    // Through the core's device store: its key prefix, and the session text stored as JSON.
    const stored = Object.entries(app.nodeWx.storage()).find(([key]) => /^auth:sb-.+-auth-token$/.test(key));
    expect(stored).toBeDefined();
    expect(JSON.parse(JSON.parse(stored![1] as string)).user.id).toBe(userId);
    expect(app.platform.supabase.realtime.endpointURL()).toContain('vsn=1.0.0');
    await app.close();
  });

  it('restores the session after a restart (new realm, same wx storage)', async () => {
    const app = launch();
    const { data } = await app.platform.supabase.auth.getSession();
    expect(data.session?.user.id).toBe(userId);
    const { data: user } = await app.platform.supabase.auth.getUser();
    expect(user.user?.id).toBe(userId);
    await app.close();
  });

  it('selects, inserts, uploads and receives over realtime, each exactly once', async () => {
    const app = launch();
    const { supabase } = app.platform;
    // supabase-js puts the access token into the join payload when subscribe() is called: a
    // channel subscribed before the restored session is loaded joins as anon and, under RLS,
    // never sees a row. The app's Backend reads the session first; so does this test.
    await supabase.auth.getSession();
    const received: MessageRow[] = [];
    const channel = supabase
      .channel('runtime-test')
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages', filter: `room_id=eq.${roomId}` }, (payload) =>
        received.push(JSON.parse(JSON.stringify(payload.new))),
      );
    await new Promise<void>((resolve, reject) =>
      channel.subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : status !== 'CLOSED' && reject(err ?? new Error(status)))),
    );

    const body = `supabase-js 你好 ${Date.now()}`;
    const insert = await supabase
      .from('messages')
      .insert({ room_id: roomId, username: ROLE.name, avatar_color: ROLE.color, kind: 'text', body, client_id: cryptoId() })
      .select()
      .single();
    expect(insert.error).toBeNull();
    const select = await supabase.from('messages').select('*').eq('room_id', roomId).order('id', { ascending: false }).limit(50);
    expect(select.error).toBeNull();
    expect((select.data as MessageRow[]).filter((row) => row.body === body)).toHaveLength(1);

    const fromOther = await postAsOther(`from the other client ${Date.now()}`);
    await waitFor('the other client message over realtime', () => received.some((row) => row.id === fromOther.id), 15000);
    await waitFor('our own insert over realtime', () => received.some((row) => row.body === body), 15000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.filter((row) => row.id === fromOther.id)).toHaveLength(1);
    expect(received.filter((row) => row.body === body)).toHaveLength(1);

    const objectPath = `${userId}/2026-11/runtime.png`;
    const progress: number[] = [];
    app.nodeWx.chooseNext([photo]);
    const image = (await app.platform.pickImage())!;
    expect(image).toMatchObject({ width: 1280, height: 320, mime: 'image/png' });
    await app.platform.uploader.upload(objectPath, image, (p) => progress.push(p)).done;
    expect(progress[progress.length - 1]).toBe(100);
    const publicUrl = supabase.storage.from('images').getPublicUrl(objectPath).data.publicUrl;
    const stored = await download(publicUrl);
    expect(stored.status).toBe(200);
    expect(stored.body.equals(fs.readFileSync(app.nodeWx.realPath(image.path)))).toBe(true);
    await app.close();
  });
});

describe('the room (core) in the WeChat realm', () => {
  let app: WechatApp;
  let chat: Awaited<ReturnType<typeof openRoom>>;
  const history: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) history.push((await postAsOther(`history ${i} ${Date.now()}`)).body!);
    app = launch();
    chat = await openRoom(app);
    await chat.room.start();
    await waitFor('the room to connect', () => chat.connection() === 'connected', 15000);
  });

  afterAll(async () => {
    chat.room.stop();
    await app.close();
  });

  it('shows the history in server order, once each', () => {
    const messages = chat.messages();
    for (const body of history) expect(countBody(messages, body)).toBe(1);
    const ids = messages.map((m) => m.id!);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it('sends a text: pending at once, then sent, stored exactly once', async () => {
    const body = `text from WeChat ${Date.now()}`;
    chat.room.sendText(body);
    expect(chat.messages().find((m) => m.body === body)?.status).toBe('sending');
    await waitFor('the text to be sent', () => chat.messages().find((m) => m.body === body && m.status === 'sent'), 15000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(countBody(chat.messages(), body)).toBe(1);
    expect(await rowsWithBody(body)).toHaveLength(1);
  });

  it('sends an image: compressed, uploaded with wx.uploadFile, then inserted, exactly once', async () => {
    app.nodeWx.chooseNext([photo]);
    const image = (await app.platform.pickImage())!;
    const myImages = () => chat.messages().filter((m) => m.kind === 'image' && m.mine && m.status === 'sent');
    const before = myImages().length;
    chat.room.sendImage(image);
    const sent = await waitFor('the image to be sent', () => myImages()[before], 15000);
    expect(sent).toMatchObject({ imageWidth: 1280, imageHeight: 320 });
    expect(sent.imageUrl).toMatch(/\/storage\/v1\/object\/public\/images\//);
    const { data } = await other.sb.from('messages').select('*').eq('id', sent.id!);
    expect(data).toHaveLength(1);
    expect((await download(sent.imageUrl!)).status).toBe(200);
    expect(chat.messages().filter((m) => m.key === sent.key)).toHaveLength(1);
  });

  it('receives a message from another client over realtime, exactly once', async () => {
    const row = await postAsOther(`live from the other client ${Date.now()}`);
    await waitFor('the live message', () => chat.messages().some((m) => m.id === row.id), 15000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(chat.messages().filter((m) => m.id === row.id)).toHaveLength(1);
  });

  it('fills the gap after the socket was interrupted in the background, with no duplicate', async () => {
    await app.nodeWx.goBackground();
    await waitFor('the socket to be interrupted', () => app.nodeWx.openSockets() === 0, 15000);
    const missed = [await postAsOther(`missed 1 ${Date.now()}`), await postAsOther(`missed 2 ${Date.now()}`)];
    app.nodeWx.goForeground();
    await waitFor('the gap to be filled', () => missed.every((row) => chat.messages().some((m) => m.id === row.id)), 15000);
    await waitFor('the room to reconnect', () => chat.connection() === 'connected', 15000);
    const live = await postAsOther(`after the gap ${Date.now()}`);
    await waitFor('a live message after reconnecting', () => chat.messages().some((m) => m.id === live.id), 15000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const messages = chat.messages();
    for (const row of [...missed, live]) expect(messages.filter((m) => m.id === row.id)).toHaveLength(1);
    const ids = messages.filter((m) => m.id !== null).map((m) => m.id!);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // One client, one socket: the old one is gone, not left beside the new one.
    expect(app.nodeWx.openSockets()).toBe(1);
  });

  it('delivers what was sent offline once the network returns, exactly once', async () => {
    app.nodeWx.setOffline(true);
    await waitFor('the socket to drop', () => app.nodeWx.openSockets() === 0, 15000);
    const body = `sent while offline ${Date.now()}`;
    chat.room.sendText(body);
    const missed = await postAsOther(`posted while we were offline ${Date.now()}`);
    // Long enough for the first send attempt to fail against the dead network.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(chat.messages().find((m) => m.body === body)?.status).not.toBe('sent');
    expect(await rowsWithBody(body)).toHaveLength(0);

    app.nodeWx.setOffline(false);
    await waitFor('the offline message to be delivered', () => chat.messages().find((m) => m.body === body && m.status === 'sent'), 15000);
    await waitFor('the message missed while offline', () => chat.messages().some((m) => m.id === missed.id), 15000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(countBody(chat.messages(), body)).toBe(1);
    expect(chat.messages().filter((m) => m.id === missed.id)).toHaveLength(1);
    expect(await rowsWithBody(body)).toHaveLength(1);
    expect(app.nodeWx.openSockets()).toBe(1);
  });
});
