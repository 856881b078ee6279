// Statements in one round trip, each prepared once per connection (local-supabase/src/batch.ts),
// against a real PostgreSQL: what Postgres runs, what it skips after an error, and which prepared
// statements the connection holds afterwards (pg_prepared_statements).
import pg from 'pg';
import { BatchClient, PREPARED_PER_CONNECTION, runBatch, type Statement } from '../local-supabase/src/batch';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
let db: pg.Client;
/** A connection whose batches can take their rows as bytes, as /rest/v1's pool does. */
let bytesDb: BatchClient;

beforeAll(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.dbUrl });
  bytesDb = new BatchClient({ connectionString: server.dbUrl });
  await Promise.all([db.connect(), bytesDb.connect()]);
  await db.query('create table public.batch_log (n integer)');
});

afterAll(async () => {
  await Promise.all([db?.end(), bytesDb?.end()]);
  await server?.stop();
});

const sql = (text: string, ...values: Array<string | null>): Statement => ({ text, values });
const logged = async () => (await db.query<{ n: number }>('select n from public.batch_log order by n')).rows.map((r) => r.n);

/** The statements this connection holds prepared, by text (read on the connection itself). */
async function preparedTexts(): Promise<string[]> {
  const [rows] = await runBatch(db, [sql(`SELECT coalesce(json_agg(statement), '[]') FROM pg_prepared_statements`)]);
  return JSON.parse(String(rows[0][0]));
}

beforeEach(async () => {
  await db.query('truncate public.batch_log');
});

test('each statement answers its own rows, as text, with NULL as null', async () => {
  const results = await runBatch(db, [
    sql('SELECT $1::int + 1, $2::text', '41', null),
    sql('INSERT INTO public.batch_log VALUES (1), (2)'),
    sql('SELECT n FROM public.batch_log ORDER BY n'),
  ]);
  expect(results).toEqual([[['42', null]], [], [['1'], ['2']]]);
});

