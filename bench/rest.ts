// REST benchmark: with a room of 1,000,000 messages (20,000 with --quick), the latency of the
// app's "newest 50" read and of its insert at concurrency 1 and 16, and at 16 the throughput of
// both against direct SQL: the same transactions sent straight to the same PostgreSQL through
// `pg`, so the ratio is what /rest/v1 itself costs. Also the plan of the newest-page query.
// local-supabase runs as `npm start` runs it (its own process, durable Postgres: fsync and
// synchronous_commit on); the load comes from this process over keep-alive HTTP.
//
// Content moderation is off (private.moderation_settings, as the REST and Realtime suites run it):
// a message lands visible, and no pg_net request to the moderate function runs behind either
// side. Every other trigger of messages runs on both sides.
//   npx tsx bench/rest.ts [--quick]   prints the figures and writes bench/results/rest.json
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_JWT_SECRET } from '../local-supabase/src/config';
import { signJwt, type Claims } from '../local-supabase/src/jwt';
import { parseQuery } from '../local-supabase/src/rest/parse';
import { planInsert, planRead, type Preferences } from '../local-supabase/src/rest/plan';
import { render } from '../local-supabase/src/rest/render';
import { BatchClient, runBatch, type Statement } from '../local-supabase/src/batch';
import { type Relation, SchemaCache } from '../local-supabase/src/rest/schema';
import { runIfMain } from './report';
import { cpuSeconds, descendantsCpuSeconds, slotCaughtUp, startServerProcess, type ServerProcess } from './server-process';
import { atLeast, atMost, percentile, type Bench, type BenchSection, type Figure } from './types';

const ROOM_ID = 1;
/** The rate-limit trigger allows 10 messages per user per 10 s; stay under it for the whole run. */
const INSERTS_PER_USER = 9;
/** The exact request postgrest-js sends for from('messages').select('*').eq('room_id', room).order('id', {ascending: false}).limit(50). */
const newestPage = (room: number) => `/rest/v1/messages?select=*&room_id=eq.${room}&order=id.desc&limit=50`;
const NEWEST_PAGE = newestPage(ROOM_ID);
/** What the app's insertMessage sends: from('messages').insert(message).select(). */
const INSERT = '/rest/v1/messages?select=*';
const COMPARED_CONCURRENCY = 16;
/** REST and direct SQL take turns, so load from the rest of the machine falls on both alike. */
const ROUNDS = 6;

interface Sizes {
  messages: number;
  /** At c=1. */
  reads1: number;
  /** Per side, over all rounds: 600 reads a round took under half a second, short against the machine's own hiccups. */
  reads16: number;
  /**
   * Per side, before the rounds at c=16: the pool's connections for 16 at once are opened and
   * their statements prepared, and the server's code is warm. With 200, the first round still ran
   * a third slower than the last on both sides.
   */
  readsWarmUp16: number;
  inserts1: number;
  /** Per side, over all rounds. */
  inserts16: number;
}

const FULL: Sizes = { messages: 1_000_000, reads1: 3000, reads16: 15000, readsWarmUp16: 3000, inserts1: 600, inserts16: 6000 };
const QUICK: Sizes = { messages: 20_000, reads1: 600, reads16: 1500, readsWarmUp16: 600, inserts1: 150, inserts16: 1500 };

/** CPU seconds used so far by local-supabase and its PostgreSQL (all their processes): on a
 * shared machine, CPU per request says more about the server than latency does. */
function serverCpuSeconds(server: ServerProcess): number {
  return cpuSeconds(server.child.pid!) + descendantsCpuSeconds(server.child.pid!);
}

/**
 * Authors of the seeded room and senders of the benchmark inserts, straight into auth.users as the
 * wechat-login function creates people: an openid in app_metadata, which the insert policy requires.
 */
