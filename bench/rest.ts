// REST benchmark: with a room of 1,000,000 messages (20,000 with --quick), the latency of the
// app's "newest 50" query and of single inserts at concurrency 1 and 16, inserts per second at
// 16, and the plan of the newest-page query. local-supabase runs as `npm start` runs it (its own
// process, durable Postgres); the load comes from this process over keep-alive HTTP.
//   npx tsx bench/rest.ts [--quick]   prints the figures and writes bench/results/rest.json
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_JWT_SECRET } from '../local-supabase/src/config';
import { signJwt } from '../local-supabase/src/jwt';
import { parseQuery } from '../local-supabase/src/rest/parse';
import { planRead, type Plan } from '../local-supabase/src/rest/plan';
import { SchemaCache } from '../local-supabase/src/rest/schema';
import { runIfMain } from './report';
import { cpuSeconds, descendantsCpuSeconds, startServerProcess, type ServerProcess } from './server-process';
import { atLeast, atMost, percentile, type Bench, type BenchSection, type Figure } from './types';

const ROOM_ID = 1;
/** The rate-limit trigger allows 10 messages per user per 10 s; stay under it for the whole run. */
const INSERTS_PER_USER = 9;
/** The exact request postgrest-js sends for from('messages').select('*').eq('room_id', room).order('id', {ascending: false}).limit(50). */
const newestPage = (room: number) => `/rest/v1/messages?select=*&room_id=eq.${room}&order=id.desc&limit=50`;
const NEWEST_PAGE = newestPage(ROOM_ID);

interface Sizes {
  messages: number;
  reads: number;
  inserts1: number;
  inserts16: number;
}

const FULL: Sizes = { messages: 1_000_000, reads: 3000, inserts1: 600, inserts16: 6000 };
const QUICK: Sizes = { messages: 20_000, reads: 600, inserts1: 150, inserts16: 1500 };

/** CPU seconds used so far by local-supabase and its PostgreSQL (all their processes): on a
 * shared machine, CPU per request says more about the server than latency does. */
function serverCpuSeconds(server: ServerProcess): number {
  return cpuSeconds(server.child.pid!) + descendantsCpuSeconds(server.child.pid!);
}

/** Authors of the seeded room and senders of the benchmark inserts, straight into auth.users. */
async function createUsers(db: pg.Client, count: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `insert into auth.users (id, aud, role, is_anonymous, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     select gen_random_uuid(), 'authenticated', 'authenticated', true, '{}', '{}', now(), now() from generate_series(1, $1)
     returning id`,
    [count],
  );
  return rows.map((r) => r.id);
}

/**
 * About `count` messages in the room, and every 100th message in a second, small room, so that the
 * plans of both a dominant and a minor room can be seen. Returns the small room's id.
 */
async function seedMessages(db: pg.Client, count: number): Promise<number> {
  const authors = await createUsers(db, 1000);
  const smallRoom = (await db.query<{ id: number }>(`insert into public.rooms (slug, title) values ('backroom', '后院') returning id`))
    .rows[0].id;
  // Replica mode skips the per-row rate-limit trigger and the FK checks: a bulk load, not traffic,
  // of messages that passed moderation.
  await db.query('set session_replication_role = replica');
  await db.query(
    `insert into public.messages (room_id, user_id, username, avatar_color, body, client_id, created_at, status)
     select case when g % 100 = 0 then $2::bigint else $1::bigint end, ($3::uuid[])[1 + g % array_length($3::uuid[], 1)],
            '江湖客' || (g % 1000), '#336699', 'message ' || g, gen_random_uuid(), now() - make_interval(secs => $4 - g), 'visible'
       from generate_series(1, $4) g`,
    [ROOM_ID, smallRoom, authors, count + Math.ceil(count / 99)],
  );
  await db.query('set session_replication_role = origin');
  await db.query('vacuum analyze public.messages');
  // The load's dirty pages are written now, not by a checkpoint in the middle of the measurements.
  await db.query('checkpoint');
  return smallRoom;
}

