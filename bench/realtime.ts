// Realtime benchmark: insert-to-delivery latency of postgres_changes with 1, 10 and 50
// subscribers on the room (each a separate official client, vsn 1.0.0 as the mini program uses,
// with its own user, so each subscriber is a distinct claim set), then 200 inserts/s
// for 30 s (5 s with --quick) to 50 subscribers, counting what arrives.
// The app's messages policy reads the subscriber's claims (their own pending messages, the people
// they blocked), so the server checks each change once per subscriber; for comparison, 50
// subscribers also listen to a table whose policy reads only auth.uid().
// Inserts are made by the superuser with session_replication_role = replica: that skips only the
// per-user rate-limit trigger; the rows still go through the WAL like any other.
// local-supabase runs in this process with durable Postgres (fsync and synchronous_commit on).
//   npx tsx bench/realtime.ts [--quick]   prints the figures and writes bench/results/realtime.json
import type { SupabaseClient } from '@supabase/supabase-js';
import pg from 'pg';
import type { LocalSupabase } from '../local-supabase/src/server';
import { startTestServer, wechatUser } from '../test/support/server';
import { runIfMain } from './report';
import { atLeast, atMost, percentile, type Bench, type Figure } from './types';

const SUBSCRIBER_COUNTS = [1, 10, 50];
const SUSTAINED_SUBSCRIBERS = 50;
const SUSTAINED_RATE = 200;
/** Spacing of the latency probes: far enough apart that each is measured on an idle server. */
const PROBE_INTERVAL_MS = 25;
const DRAIN_MS = 5000;

/** A published table the probes are written to, numbered by `body`. */
interface Target {
  table: string;
  /** Parameters: room id, author id, body. */
  insertSql: string;
}

const ROOM_MESSAGES: Target = {
  table: 'messages',
  // Past moderation: replica mode skips the trigger that would make it pending.
  insertSql: `insert into public.messages (room_id, user_id, username, avatar_color, kind, body, client_id, status)
              values ($1, $2, '测客', '#336699', 'text', $3, gen_random_uuid(), 'visible')`,
};

const CLAIMS_DEPENDENT: Target = {
  table: 'bench_private',
  insertSql: 'insert into public.bench_private (room_id, owner, body) values ($1, $2, $3)',
};

const CLAIMS_DEPENDENT_SQL = `
create table public.bench_private (
  id bigint generated always as identity primary key,
  room_id bigint not null,
  owner uuid not null,
  body text not null
);
alter table public.bench_private enable row level security;
create policy "signed-in users read" on public.bench_private for select to authenticated
  using ((select auth.uid()) is not null);
alter publication supabase_realtime add table public.bench_private;
`;

interface Subscriber {
  sb: SupabaseClient;
  userId: string;
}

/** Arrival times of each probe, by its sequence number, across all subscribers. */
type Arrivals = Map<number, number[]>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function subscribe(server: LocalSupabase, target: Target, roomId: number, arrivals: Arrivals): Promise<Subscriber> {
  // A WeChat person each, as every signed-in reader of the room is.
  const { sb, user } = await wechatUser(server, { vsn: '1.0.0' });
  await new Promise<void>((resolve, reject) => {
    sb.channel(`room:${roomId}`)
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: target.table, filter: `room_id=eq.${roomId}` }, (p) => {
        const at = performance.now();
        const seq = Number((p.new as { body: string }).body);
        const list = arrivals.get(seq) ?? [];
        list.push(at);
        arrivals.set(seq, list);
      })
      .subscribe((status, err) => {
        if (status === 'SUBSCRIBED') resolve();
        else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') reject(err ?? new Error(status));
      });
  });
  return { sb, userId: user.id };
}

/** A superuser pool that inserts rows numbered by `seq`, recording when each insert was sent. */
function inserter(server: LocalSupabase, target: Target, roomId: number, authorId: () => string) {
  const pool = new pg.Pool({ connectionString: server.dbUrl, max: 4, options: '-c session_replication_role=replica' });
  const sentAt = new Map<number, number>();
  let seq = 0;
  return {
    sentAt,
    async insert(): Promise<void> {
      const n = ++seq;
      sentAt.set(n, performance.now());
      await pool.query(target.insertSql, [roomId, authorId(), String(n)]);
    },
    end: () => pool.end(),
  };
}

function latencies(sentAt: Map<number, number>, arrivals: Arrivals): number[] {
  const out: number[] = [];
  for (const [seq, times] of arrivals) {
    const sent = sentAt.get(seq);
    if (sent !== undefined) for (const t of times) out.push(t - sent);
  }
  return out.sort((a, b) => a - b);
}

const delivered = (arrivals: Arrivals) => [...arrivals.values()].reduce((n, list) => n + list.length, 0);

async function waitForDeliveries(arrivals: Arrivals, expected: number): Promise<void> {
  const deadline = Date.now() + DRAIN_MS;
  while (delivered(arrivals) < expected && Date.now() < deadline) await sleep(20);
}

async function subscribeMany(
  server: LocalSupabase,
  target: Target,
  roomId: number,
  count: number,
  arrivals: Arrivals,
): Promise<Subscriber[]> {
  const list: Subscriber[] = [];
  for (let i = 0; i < count; i++) list.push(await subscribe(server, target, roomId, arrivals));
  return list;
}

