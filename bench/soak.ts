// Soak: 100 realtime clients (official supabase-js, vsn 1.0.0, each its own anonymous user) in the
// room while 200 messages/s are inserted through REST for 60 s. Every message must reach every
// client, with no error; the server's memory must not keep growing (RSS of the last 10 s within
// 10% of the first 10 s) and its Postgres connections must stay constant.
// Quick mode: 20 clients, 50 messages/s, 15 s.
//   npx tsx bench/soak.ts [--quick]
//
// The server runs in its own process (the CLI, durable Postgres), so its RSS is its own and not
// the 100 clients'.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SupabaseClient } from '@supabase/supabase-js';
import pg from 'pg';
import { wechatUser } from '../test/support/server';
import { runIfMain } from './report';
import { cpuSeconds, descendantsCpuSeconds, manyPhonesWorkdir, rssMiB, startServerProcess, type ServerProcess } from './server-process';
import { atLeast, atMost, percentile, type Bench } from './types';

interface SoakSize {
  clients: number;
  messagesPerSecond: number;
  seconds: number;
}

const FULL: SoakSize = { clients: 100, messagesPerSecond: 200, seconds: 60 };
const QUICK: SoakSize = { clients: 20, messagesPerSecond: 50, seconds: 15 };
/** The rate limit allows a user 10 messages per 10 s; writers stay at two thirds of that. */
const WRITER_MESSAGES_PER_SECOND = 2 / 3;
/** The growth comparison uses the mean RSS of this much time at each end of the run. */
const WINDOW_MS = 10000;
const DELIVERY_GRACE_MS = 30000;

interface Subscriber {
  sb: SupabaseClient;
  /** received[n] counts deliveries of message n; more than 1 is a duplicate. */
  received: Uint8Array;
  delivered: number;
  duplicates: number;
}

