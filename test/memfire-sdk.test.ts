// MemFire Cloud's WeChat SDK (npm supabase-wechat-stable-v2, a fork of supabase-js 2 that talks
// through wx.request, wx.connectSocket and the wx file system) against local-supabase: select,
// insert, realtime INSERT events and a storage upload, in Node over the project's wx
// (test/support/wx-node.ts: real loopback HTTP, WebSocket and files).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type SupabaseClient } from 'supabase-wechat-stable-v2';
import { gradientPng } from './support/png';
import { wechatUser, startTestServer, superuserQuery, textMessage, type TestServer } from './support/server';
import { waitFor } from './support/wait';
import { createNodeWx, installWx, type NodeWx } from './support/wx-node';

let server: TestServer;
let nodeWx: NodeWx;
let restoreWx: () => void;
let roomId: number;
const clients: SupabaseClient[] = [];
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memfire-sdk-'));

beforeAll(async () => {
  server = await startTestServer();
  nodeWx = createNodeWx();
  restoreWx = installWx(nodeWx);
  roomId = Number((await superuserQuery<{ id: number }>(server.dbUrl, `select id from public.rooms where slug = 'lobby'`)).rows[0].id);
});

/**
 * Closes an SDK client for good. Its disconnect() silences the browser-style `conn.onclose`, which a
 * SocketTask does not have: the SocketTask's onClose still fires and schedules a reconnect, so wait
 * for that close and cancel the timer (RealtimeClient.reconnectTimer).
 */
async function closeMemFire(sdk: SupabaseClient): Promise<void> {
  const realtime = sdk.realtime;
  const wasOpen = realtime.isConnected();
  const closed = new Promise<void>((resolve) => realtime.stateChangeCallbacks.close.push(() => resolve()));
  await sdk.removeAllChannels();
  if (wasOpen) await closed;
  realtime.reconnectTimer.reset();
}

afterAll(async () => {
  for (const sdk of clients) await closeMemFire(sdk);
  nodeWx?.close();
  restoreWx?.();
  fs.rmSync(workDir, { recursive: true, force: true });
  await server?.stop();
});

/** The SDK as a mini program creates it (its session kept in wx storage). */
function memfireClient(): SupabaseClient {
  const sdk = createClient(server.url, server.anonKey, { auth: { autoRefreshToken: false, storageKey: `sb-memfire-${clients.length}` } });
  clients.push(sdk);
  return sdk;
}

/**
 * The one place this suite signs a user in: an anonymous session from the official client, handed
 * to the SDK with setSession (the fork has no anonymous sign-in). When only WeChat-linked users may
 * write, this becomes a WeChat login; the tests do not depend on how the session was made.
 */
async function signIn(sdk: SupabaseClient): Promise<string> {
  const { session, id } = await wechatUser(server);
  const { error } = await sdk.auth.setSession({ access_token: session.access_token, refresh_token: session.refresh_token });
  expect(error).toBeNull();
  return id;
}

test('select and insert go through wx.request, under the signed-in user', async () => {
  const sdk = memfireClient();
  const userId = await signIn(sdk);
  const body = `来自微信 SDK ${randomUUID()}`;
  const inserted = await sdk.from('messages').insert(textMessage(roomId, { body })).select('id, user_id, body').single();
  expect(inserted.error).toBeNull();
  expect(inserted.data).toEqual({ id: expect.any(Number), user_id: userId, body });

  const selected = await sdk.from('messages').select('id, body').eq('room_id', roomId).order('id', { ascending: false }).limit(1);
  expect(selected.error).toBeNull();
  expect(selected.data).toEqual([{ id: inserted.data!.id, body }]);

  // The fork hands back the whole wx.request response as the error, PostgREST's body in `data`.
  const refused = await sdk.from('messages').insert(textMessage(roomId, { user_id: randomUUID() }));
  expect(refused.error).toMatchObject({ status: 403, data: { code: '42501' } });
});

test('realtime INSERT events arrive over wx.connectSocket', async () => {
  const reader = memfireClient();
  await signIn(reader);
  const received: Array<Record<string, unknown>> = [];
  const statuses: string[] = [];
  reader
    .channel(`room:${roomId}`)
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages', filter: `room_id=eq.${roomId}` }, (change) =>
      received.push(change.new),
    )
    .subscribe((status) => statuses.push(status));
  await waitFor('the SDK channel to be subscribed', () => statuses.includes('SUBSCRIBED'));
  expect(nodeWx.openSockets()).toBe(1);

  const writer = memfireClient();
  await signIn(writer);
  const body = `实时 ${randomUUID()}`;
  expect((await writer.from('messages').insert(textMessage(roomId, { body }))).error).toBeNull();
  const change = await waitFor('the INSERT event', () => received.find((row) => row.body === body));
  expect(change).toMatchObject({ room_id: roomId, body, kind: 'text' });
});

/**
 * A signed-in user picks a photo named `fileName` with wx.chooseMedia and the SDK uploads it into
 * their folder of the app's bucket. The fork takes the picked file itself ({tempFilePath}) and
 * builds the multipart body, typed by the file's extension.
 */
async function uploadPicked(fileName: string) {
  const sdk = memfireClient();
  const userId = await signIn(sdk);
  const photo = path.join(workDir, fileName);
  fs.writeFileSync(photo, gradientPng(64, 48));
  nodeWx.chooseNext([photo]);
  const picked = await new Promise<WechatMiniprogram.ChooseMediaSuccessCallbackResult>((resolve, reject) =>
    nodeWx.wx.chooseMedia({ count: 1, mediaType: ['image'], success: resolve, fail: reject }),
  );
  const name = `${userId}/2026-11/${randomUUID()}${path.extname(fileName)}`;
  const result = await sdk.storage.from('images').upload(name, { tempFilePath: picked.tempFiles[0].tempFilePath } as never);
  return { ...result, name, bytes: fs.readFileSync(photo) };
}

test('a storage upload reads a wx temp file and stores its bytes', async () => {
  const { data, error, name, bytes } = await uploadPicked('moon.png');
  expect(error).toBeNull();
  expect(data).toEqual({ path: name });

  const served = await fetch(`${server.url}/storage/v1/object/public/images/${name}`);
  expect(served.status).toBe(200);
  expect(served.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
});

test("a .webp upload is refused by the image bucket: the fork's type table has no .webp", async () => {
  const { data, error } = await uploadPicked('moon.webp');
  expect(data).toBeNull();
  expect(error).toMatchObject({
    status: 400,
    data: { statusCode: '415', code: 'InvalidMimeType', message: 'mime type application/octet-stream is not supported' },
  });
});