export const run: Bench = async ({ quick }) => {
  const probes = quick ? 40 : 200;
  const sustainedSeconds = quick ? 5 : 30;
  // Durable, as `npm start` runs it: benchmarks do not take the tests' fsync-off shortcut.
  const server = await startTestServer({ fast: false });
  let subscribers: Subscriber[] = [];
  const disconnectAll = () => subscribers.forEach((s) => s.sb.realtime.disconnect());
  // Any existing user will do as the author (the row's foreign key); subscribers are users anyway.
  const author = () => subscribers[0].userId;
  const figures: Figure[] = [];
  try {
    const db = new pg.Client({ connectionString: server.dbUrl });
    await db.connect();
    const roomId = Number((await db.query(`insert into public.rooms (slug, title) values ('bench', 'bench') returning id`)).rows[0].id);
    await db.query(CLAIMS_DEPENDENT_SQL);
    await db.end();

    /** `count` fresh subscribers, then `probes` inserts one after another, each on a quiet server. */
    const probe = async (target: Target, count: number) => {
      const arrivals: Arrivals = new Map();
      subscribers = await subscribeMany(server, target, roomId, count, arrivals);
      const writer = inserter(server, target, roomId, author);
      for (let i = 0; i < probes; i++) {
        await writer.insert();
        await sleep(PROBE_INTERVAL_MS);
      }
      await waitForDeliveries(arrivals, probes * count);
      await writer.end();
      disconnectAll();
      const sorted = latencies(writer.sentAt, arrivals);
      return {
        p50: round(percentile(sorted, 50)),
        p99: round(percentile(sorted, 99)),
        delivered: delivered(arrivals),
        expected: probes * count,
      };
    };

    for (const count of SUBSCRIBER_COUNTS) {
      const r = await probe(ROOM_MESSAGES, count);
      const label = `${count} subscriber${count === 1 ? '' : 's'}`;
      const p50 = `insert→delivery p50, ${label}`;
      const p99 = `insert→delivery p99, ${label}`;
      // The targets are set for the largest room; smaller ones are reported for scale.
      if (count === SUSTAINED_SUBSCRIBERS) figures.push(atMost(p50, r.p50, 'ms', 10), atMost(p99, r.p99, 'ms', 50));
      else figures.push({ metric: p50, value: r.p50, unit: 'ms' }, { metric: p99, value: r.p99, unit: 'ms' });
      figures.push(atLeast(`delivered, ${label}`, r.delivered, 'messages', r.expected));
    }
    const dependent = await probe(CLAIMS_DEPENDENT, SUSTAINED_SUBSCRIBERS);
    figures.push(
      { metric: `insert→delivery p50, ${SUSTAINED_SUBSCRIBERS} subscribers, policy reading auth.uid()`, value: dependent.p50, unit: 'ms' },
      { metric: `insert→delivery p99, ${SUSTAINED_SUBSCRIBERS} subscribers, policy reading auth.uid()`, value: dependent.p99, unit: 'ms' },
      atLeast(`delivered, policy reading auth.uid()`, dependent.delivered, 'messages', dependent.expected),
    );

    const arrivals: Arrivals = new Map();
    subscribers = await subscribeMany(server, ROOM_MESSAGES, roomId, SUSTAINED_SUBSCRIBERS, arrivals);
    const writer = inserter(server, ROOM_MESSAGES, roomId, author);
    const total = SUSTAINED_RATE * sustainedSeconds;
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    // Inserts are issued on schedule, not one after another, so a slow commit does not lower the rate.
    for (let sent = 0; sent < total; ) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * SUSTAINED_RATE) + 1);
      for (; sent < due; sent++) {
        const p: Promise<void> = writer.insert().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await sleep(2);
    }
    await Promise.all(inFlight);
    const insertSeconds = (performance.now() - started) / 1000;
    const expected = total * SUSTAINED_SUBSCRIBERS;
    await waitForDeliveries(arrivals, expected);
    await writer.end();
    const sorted = latencies(writer.sentAt, arrivals);
    figures.push(
      { metric: `sustained insert rate (${sustainedSeconds} s)`, value: round(total / insertSeconds), unit: 'inserts/s' },
      atLeast(`sustained: delivered of ${expected.toLocaleString('en-US')} expected`, delivered(arrivals), 'messages', expected),
      { metric: 'sustained insert→delivery p50', value: round(percentile(sorted, 50)), unit: 'ms' },
      { metric: 'sustained insert→delivery p99', value: round(percentile(sorted, 99)), unit: 'ms' },
    );
    return {
      name: 'realtime',
      figures,
      notes: {
        protocol: 'vsn 1.0.0, postgres_changes INSERT with filter room_id=eq.<id>, one anonymous user per subscriber',
        probes,
        probeIntervalMs: PROBE_INTERVAL_MS,
        sustained: { rate: SUSTAINED_RATE, seconds: sustainedSeconds, subscribers: SUSTAINED_SUBSCRIBERS },
        durability: 'fsync on, synchronous_commit on; server and clients share this process',
      },
    };
  } finally {
    disconnectAll();
    await server.stop();
  }
};

const round = (ms: number) => Math.round(ms * 100) / 100;

runIfMain(__filename, 'realtime', run);
