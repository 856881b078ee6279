// The server's JavaScript heap under REST reads, in the process `npm start` runs. Each read's rows
// arrive from Postgres as a 25 KB socket buffer, memory outside V8's heap, and V8 counts such
// memory allocated since its last full collection against the old generation's limit
// (OldGenerationSpaceAvailable in nodejs/node deps/v8/src/heap/heap.h). With V8's default limit,
// which follows the live heap down to about 36 MB, a full collection of the whole heap ran every
// ~340 reads (every 170 ms at 2,000 reads a second) and took 15 % of the server's CPU. The start
// script gives the old generation a floor (--initial-old-space-size), so young collections, which
// free those buffers, come first.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServerProcess, type ServerProcess } from '../bench/server-process';
import { evaluateInServer } from './support/inspector';
import { superuserQuery, tempDir } from './support/server';
import { waitFor } from './support/wait';

const READS = 3000;
const CONCURRENCY = 16;
const PAGE = '/rest/v1/heap_rows?select=*&order=id.desc&limit=50';

let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir('local-supabase-heap-');
  server = await startServerProcess(dataDir, ['--inspect=127.0.0.1:0']);
  await superuserQuery(
    server.dbUrl,
    `create table public.heap_rows (id bigint generated always as identity primary key, note text not null);
     grant select on public.heap_rows to anon;
     insert into public.heap_rows (note) select repeat('江湖', 160) || g from generate_series(1, 50) g;
     notify pgrst, 'reload schema';`,
  );
}, 120_000);

afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Status and body length of one read of the page, over `agent`. */
function read(agent: http.Agent): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${PAGE}`, { agent, headers: { apikey: server.anonKey } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode!, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

test(`${READS} reads of a 25 KB page run at most 5 full collections in the server (11 with V8's default limit)`, async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const first = await waitFor('the schema cache to know heap_rows', async () => {
      const answer = await read(agent);
      return answer.status === 200 ? answer : undefined;
    });
    expect(first.bytes).toBeGreaterThan(24_000);
    await evaluateInServer(
      server,
      `(() => {
         const { PerformanceObserver, constants } = process.getBuiltinModule('node:perf_hooks');
         globalThis.fullCollections = 0;
         new PerformanceObserver((list) => {
           for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) globalThis.fullCollections++;
         }).observe({ entryTypes: ['gc'] });
       })()`,
    );
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < READS) expect((await read(agent)).status).toBe(200);
      }),
    );
    // Observers are told after the collection, on a later turn of the server's event loop.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await evaluateInServer<number>(server, 'globalThis.fullCollections')).toBeLessThanOrEqual(5);
  } finally {
    agent.destroy();
  }
}, 120_000);

test('npm run db:reset starts the server as npm start does, with the same floor', () => {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  expect(scripts['db:reset'].replace(/ reset$/, ' start')).toBe(scripts.start);
});
