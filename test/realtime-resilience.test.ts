// Realtime across failures: a client socket killed without a goodbye, the replication connection
// terminated under the server, and the whole server restarted on the same data and port while
// official clients stay connected. The replication slot never leaks.
import fs from 'node:fs';
import type { SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { slotCaughtUp } from '../bench/server-process';
import { createRoom, exactly, message, subscribeChanges, VSNS, waitFor, type Subscription, type Vsn } from './support/realtime';
import { wechatUser, startTestServer, superuserQuery, tempDir, type TestServer } from './support/server';

const RECONNECT_MS = 30_000;
jest.setTimeout(90_000);

const slotCount = async (server: TestServer) =>
  Number((await superuserQuery<{ n: string }>(server.dbUrl, 'select count(*) as n from pg_replication_slots')).rows[0].n);

/** An official client whose websockets the test can reach, to kill them. */
async function trackedUser(server: TestServer, vsn: Vsn) {
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  const { sb, id } = await wechatUser(server, { vsn, transport: TrackedWebSocket });
  return { sb, id, sockets };
}

async function send(sb: SupabaseClient, roomId: number, body: string) {
  const { error } = await sb.from('messages').insert(message(roomId, body));
  expect(error).toBeNull();
}

const subscribedTimes = (sub: Subscription) => sub.statuses.filter((s) => s === 'SUBSCRIBED').length;

describe('one server', () => {
  let server: TestServer;
  let roomId: number;

  beforeAll(async () => {
    server = await startTestServer();
    roomId = await createRoom(server, 'resilience');
  });

  afterAll(async () => {
    await server?.stop();
  });

  test.each(VSNS)('vsn %s: a killed client socket is cleaned up, and the client comes back and receives', async (vsn) => {
    const victim = await trackedUser(server, vsn);
    const watcher = await wechatUser(server, { vsn });
    const sender = await wechatUser(server, { vsn });
    const topic = `room:${roomId}:${vsn}`;
    const binding = { event: 'INSERT' as const, table: 'messages', filter: `room_id=eq.${roomId}` };

    const sub = await subscribeChanges(victim.sb, topic, [binding]);
    await sub.channel.track({ name: 'victim' });
    const watching = await subscribeChanges(watcher.sb, topic, [binding], { presence: { enabled: true } });
    await waitFor('the victim to be present', () => Object.keys(watching.channel.presenceState()).length === 1);

    victim.sockets.at(-1)!.terminate();
    await waitFor('the server to drop the victim', () => Object.keys(watching.channel.presenceState()).length === 0);
    await waitFor('the victim to rejoin', () => subscribedTimes(sub) >= 2 && sub.channel.state === 'joined', RECONNECT_MS);
    expect(victim.sockets.length).toBeGreaterThanOrEqual(2);

    await send(sender.sb, roomId, 'after the kill');
    expect((await exactly(sub, 1))[0].new.body).toBe('after the kill');
    expect((await exactly(watching, 1))[0].new.body).toBe('after the kill');
    for (const sb of [victim.sb, watcher.sb, sender.sb]) await sb.removeAllChannels();
  });

  test('the slot keeps up with the WAL while nobody listens', async () => {
    await superuserQuery(
      server.dbUrl,
      `insert into public.rooms (slug, title) select 'quiet-' || n, 'quiet' from generate_series(1, 500) n`,
    );
    await slotCaughtUp(server.dbUrl, RECONNECT_MS);
  });

  test('a dropped replication connection is re-established with a fresh slot, and clients rejoin to catch up', async () => {
    const reader = await wechatUser(server);
    const sender = await wechatUser(server);
    const sub = await subscribeChanges(reader.sb, `room:${roomId}`, [
      { event: 'INSERT', table: 'messages', filter: `room_id=eq.${roomId}` },
    ]);
    expect(await slotCount(server)).toBe(1);
    const before = (await superuserQuery<{ slot_name: string }>(server.dbUrl, 'select slot_name from pg_replication_slots')).rows[0]
      .slot_name;
    await superuserQuery(server.dbUrl, `select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1`, [before]);
    const activeSlots = async () =>
      (await superuserQuery<{ slot_name: string }>(server.dbUrl, 'select slot_name from pg_replication_slots where active')).rows.map(
        (r) => r.slot_name,
      );
    const after = await waitFor('a new slot', async () => (await activeSlots()).find((name) => name !== before), RECONNECT_MS);
    expect(after).not.toBe(before);
    expect(await slotCount(server)).toBe(1);
    // Whatever committed while the feed was down is not in the new slot: the client is made to
    // rejoin, which is when an app fetches what it missed.
    await waitFor('the client to rejoin', () => subscribedTimes(sub) >= 2 && sub.channel.state === 'joined', RECONNECT_MS);

    await send(sender.sb, roomId, 'after the replication drop');
    expect((await exactly(sub, 1))[0].new.body).toBe('after the replication drop');
    await reader.sb.removeAllChannels();
  });
});

test('a restarted server (same data, same port) serves the clients that stayed connected; no slot leaks', async () => {
  const dataDir = tempDir();
  let server = await startTestServer({ dataDir });
  try {
    const roomId = await createRoom(server, 'restart');
    const binding = { event: 'INSERT' as const, table: 'messages', filter: `room_id=eq.${roomId}` };
    const readers = await Promise.all(VSNS.map((vsn) => wechatUser(server, { vsn })));
    const sender = await wechatUser(server);
    const subs = await Promise.all(readers.map((r) => subscribeChanges(r.sb, `room:${roomId}`, [binding])));
    expect(await slotCount(server)).toBe(1);

    const port = server.port;
    await server.stop();
    server = await startTestServer({ dataDir, port });
    expect(await slotCount(server)).toBe(1);

    for (const sub of subs)
      await waitFor('the client to rejoin', () => subscribedTimes(sub) >= 2 && sub.channel.state === 'joined', RECONNECT_MS);
    await send(sender.sb, roomId, 'after the restart');
    for (const sub of subs) expect((await exactly(sub, 1))[0].new.body).toBe('after the restart');

    await server.stop();
    server = await startTestServer({ dataDir, port });
    expect(await slotCount(server)).toBe(1);
    for (const r of readers) await r.sb.removeAllChannels();
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