function accessToken(userId: string): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    { sub: userId, role: 'authenticated', aud: 'authenticated', iat: now, exp: now + 3600, is_anonymous: true, session_id: randomUUID() },
    DEFAULT_JWT_SECRET,
  );
}

class HttpLoad {
  private readonly agent: http.Agent;

  constructor(
    private readonly baseUrl: string,
    private readonly anonKey: string,
    concurrency: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  }

  /** One request with the headers supabase-js sends; rejects unless the status is `expected`. */
  send(method: string, pathAndQuery: string, token: string, expected: number, body?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.baseUrl}${pathAndQuery}`,
        {
          method,
          agent: this.agent,
          headers: {
            apikey: this.anonKey,
            authorization: `Bearer ${token}`,
            'x-client-info': 'supabase-js-node/bench',
            accept: '*/*',
            ...(body ? { 'content-type': 'application/json', 'content-profile': 'public' } : { 'accept-profile': 'public' }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            res.statusCode === expected
              ? resolve()
              : reject(new Error(`${method} ${pathAndQuery}: ${res.statusCode} ${Buffer.concat(chunks).toString('utf8')}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `count` operations on `concurrency` workers; latencies in ms, sorted. */
async function measure(
  concurrency: number,
  count: number,
  op: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies: latencies.sort((x, y) => x - y), seconds: (performance.now() - started) / 1000 };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** EXPLAIN of the exact statement local-supabase builds for the newest page, run as an authenticated user. */
async function explainNewestPage(db: pg.Client, dbUrl: string, userId: string, room: number): Promise<string> {
  const introspection = new pg.Pool({ connectionString: dbUrl, max: 1 });
  let planned: Plan;
  try {
    const relation = (await new SchemaCache(introspection).current()).relations.get('messages')!;
    const noPreferences = { representation: false, count: false, missingDefault: false };
    planned = planRead(relation, parseQuery(new URL(newestPage(room), 'http://localhost').searchParams), noPreferences);
  } finally {
    await introspection.end();
  }
  await db.query('begin');
  try {
    await db.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub: userId, role: 'authenticated' }),
    ]);
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off, timing off) ${planned.sql}`, planned.values);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await db.query('rollback');
  }
}

export const run: Bench = async ({ quick }) => {
  const sizes = quick ? QUICK : FULL;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rest-'));
  const server = await startServerProcess(dataDir);
  const db = new pg.Client({ connectionString: server.dbUrl });
  try {
    await db.connect();
    const seedStarted = performance.now();
    const smallRoom = await seedMessages(db, sizes.messages);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const senders = await createUsers(db, Math.ceil((sizes.inserts1 + sizes.inserts16) / INSERTS_PER_USER));
    const tokens = senders.map(accessToken);
    const reader = tokens[0];
    const roomSize = async (room: number) =>
      (await db.query<{ n: number }>('select count(*)::int as n from public.messages where room_id = $1', [room])).rows[0].n;
    const figures: Figure[] = [
      { metric: 'messages in the room', value: await roomSize(ROOM_ID), unit: 'rows' },
      { metric: 'messages in a second, small room', value: await roomSize(smallRoom), unit: 'rows' },
    ];

    for (const concurrency of [1, 16]) {
      const load = new HttpLoad(server.url, server.anonKey, concurrency);
      await measure(concurrency, 200, () => load.send('GET', NEWEST_PAGE, reader, 200));
      const cpuBefore = serverCpuSeconds(server);
      const { latencies, seconds } = await measure(concurrency, sizes.reads, () => load.send('GET', NEWEST_PAGE, reader, 200));
      const cpuPerRequest = ((serverCpuSeconds(server) - cpuBefore) * 1000) / sizes.reads;
      const p50 = round(percentile(latencies, 50));
      // The 3 ms target is a latency target: at c=16 on a small machine the p50 is queueing
      // (16 / throughput), so that row reports the throughput beside it instead.
      figures.push(
        concurrency === 1
          ? atMost('newest 50, p50 (c=1)', p50, 'ms', 3)
          : { metric: `newest 50, p50 (c=${concurrency})`, value: p50, unit: 'ms' },
      );
      figures.push({ metric: `newest 50, p99 (c=${concurrency})`, value: round(percentile(latencies, 99)), unit: 'ms' });
      if (concurrency > 1)
        figures.push({
          metric: `newest 50, requests per second (c=${concurrency})`,
          value: Math.round(sizes.reads / seconds),
          unit: 'req/s',
        });
      figures.push({ metric: `newest 50, server+Postgres CPU per request (c=${concurrency})`, value: round(cpuPerRequest), unit: 'ms' });
      load.close();
    }

    let sent = 0;
    const insertOne = (load: HttpLoad) => () => {
      const i = sent++;
      const body = JSON.stringify({
        room_id: ROOM_ID,
        username: '侠客',
        avatar_color: '#336699',
        body: `bench ${i}`,
        client_id: randomUUID(),
      });
      return load.send('POST', '/rest/v1/messages', tokens[Math.floor(i / INSERTS_PER_USER)], 201, body);
    };
    for (const [concurrency, count] of [
      [1, sizes.inserts1],
      [16, sizes.inserts16],
    ]) {
      const load = new HttpLoad(server.url, server.anonKey, concurrency);
      const cpuBefore = serverCpuSeconds(server);
      const { latencies, seconds } = await measure(concurrency, count, insertOne(load));
      const cpuPerInsert = ((serverCpuSeconds(server) - cpuBefore) * 1000) / count;
      figures.push({ metric: `single insert, p50 (c=${concurrency})`, value: round(percentile(latencies, 50)), unit: 'ms' });
      figures.push({ metric: `single insert, p99 (c=${concurrency})`, value: round(percentile(latencies, 99)), unit: 'ms' });
      figures.push({ metric: `single insert, server+Postgres CPU per insert (c=${concurrency})`, value: round(cpuPerInsert), unit: 'ms' });
      if (concurrency === 16) figures.push(atLeast('inserts per second (c=16)', Math.round(count / seconds), 'inserts/s', 1000));
      load.close();
    }

    const plan = await explainNewestPage(db, server.dbUrl, senders[0], ROOM_ID);
    const smallRoomPlan = await explainNewestPage(db, server.dbUrl, senders[0], smallRoom);
    const indexScan = (text: string, index: string) =>
      new RegExp(`Index Scan( Backward)? using ${index} on messages`).test(text) && !/Seq Scan|Sort/.test(text);
    // When one room holds nearly every row, Postgres may walk the primary key backwards instead:
    // also an index scan reading about 50 rows. For any smaller room it must be the room index.
    const roomPass = indexScan(plan, 'messages_room_id_id_idx') || indexScan(plan, 'messages_pkey');
    const smallPass = indexScan(smallRoomPlan, 'messages_room_id_id_idx');
    figures.push(
      { metric: 'newest page of the room: index scan, no sort', value: roomPass ? 1 : 0, unit: 'bool', target: '= 1', pass: roomPass },
      {
        metric: 'newest page of the small room: Index Scan on messages_room_id_id_idx',
        value: smallPass ? 1 : 0,
        unit: 'bool',
        target: '= 1',
        pass: smallPass,
      },
    );
    const section: BenchSection = {
      name: 'REST (/rest/v1)',
      figures,
      notes: {
        newestPageRequest: `GET ${NEWEST_PAGE}`,
        newestPagePlan: plan,
        smallRoomPlan,
        seedSeconds: round(seedSeconds),
        durability: 'fsync on, synchronous_commit on',
      },
    };
    return section;
  } finally {
    await db.end().catch(() => undefined);
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
};

// Run directly (not imported by a bench runner).
runIfMain(__filename, 'rest', run);
