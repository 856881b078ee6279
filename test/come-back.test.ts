// Coming back: when the network returns or the app returns to the foreground, the room is
// connected again and shows what was said meanwhile within a second. The app runs as on a phone
// (the vendor bundle, platform, services and core in a WeChat realm over wx-node) and reaches
// local-supabase through the fault proxy, which takes the path down while the phone is away.
import crypto from 'node:crypto';
import type { ChatMessage, ConnectionState, RoomPatch } from '../miniprogram/core/types';
import type * as ServicesModule from '../miniprogram/services';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy';
import { anonymousUser, startTestServer, type TestServer } from './support/server';
import { launchWechatApp, type WechatApp } from './support/wechat-realm';
import { sleep, waitFor } from './support/wait';

/** The bound, from the network event (or the app show) to connected and caught up. */
const COME_BACK_MS = 1000;
/**
 * Long enough for realtime to have passed the missed rows before the room rejoins, so they can
 * only come from the catch-up (a row committed just before a join may still be delivered live).
 */
const REALTIME_SETTLE_MS = 1000;

let server: TestServer;
let proxy: FaultProxy;
let app: WechatApp;
let connection: ConnectionState | null = null;
let messages: () => ChatMessage[];

beforeAll(async () => {
  server = await startTestServer();
  proxy = await startFaultProxy({ targetPort: server.port, seed: 1 });
  app = launchWechatApp({ url: proxy.url, anonKey: server.anonKey });
  const { createServices } = app.realm.require<typeof ServicesModule>('services');
  const services = createServices(app.platform);
  await services.profiles.save({ name: '楚留香', color: '#c0392b' });
  const room = services.room();
  room.onPatch((patch: RoomPatch) => {
    if (patch.type === 'connection') connection = patch.state;
  });
  // The list lives in the other realm: read it as plain data.
  messages = () => JSON.parse(JSON.stringify((room as unknown as { messages(): ChatMessage[] }).messages()));
  await room.start();
  await waitFor('the room to connect', () => connection === 'connected', 15000);
}, 60000);

afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await server?.stop();
});

/** Someone else talks while we are away; resolves once realtime has had time to pass the rows. */
async function saidMeanwhile(): Promise<string[]> {
  // A new person each time, so no one reaches the rate limit across rounds.
  const other = await anonymousUser(server);
  const bodies = [1, 2, 3].map((n) => `趁你不在 ${n} ${crypto.randomUUID()}`);
  for (const body of bodies) {
    const { error } = await other.sb
      .from('messages')
      .insert({ room_id: 1, username: '陆小凤', avatar_color: '#2e86ab', kind: 'text', body, client_id: crypto.randomUUID() });
    if (error) throw error;
  }
  await sleep(REALTIME_SETTLE_MS);
  return bodies;
}

/** Milliseconds from `back()` until the room is connected and shows every missed message. */
async function timeToComeBack(back: () => void, missed: string[]): Promise<number> {
  const started = Date.now();
  back();
  await waitFor(
    'connected and caught up',
    () => connection === 'connected' && missed.every((body) => messages().some((message) => message.body === body)),
    15000,
    5,
  );
  return Date.now() - started;
}

test.each([1, 2])(`the network returns (round %i): connected and caught up within ${COME_BACK_MS} ms`, async () => {
  proxy.setDown(true);
  app.nodeWx.setOffline(true);
  await waitFor('the drop to show', () => connection !== 'connected', 15000);
  const missed = await saidMeanwhile();
  proxy.setDown(false);
  expect(await timeToComeBack(() => app.nodeWx.setOffline(false), missed)).toBeLessThan(COME_BACK_MS);
});

test.each([1, 2])(`the app returns to the foreground (round %i): connected and caught up within ${COME_BACK_MS} ms`, async () => {
  await app.nodeWx.goBackground();
  proxy.setDown(true);
  await waitFor('the socket to be cut', () => app.nodeWx.openSockets() === 0, 15000);
  const missed = await saidMeanwhile();
  proxy.setDown(false);
  expect(await timeToComeBack(() => app.nodeWx.goForeground(), missed)).toBeLessThan(COME_BACK_MS);
});