async function createUsers(db: pg.Client, count: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `insert into auth.users (id, aud, role, is_anonymous, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     select id, 'authenticated', 'authenticated', false, jsonb_build_object('openid', 'bench-' || id), '{}', now(), now()
       from (select gen_random_uuid() as id from generate_series(1, $1)) people
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

/** The claims of an access token as GoTrue issues them. */
function claimsOf(userId: string): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: userId,
    role: 'authenticated',
    aud: 'authenticated',
    iat: now,
    exp: now + 3600,
    is_anonymous: false,
    session_id: randomUUID(),
  };
}

/** The app's insert: a text message as core/outbox.ts builds it. */
function messageBody(i: number): string {
  return JSON.stringify({
    room_id: ROOM_ID,
    username: '侠客',
    avatar_color: '#336699',
    kind: 'text',
    body: `bench ${i}`,
    image_path: null,
    image_width: null,
    image_height: null,
    client_id: randomUUID(),
    character_id: null,
    reply_to: null,
    hidden: false,
  });
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
            ...(body
              ? { 'content-type': 'application/json', 'content-profile': 'public', prefer: 'return=representation' }
              : { 'accept-profile': 'public' }),
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

/**
 * The direct-SQL side: one `pg` connection per worker, logged in as `authenticator` like
 * local-supabase's pool, each running a request's transaction as PostgREST shapes it
 * (PostgREST src/library/PostgREST/Query.hs and Query/PreQuery.hs): BEGIN, the search path, role and
 * JWT claims as transaction-local settings, the statement /rest/v1 renders for the request, COMMIT.
 * It is written the way /rest/v1 writes it, in one round trip of prepared statements
 * (local-supabase/src/batch.ts), so what the ratio leaves out is HTTP and the REST layer, not a
 * slower client. Nothing about HTTP (method, path, headers) is set: that is REST's cost.
 *
 * It takes its rows as the bytes Postgres sent, as /rest/v1 does. Decoded into strings, a page of
 * 50 is 24 KB of JSON to collect, and this process's garbage collector set the pace: the same
 * direct reads ran at about 2,500/s with V8's default young generation and at 4,000/s with
 * `node --max-semi-space-size=64`, so the ratio moved with how far V8 had grown it, not with Postgres.
 */
class DirectSql {
  private constructor(private readonly clients: pg.Client[]) {}

  static async open(authenticatorUrl: string, count: number): Promise<DirectSql> {
    const clients = Array.from({ length: count }, () => new BatchClient({ connectionString: authenticatorUrl }));
    await Promise.all(clients.map((c) => c.connect()));
    return new DirectSql(clients);
  }

  async transaction(worker: number, claims: Claims, statement: Statement, readOnly: boolean): Promise<void> {
    await runBatch(
      this.clients[worker],
      [
        { text: `BEGIN ISOLATION LEVEL READ COMMITTED ${readOnly ? 'READ ONLY' : 'READ WRITE'}`, values: [] },
        {
          text: `SELECT set_config('search_path', '"public", "extensions"', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`,
          values: [JSON.stringify(claims)],
        },
        statement,
        { text: 'COMMIT', values: [] },
      ],
      'bytes',
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.end()));
  }
}

/** Runs `count` operations on `concurrency` workers; latencies in ms, sorted. */
async function measure(
  concurrency: number,
  count: number,
  op: (i: number, worker: number) => Promise<void>,
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = next++; i < count; i = next++) {
        const t = performance.now();
        await op(i, worker);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies: latencies.sort((x, y) => x - y), seconds: (performance.now() - started) / 1000 };
}

interface Throughput {
  latencies: number[];
  perSecond: number;
  /** CPU of local-supabase and PostgreSQL per operation, ms. */
  cpuMs: number;
}

/**
 * REST and direct SQL in turns, `count` operations per side in all at `COMPARED_CONCURRENCY`; each
 * side's throughput is its operations over its own seconds.
 */
async function compare(
  server: ServerProcess,
  count: number,
  rest: (i: number, worker: number) => Promise<void>,
  direct: (i: number, worker: number) => Promise<void>,
): Promise<{ rest: Throughput; direct: Throughput }> {
  const totals = { rest: { latencies: [] as number[], seconds: 0, cpu: 0 }, direct: { latencies: [] as number[], seconds: 0, cpu: 0 } };
  const perRound = Math.ceil(count / ROUNDS);
  const turns = [
    ['rest', rest],
    ['direct', direct],
  ] as const;
  for (let round = 0; round < ROUNDS; round++) {
    // Each side goes first in every other round: a machine that warms up or slows down during the
    // run then favours neither side.
    for (const [side, op] of round % 2 === 0 ? turns : [...turns].reverse()) {
      const cpuBefore = serverCpuSeconds(server);
      const { latencies, seconds } = await measure(COMPARED_CONCURRENCY, perRound, op);
      totals[side].cpu += serverCpuSeconds(server) - cpuBefore;
      totals[side].latencies.push(...latencies);
      totals[side].seconds += seconds;
    }
  }
  const result = (side: 'rest' | 'direct'): Throughput => ({
    latencies: totals[side].latencies.sort((x, y) => x - y),
    perSecond: Math.round((perRound * ROUNDS) / totals[side].seconds),
    cpuMs: round2((totals[side].cpu * 1000) / (perRound * ROUNDS)),
  });
  return { rest: result('rest'), direct: result('direct') };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The statement /rest/v1 plans for a request of the app, from a schema cache of the database. */
function statementFor(relation: Relation, pathAndQuery: string, prefs: Preferences, body?: string): Statement {
  const query = parseQuery(new URL(pathAndQuery, 'http://localhost').searchParams);
  return render(
    (body === undefined ? planRead(relation, query, prefs) : planInsert(relation, query, prefs, JSON.parse(body), body)).action,
  );
}

async function messagesRelation(dbUrl: string): Promise<Relation> {
  const introspection = new pg.Pool({ connectionString: dbUrl, max: 1 });
  try {
    return (await new SchemaCache(introspection).current()).relations.get('messages')!;
  } finally {
    await introspection.end();
  }
}

const NO_PREFERENCES: Preferences = { representation: false, count: false, missingDefault: false };
const REPRESENTATION: Preferences = { ...NO_PREFERENCES, representation: true };

/** EXPLAIN of the exact statement local-supabase builds for the newest page, run as an authenticated user. */
async function explainNewestPage(db: pg.Client, relation: Relation, userId: string, room: number): Promise<string> {
  const planned = statementFor(relation, newestPage(room), NO_PREFERENCES);
  await db.query('begin');
  try {
    await db.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [
      JSON.stringify({ sub: userId, role: 'authenticated' }),
    ]);
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off, timing off) ${planned.text}`, planned.values);
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
  let direct: DirectSql | undefined;
  try {
    await db.connect();
    await db.query('update private.moderation_settings set enabled = false');
    const seedStarted = performance.now();
    const smallRoom = await seedMessages(db, sizes.messages);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    // Realtime's slot decodes the load's WAL whether or not anyone listens: it is done before the
    // measurements start, not during the first ones.
    await slotCaughtUp(server.dbUrl, 300_000);

    const senders = await createUsers(db, Math.ceil((sizes.inserts1 + 2 * sizes.inserts16) / INSERTS_PER_USER));
    const claims = senders.map(claimsOf);
    const tokens = claims.map((c) => signJwt(c, DEFAULT_JWT_SECRET));
    const relation = await messagesRelation(server.dbUrl);
    const authenticatorUrl = new URL(server.dbUrl);
    authenticatorUrl.username = 'authenticator';
    direct = await DirectSql.open(authenticatorUrl.href, COMPARED_CONCURRENCY);
    const roomSize = async (room: number) =>
      (await db.query<{ n: number }>('select count(*)::int as n from public.messages where room_id = $1', [room])).rows[0].n;
    const figures: Figure[] = [
      { metric: 'messages in the room', value: await roomSize(ROOM_ID), unit: 'rows' },
      { metric: 'messages in a second, small room', value: await roomSize(smallRoom), unit: 'rows' },
    ];
    const latencyFigures = (what: string, latencies: number[], concurrency: number) => [
      { metric: `${what}, p50 (c=${concurrency})`, value: round2(percentile(latencies, 50)), unit: 'ms' },
      { metric: `${what}, p99 (c=${concurrency})`, value: round2(percentile(latencies, 99)), unit: 'ms' },
    ];

    // Reads: the 3 ms target is a latency target, so it is checked at c=1; at c=16 on a small
    // machine the p50 is queueing (16 / throughput), and throughput is what is compared.
    const reader = 0;
    const read = statementFor(relation, NEWEST_PAGE, NO_PREFERENCES);
    const readSingle = new HttpLoad(server.url, server.anonKey, 1);
    await measure(1, 200, () => readSingle.send('GET', NEWEST_PAGE, tokens[reader], 200));
    const cpuBefore = serverCpuSeconds(server);
    const single = await measure(1, sizes.reads1, () => readSingle.send('GET', NEWEST_PAGE, tokens[reader], 200));
    const singleCpu = round2(((serverCpuSeconds(server) - cpuBefore) * 1000) / sizes.reads1);
    readSingle.close();
    figures.push(
      atMost('newest 50, p50 (c=1)', round2(percentile(single.latencies, 50)), 'ms', 3),
      { metric: 'newest 50, p99 (c=1)', value: round2(percentile(single.latencies, 99)), unit: 'ms' },
      { metric: 'newest 50, server+Postgres CPU per request (c=1)', value: singleCpu, unit: 'ms' },
    );
    const readLoad = new HttpLoad(server.url, server.anonKey, COMPARED_CONCURRENCY);
    const readDirect = (_: number, worker: number) => direct!.transaction(worker, claims[reader], read, true);
    await measure(COMPARED_CONCURRENCY, sizes.readsWarmUp16, () => readLoad.send('GET', NEWEST_PAGE, tokens[reader], 200));
    await measure(COMPARED_CONCURRENCY, sizes.readsWarmUp16, readDirect);
    const reads = await compare(server, sizes.reads16, () => readLoad.send('GET', NEWEST_PAGE, tokens[reader], 200), readDirect);
    readLoad.close();
    figures.push(
      ...latencyFigures('newest 50, REST', reads.rest.latencies, COMPARED_CONCURRENCY),
      { metric: 'newest 50, REST, server+Postgres CPU per request (c=16)', value: reads.rest.cpuMs, unit: 'ms' },
      { metric: 'newest 50, direct SQL, Postgres CPU per request (c=16)', value: reads.direct.cpuMs, unit: 'ms' },
      { metric: 'newest 50, REST requests per second (c=16)', value: reads.rest.perSecond, unit: 'req/s' },
      { metric: 'newest 50, direct SQL requests per second (c=16)', value: reads.direct.perSecond, unit: 'req/s' },
      atLeast('newest 50 per second, REST ÷ direct SQL (c=16)', round2(reads.rest.perSecond / reads.direct.perSecond), '×', 0.6),
    );

    // Inserts, each sender under the rate limit; moderation off on both sides (see the top).
    let sent = 0;
    const nextInsert = () => {
      const i = sent++;
      return { sender: Math.floor(i / INSERTS_PER_USER), body: messageBody(i) };
    };
    const insertRest = (load: HttpLoad) => () => {
      const { sender, body } = nextInsert();
      return load.send('POST', INSERT, tokens[sender], 201, body);
    };
    const insertDirect = (_: number, worker: number) => {
      const { sender, body } = nextInsert();
      const insert = statementFor(relation, INSERT, REPRESENTATION, body);
      return direct!.transaction(worker, claims[sender], insert, false);
    };
    const insertSingle = new HttpLoad(server.url, server.anonKey, 1);
    const insertCpuBefore = serverCpuSeconds(server);
    const singleInserts = await measure(1, sizes.inserts1, insertRest(insertSingle));
    const singleInsertCpu = round2(((serverCpuSeconds(server) - insertCpuBefore) * 1000) / sizes.inserts1);
    insertSingle.close();
    const insertLoad = new HttpLoad(server.url, server.anonKey, COMPARED_CONCURRENCY);
    const inserts = await compare(server, sizes.inserts16, insertRest(insertLoad), insertDirect);
    insertLoad.close();
    figures.push(
      ...latencyFigures('single insert', singleInserts.latencies, 1),
      { metric: 'single insert, server+Postgres CPU per insert (c=1)', value: singleInsertCpu, unit: 'ms' },
      ...latencyFigures('single insert, REST', inserts.rest.latencies, COMPARED_CONCURRENCY),
      { metric: 'insert, REST, server+Postgres CPU per insert (c=16)', value: inserts.rest.cpuMs, unit: 'ms' },
      { metric: 'insert, direct SQL, Postgres CPU per insert (c=16)', value: inserts.direct.cpuMs, unit: 'ms' },
      { metric: 'REST inserts per second (c=16)', value: inserts.rest.perSecond, unit: 'inserts/s' },
      { metric: 'direct SQL inserts per second (c=16)', value: inserts.direct.perSecond, unit: 'inserts/s' },
      atLeast('inserts per second, REST ÷ direct SQL (c=16)', round2(inserts.rest.perSecond / inserts.direct.perSecond), '×', 0.7),
    );

    const plan = await explainNewestPage(db, relation, senders[0], ROOM_ID);
    const smallRoomPlan = await explainNewestPage(db, relation, senders[0], smallRoom);
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
        insertRequest: `POST ${INSERT} (Prefer: return=representation)`,
        newestPagePlan: plan,
        smallRoomPlan,
        seedSeconds: round2(seedSeconds),
        durability: 'fsync on, synchronous_commit on',
        moderation: 'off (private.moderation_settings.enabled = false) on both sides',
        directSql: `${COMPARED_CONCURRENCY} pg connections as authenticator; per operation one round trip of prepared statements: BEGIN, set_config of search_path, role and request.jwt.claims, the statement /rest/v1 renders, COMMIT; rows taken as bytes, as /rest/v1 takes them; ${ROUNDS} rounds taken in turns with REST`,
      },
    };
    return section;
  } finally {
    await direct?.close().catch(() => undefined);
    await db.end().catch(() => undefined);
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
};

// Run directly (not imported by a bench runner).
runIfMain(__filename, 'rest', run);