/** A WeChat person with a client of their own (readers and writers alike are signed-in people). */
async function person(server: ServerProcess): Promise<SupabaseClient> {
  return (await wechatUser(server, { vsn: '1.0.0' })).sb;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const run: Bench = async ({ quick }) => {
  const size = quick ? QUICK : FULL;
  const total = size.messagesPerSecond * size.seconds;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soak-'));
  // A load from one address stands for many phones: the project's per-address Auth limits are raised.
  const workdir = manyPhonesWorkdir();
  const server = await startServerProcess(dataDir, [], workdir);
  const db = new pg.Client({ connectionString: server.dbUrl });
  const subscribers: Subscriber[] = [];
  const writers: SupabaseClient[] = [];
  const errors: string[] = [];
  try {
    await db.connect();
    // The soak measures Realtime's delivery of INSERTs, so messages land visible, as in a deployment
    // that does not publish to WeChat; content security's own cost is the moderation section's.
    await db.query('update private.moderation_settings set enabled = false');
    const room = (await db.query<{ id: number }>(`select id::int as id from public.rooms where slug = 'lobby'`)).rows[0];
    const connections = async () =>
      Number((await db.query(`select count(*) from pg_stat_activity where backend_type in ('client backend', 'walsender')`)).rows[0].count);

    // Subscribers: each its own user and socket, joined before any message is sent.
    const readers = await Promise.all(Array.from({ length: size.clients }, () => person(server)));
    for (const sb of readers) subscribers.push({ sb, received: new Uint8Array(total), delivered: 0, duplicates: 0 });
    await Promise.all(
      subscribers.map(
        (subscriber, index) =>
          new Promise<void>((resolve, reject) => {
            let joined = false;
            subscriber.sb
              .channel(`soak-${index}`)
              .on(
                'postgres_changes',
                { event: 'INSERT', schema: 'public', table: 'messages', filter: `room_id=eq.${room.id}` },
                (payload) => {
                  const n = Number(String((payload.new as { body: string }).body).slice('soak '.length));
                  if (subscriber.received[n]++) subscriber.duplicates++;
                  else subscriber.delivered++;
                },
              )
              .subscribe((status, error) => {
                if (status === 'SUBSCRIBED') {
                  joined = true;
                  resolve();
                  return;
                }
                const problem = `subscriber ${index}: ${status}${error ? ` ${error.message}` : ''}`;
                if (joined) errors.push(problem);
                else reject(new Error(problem));
              });
          }),
      ),
    );

    const writerCount = Math.ceil(size.messagesPerSecond / WRITER_MESSAGES_PER_SECOND);
    writers.push(...(await Promise.all(Array.from({ length: writerCount }, () => person(server)))));

    const connectionsAtStart = await connections();
    const rss: Array<{ at: number; mib: number }> = [];
    const connectionSamples: Array<{ at: number; count: number }> = [];
    const latencies: Array<{ at: number; ms: number }> = [];
    // Our own event loop's delay: when it is large, the 100 clients in this process are the
    // bottleneck (and slow readers make the server buffer), not the server.
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    const serverCpuAtStart = cpuSeconds(server.child.pid!);
    const postgresCpuAtStart = descendantsCpuSeconds(server.child.pid!);
    const loadAtStart = os.loadavg()[0];
    const ownCpuAtStart = process.cpuUsage();
    // A trivial request once a second: its latency is the server's own responsiveness (event loop),
    // apart from Postgres.
    const healthLatencies: number[] = [];
    const inserts: Array<Promise<void>> = [];
    let inserted = 0;
    const started = Date.now();
    const sampler = setInterval(() => {
      const at = Date.now() - started;
      rss.push({ at, mib: rssMiB(server.child.pid!) });
      connections().then(
        (count) => connectionSamples.push({ at, count }),
        (error) => errors.push(`sampling: ${error.message}`),
      );
      const asked = Date.now();
      fetch(`${server.url}/health`).then(
        (response) => response.text().then(() => healthLatencies.push(Date.now() - asked)),
        (error) => errors.push(`health: ${error.message}`),
      );
    }, 1000);

    // Round robin over the writers at a steady rate: each writer sends every writerCount/rate s.
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / size.messagesPerSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      const sent = Date.now();
      const writer = writers[n % writers.length];
      inserts.push(
        Promise.resolve(
          writer.from('messages').insert({
            room_id: room.id,
            username: `写手${n % writers.length}`,
            avatar_color: '#3366cc',
            kind: 'text',
            body: `soak ${n}`,
            client_id: crypto.randomUUID(),
          }),
        ).then(({ error, status }) => {
          if (error) errors.push(`insert ${n}: ${status} ${error.code} ${error.message}`);
          else {
            inserted++;
            latencies.push({ at: sent - started, ms: Date.now() - sent });
          }
        }),
      );
    }
    const issueSeconds = (Date.now() - started) / 1000;
    await Promise.all(inserts);
    const sendSeconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    const connectionsAtEnd = await connections();

    // Deliveries still on their way: wait while they keep coming, up to a grace period.
    const expected = inserted * size.clients;
    const deliveredNow = () => subscribers.reduce((sum, subscriber) => sum + subscriber.delivered, 0);
    const graceEnds = Date.now() + DELIVERY_GRACE_MS;
    while (deliveredNow() < expected && Date.now() < graceEnds) await sleep(200);
    const deliveredSeconds = (Date.now() - started) / 1000;
    const delivered = deliveredNow();
    loopDelay.disable();
    const serverCores = (cpuSeconds(server.child.pid!) - serverCpuAtStart) / deliveredSeconds;
    const postgresCores = (descendantsCpuSeconds(server.child.pid!) - postgresCpuAtStart) / deliveredSeconds;
    const loadAtEnd = os.loadavg()[0];
    const ownCpu = process.cpuUsage(ownCpuAtStart);
    healthLatencies.sort((a, b) => a - b);
    // Memory once the backlog is gone tells a leak (stays up) from buffering under load (falls back).
    await sleep(5000);
    const rssAfterDrain = rssMiB(server.child.pid!);
    const duplicates = subscribers.reduce((sum, subscriber) => sum + subscriber.duplicates, 0);

    const durationMs = size.seconds * 1000;
    const firstWindow = rss.filter((sample) => sample.at <= WINDOW_MS).map((sample) => sample.mib);
    const sampledUntil = rss.length ? rss[rss.length - 1].at : 0;
    const lastWindow = rss.filter((sample) => sample.at > sampledUntil - WINDOW_MS).map((sample) => sample.mib);
    const growth = ((mean(lastWindow) - mean(firstWindow)) / mean(firstWindow)) * 100;
    // The pools fill during the first seconds of load; "constant" is judged once they have.
    const warmed = connectionSamples.filter((sample) => sample.at >= WINDOW_MS).map((sample) => sample.count);
    const connectionsWarm = warmed.length ? warmed[0] : connectionsAtStart;
    const latencyP50 = (from: number, to: number) =>
      percentile(
        latencies
          .filter((sample) => sample.at >= from && sample.at < to)
          .map((sample) => sample.ms)
          .sort((a, b) => a - b),
        50,
      );
    const allLatencies = latencies.map((sample) => sample.ms).sort((a, b) => a - b);

    return {
      name: 'soak',
      figures: [
        { metric: 'realtime clients', value: size.clients, unit: 'clients' },
        { metric: 'messages inserted via REST', value: inserted, unit: 'messages' },
        atLeast('insert rate achieved', inserted / issueSeconds, 'messages/s', size.messagesPerSecond * 0.95),
        atMost('errors (inserts, channels)', errors.length, 'errors', 0),
        atLeast('delivered / expected', expected ? (delivered / expected) * 100 : 0, '%', 100),
        atMost('duplicate deliveries', duplicates, 'messages', 0),
        atMost('server RSS growth, first → last 10 s', growth, '%', 10),
        atMost('Postgres connections, end − after 10 s', connectionsAtEnd - connectionsWarm, 'connections', 0),
        {
          metric: 'Postgres connections, most seen',
          value: Math.max(connectionsAtStart, connectionsAtEnd, ...connectionSamples.map((sample) => sample.count)),
          unit: 'connections',
        },
        { metric: 'insert latency p50', value: percentile(allLatencies, 50), unit: 'ms' },
        { metric: 'insert latency p99', value: percentile(allLatencies, 99), unit: 'ms' },
      ],
      notes: {
        size,
        writers: writerCount,
        delivered,
        expected,
        issueSeconds,
        allInsertsAnsweredAfterSeconds: sendSeconds,
        allDeliveredAfterSeconds: delivered === expected ? deliveredSeconds : null,
        insertLatencyP50Ms: { first10s: latencyP50(0, WINDOW_MS), last10s: latencyP50(durationMs - WINDOW_MS, durationMs) },
        // Where the 2 cores went: the server process, its Postgres, and (the rest) these clients and
        // whatever else the machine ran; the load average shows the latter.
        cpuCores: { server: serverCores, postgres: postgresCores, clients: (ownCpu.user + ownCpu.system) / 1e6 / deliveredSeconds },
        serverHealthLatencyMs: { p50: percentile(healthLatencies, 50), max: healthLatencies[healthLatencies.length - 1] },
        loadAverage1m: { start: loadAtStart, end: loadAtEnd },
        clientEventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
        rssMiB: {
          first10s: mean(firstWindow),
          last10s: mean(lastWindow),
          fiveSecondsAfterDrain: rssAfterDrain,
          samples: rss.map((sample) => Math.round(sample.mib)),
        },
        postgresConnections: {
          beforeLoad: connectionsAtStart,
          after10s: connectionsWarm,
          end: connectionsAtEnd,
          samples: connectionSamples.map((sample) => sample.count),
        },
        errors: errors.slice(0, 20),
      },
    };
  } finally {
    await Promise.all(subscribers.map((subscriber) => subscriber.sb.removeAllChannels()));
    for (const client of [...subscribers.map((subscriber) => subscriber.sb), ...writers]) await client.realtime.disconnect();
    await db.end().catch(() => undefined);
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(workdir, { recursive: true, force: true });
  }
};

runIfMain(__filename, 'soak', run);
