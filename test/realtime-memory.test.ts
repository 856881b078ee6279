// An attacker against Realtime's memory, with the server in its own process so its resident set
// is measured alone. First everything the limits admit: 200 users, each with 100 channels that
// track presence. Then as much again and more: another 200 sockets, 50 more joins on every socket,
// and every entry tracked again. What the limits admit is the most the server keeps: the second
// round must add next to nothing. (Oversized payloads keep nothing either: realtime-limits tests
// that they are refused.) Before that, a bulk load into a published table nobody listens to.
import fs from 'node:fs';
import { peakRssMiB, resetPeakRss, rssMiB, slotCaughtUp, startServerProcess, type ServerProcess } from '../bench/server-process';
import { inspectorCall } from './support/inspector';
import { pushAll, RawSocket, sleep } from './support/realtime';
import { superuserQuery, tempDir, type TestServer } from './support/server';

const USERS = 200;
const CHANNELS = 100;
const PRESENCE = { role: '侠客', note: 'x'.repeat(1000) };

let server: ServerProcess;
let dataDir: string;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  dataDir = tempDir('local-supabase-memory-');
  server = await startServerProcess(dataDir, ['--inspect=127.0.0.1:0']);
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.ws.terminate();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** A full garbage collection in the server, through its inspector: only what it keeps is left. */
const collectGarbage = () => inspectorCall(server, 'HeapProfiler.collectGarbage');

/** The server's resident set after a full collection, once settled: two samples half a second apart within 1 MiB. */
async function settledRss(): Promise<number> {
  await collectGarbage();
  let previous = rssMiB(server.child.pid!);
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    const current = rssMiB(server.child.pid!);
    if (Math.abs(current - previous) < 1) return current;
    previous = current;
  }
  return previous;
}

/** Socket `n` joins `channels` channels and tracks presence on each; undefined if refused at the handshake. */
async function attack(n: number, channels: number): Promise<RawSocket | undefined> {
  const target = { url: server.url, anonKey: server.anonKey } as TestServer;
  const socket = await RawSocket.open(target, '2.0.0').catch(() => undefined);
  if (!socket) return undefined;
  sockets.push(socket);
  const config = { presence: { key: `user-${n}` } };
  await pushAll(socket, channels, (c) => [`realtime:s${n}-c${c}`, 'phx_join', { config, access_token: server.anonKey }, `j${c}`]);
  await track(socket, n, Math.min(channels, CHANNELS));
  return socket;
}

function track(socket: RawSocket, n: number, channels: number) {
  return pushAll(socket, channels, (c) => [
    `realtime:s${n}-c${c}`,
    'presence',
    { type: 'presence', event: 'track', payload: { ...PRESENCE, at: Date.now() } },
    `j${c}`,
  ]);
}

test('a bulk load of 300,000 rows into a published table nobody listens to is not held in the server', async () => {
  await superuserQuery(
    server.dbUrl,
    `create table public.bulk_rows (id bigint generated always as identity primary key, note text not null);
     alter publication supabase_realtime add table public.bulk_rows;`,
  );
  const pid = server.child.pid!;
  resetPeakRss(pid);
  const before = rssMiB(pid);
  // One transaction of 300,000 rows of about 200 bytes: pgoutput sends them all at its commit.
  await superuserQuery(server.dbUrl, `insert into public.bulk_rows (note) select repeat('载', 60) || g from generate_series(1, 300000) g`);
  // The server has read the whole transaction once its slot confirms the WAL past it.
  await slotCaughtUp(server.dbUrl, 60_000);
  // Decoded and kept until the commit, those rows took 262 MiB more at the peak.
  expect(peakRssMiB(pid) - before).toBeLessThan(40);
}, 120_000);

test('what the limits admit is the most Realtime keeps, however much more a client tries', async () => {
  // Warm up the code paths, so the first round measures state rather than compiled code.
  await attack(-1, 2);
  const base = await settledRss();

  const admitted = await Promise.all(Array.from({ length: USERS }, (_, n) => attack(n, CHANNELS + 10)));
  expect(admitted.every((s) => s !== undefined)).toBe(true);
  const atLimits = await settledRss();

  const extra = await Promise.all(Array.from({ length: USERS }, (_, n) => attack(USERS + n, CHANNELS)));
  expect(extra.filter((s) => s !== undefined)).toEqual([]);
  await Promise.all(
    admitted.map(async (socket, n) => {
      await pushAll(socket!, 50, (c) => [`realtime:s${n}-more${c}`, 'phx_join', { config: {}, access_token: server.anonKey }, `m${c}`]);
      await track(socket!, n, CHANNELS);
    }),
  );
  const beyond = await settledRss();

  const figures = { baseMiB: Math.round(base), atLimitsMiB: Math.round(atLimits - base), beyondMiB: Math.round(beyond - atLimits) };
  // 20,000 channels, each with a presence entry of about 1 kB.
  expect(figures.atLimitsMiB).toBeGreaterThan(5);
  expect(figures.atLimitsMiB).toBeLessThan(400);
  expect([figures, figures.beyondMiB < Math.max(10, figures.atLimitsMiB / 4)]).toEqual([figures, true]);
}, 240_000);