test('BEGIN … COMMIT in one batch is one transaction; an error skips what follows it, COMMIT included', async () => {
  await expect(
    runBatch(db, [
      sql('BEGIN'),
      sql('INSERT INTO public.batch_log VALUES ($1)', '1'),
      sql('SELECT 1 / $1::int', '0'),
      sql('INSERT INTO public.batch_log VALUES ($1)', '2'),
      sql('COMMIT'),
    ]),
  ).rejects.toMatchObject({ code: '22012', message: 'division by zero' });
  // COMMIT did not run: the transaction is still open, and failed.
  await expect(db.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
  await db.query('ROLLBACK');
  expect(await logged()).toEqual([]);
});

test('a text is parsed once per connection and then only bound', async () => {
  const text = 'SELECT $1::int * 2 AS parsed_once';
  for (const n of ['1', '2', '3']) expect(await runBatch(db, [sql(text, n)])).toEqual([[[String(Number(n) * 2)]]]);
  expect((await preparedTexts()).filter((s) => s === text)).toHaveLength(1);
});

test.each([
  ['at parse time (no such column)', 'SELECT no_such_column, $1::text AS parse_fails'],
  ['at bind time (not an integer)', 'SELECT $1::int AS bind_fails'],
])('a statement that failed %s is prepared again next time, and nothing of the failed batch lingers', async (_, text) => {
  const before = sql('SELECT $1::text AS before_the_failure', 'x');
  await expect(runBatch(db, [before, sql(text, 'not a number')])).rejects.toMatchObject({ severity: 'ERROR' });
  // Its fate unknown, the failed statement's name is closed before the next batch runs.
  await expect(runBatch(db, [sql(text, 'again')])).rejects.toMatchObject({ severity: 'ERROR' });
  expect(await runBatch(db, [before])).toEqual([[['x']]]);
  expect((await preparedTexts()).filter((s) => s === text)).toEqual([]);
  if (text.includes('bind_fails')) expect(await runBatch(db, [sql(text, '7')])).toEqual([[['7']]]);
});

test('a batch queued behind a failing one prepares what the failure skipped', async () => {
  const text = 'SELECT $1::text AS queued_behind_a_failure';
  const failing = runBatch(db, [sql('SELECT 1 / $1::int', '0'), sql(text, 'skipped')]);
  const queued = runBatch(db, [sql(text, 'ran')]);
  await expect(failing).rejects.toMatchObject({ code: '22012' });
  expect(await queued).toEqual([[['ran']]]);
});

test(`a connection keeps at most ${PREPARED_PER_CONNECTION} statements, closing the least recently used`, async () => {
  const shape = (i: number) => sql(`SELECT ${i} AS shape, $1::text`, 'v');
  const first = shape(0);
  for (let i = 0; i <= PREPARED_PER_CONNECTION + 20; i++) {
    expect(await runBatch(db, [shape(i)])).toEqual([[[String(i), 'v']]]);
    // Used again and again, the first shape stays the most recently used of the old ones.
    if (i % 10 === 0) await runBatch(db, [first]);
  }
  const texts = await preparedTexts();
  expect(texts.length).toBeLessThanOrEqual(PREPARED_PER_CONNECTION);
  expect(texts).toContain(first.text);
  expect(texts).not.toContain(shape(1).text);
  // An evicted shape is simply prepared again.
  expect(await runBatch(db, [shape(1)])).toEqual([[['1', 'v']]]);
});

describe('rows as bytes, on a BatchClient', () => {
  const utf8 = (text: string) => Buffer.from(text, 'utf8');

  test('each field is the UTF-8 Postgres sent, NULL as null, empty as empty; the next query gets text again', async () => {
    const results = await runBatch(
      bytesDb,
      [sql(`SELECT $1::text, NULL::text, ''::text, json_build_array($1::text, 7)`, '龍 🎲 "quoted"'), sql('SELECT 1 WHERE false')],
      'bytes',
    );
    expect(results).toEqual([[[utf8('龍 🎲 "quoted"'), null, utf8(''), utf8('["龍 🎲 \\"quoted\\"", 7]')]], []]);
    expect((await bytesDb.query('SELECT $1::text AS t', ['龍'])).rows).toEqual([{ t: '龍' }]);
    expect(await runBatch(bytesDb, [sql('SELECT $1::text', '龍')])).toEqual([[['龍']]]);
  });

  test('a field of several megabytes, read in many pieces, arrives whole, and so do the rows after it', async () => {
    const piece = '龍🎲x\n';
    const [rows] = await runBatch(bytesDb, [sql(`SELECT repeat($1::text, 400000), g FROM generate_series(1, 3) g`, piece)], 'bytes');
    expect(rows).toHaveLength(3);
    rows.forEach(([big, g], i) => {
      expect(big!.equals(utf8(piece.repeat(400000)))).toBe(true);
      expect(g).toEqual(utf8(String(i + 1)));
    });
  });

  test('after an error in a batch of bytes, the connection answers text again', async () => {
    await expect(runBatch(bytesDb, [sql('SELECT $1::text', 'a'), sql('SELECT 1 / $1::int', '0')], 'bytes')).rejects.toMatchObject({
      code: '22012',
    });
    expect((await bytesDb.query(`SELECT 'text again' AS t`)).rows).toEqual([{ t: 'text again' }]);
  });

  test('notifications still arrive on a BatchClient, between batches of bytes', async () => {
    const notified = new Promise<string | undefined>((resolve) => bytesDb.once('notification', (n) => resolve(n.payload)));
    await bytesDb.query('LISTEN batch_bytes');
    const [, [[payload]]] = await runBatch(
      bytesDb,
      [sql(`SELECT pg_notify('batch_bytes', $1)`, '通知'), sql('SELECT $1::text', 'after')],
      'bytes',
    );
    expect(payload).toEqual(utf8('after'));
    expect(await notified).toBe('通知');
    await bytesDb.query('UNLISTEN batch_bytes');
  });

  test('a plain node-postgres client cannot take rows as bytes, and says so; it stays usable', async () => {
    await expect(runBatch(db, [sql('SELECT 1')], 'bytes')).rejects.toThrow('rows as bytes need a BatchClient connection');
    expect((await db.query('SELECT 2 AS n')).rows).toEqual([{ n: 2 }]);
  });
});
