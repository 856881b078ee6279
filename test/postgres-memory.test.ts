// A Postgres backend keeps the memory one request needed for the next. With glibc's default
// malloc settings a backend handed the heap memory of a statement back to the kernel when the
// statement ended (the freed top of the heap passed the 128 KB trim threshold) and faulted it in
// again for the next one. Under newest-50 REST reads at concurrency 16 in a room of 50,000
// messages that was about 17 minor page faults and 0.5 ms of kernel time per read, and REST's
// backends cost 2 to 3 times what the same transaction cost sent directly. Linux only: faults are
// read from /proc/<pid>/stat.
import pg from 'pg';
import { minorFaults } from '../bench/server-process';
import { startTestServer, type TestServer } from './support/server';

let server: TestServer;
let db: pg.Client;
let backend: number;

beforeAll(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.dbUrl });
  await db.connect();
  backend = (await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
});

afterAll(async () => {
  await db?.end();
  await server?.stop();
});

/** Minor page faults of the backend per run of `sql`, once the backend has run it a few times. */
async function faultsPerRun(sql: string, runs = 100): Promise<number> {
  for (let i = 0; i < 10; i++) await db.query(sql);
  const before = minorFaults(backend);
  for (let i = 0; i < runs; i++) await db.query(sql);
  return (minorFaults(backend) - before) / runs;
}

// Each needs a few hundred KB of heap in blocks under glibc's 128 KB mmap threshold: what a page
// of messages rendered as JSON, or a sort, takes. Before, each run faulted 68 to 135 pages in.
test.each([
  [
    'a JSON array of rows, as /rest/v1 renders a page',
    `select coalesce(json_agg(t), '[]') from (select g as id, md5(g::text) as body from generate_series(1, 3000) g) t`,
  ],
  ['a sort in memory', 'select count(*) from (select g, md5(g::text) as h from generate_series(1, 5000) g order by h) s'],
  ['a long text built row by row', `select length(string_agg(md5(g::text), ',')) from generate_series(1, 5000) g`],
])('a backend does not fault its memory back in for every run of %s', async (_, sql) => {
  expect(await faultsPerRun(sql)).toBeLessThan(1);
});
