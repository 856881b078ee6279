// pg_net on local-supabase, as supabase/pg_net 0.20.4 behaves: requests queued in a transaction go
// out only after it commits, in batches, each with its timeout, and every outcome is recorded.
// The requests reach a real HTTP server on loopback.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import pg from 'pg';
import { freePort } from '../local-supabase/src/ports';
import { startTestServer, superuserQuery, tempDir, type TestServer } from './support/server';
import { sleep, waitFor } from './support/wait';
import type { Row } from './support/row';

jest.setTimeout(60000);

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * The far end: /slow?ms=N answers after N ms, /hang never answers, /reset closes the connection
 * without a word, /moved redirects to /ok; anything else answers 200 with JSON at once.
 */
function startTarget() {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const url = new URL(req.url!, 'http://target');
      if (url.pathname === '/reset') {
        req.socket.destroy();
      } else if (url.pathname === '/moved') {
        res.writeHead(302, { location: '/ok?from=moved' });
        res.end();
      } else if (url.pathname !== '/hang') {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(
          () => {
            inFlight -= 1;
            res.writeHead(201, { 'content-type': 'application/json', 'x-target': 'yes' });
            res.end(JSON.stringify({ path: url.pathname, 回答: '好' }));
          },
          Number(url.searchParams.get('ms') ?? 0),
        );
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    received,
    url: '',
    /** Most requests answered at the same time since the last reset. */
    get maxInFlight() {
      return maxInFlight;
    },
    resetConcurrency() {
      maxInFlight = 0;
    },
    async listen() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

let server: TestServer;
const target = startTarget();

async function sql<T extends pg.QueryResultRow = Row>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await superuserQuery<T>(server.dbUrl, text, params)).rows;
}

async function response(id: number, timeoutMs = 5000) {
  return waitFor(
    `the response to request ${id}`,
    async () => (await sql(`select * from net._http_response where id = $1`, [id]))[0],
    timeoutMs,
  );
}

const arrivals = (path: string) => target.received.filter((r) => r.url.startsWith(path));

/** ALTER SYSTEM and a reload, then waits until a new session sees it: the worker's session then has it pending too. */
async function setNetSetting(name: string, value: string | null) {
  await sql(value === null ? `alter system reset ${name}` : `alter system set ${name} = '${value}'`);
  await sql('select pg_reload_conf()');
  const seen = async () => (await sql(`select coalesce(current_setting($1, true), '') as v`, [name]))[0].v;
  await waitFor(`${name} to be ${value ?? 'unset'}`, async () => (await seen()) === (value ?? ''));
}

beforeAll(async () => {
  await target.listen();
  server = await startTestServer();
  await sql('create extension if not exists pg_net with schema extensions');
});
afterAll(async () => {
  await server?.stop();
  target.close();
});

test('CREATE EXTENSION ... WITH SCHEMA extensions keeps the objects in schema net, with pg_net’s unlogged tables', async () => {
  expect(await sql(`select extversion, extnamespace::regnamespace::text as schema from pg_extension where extname = 'pg_net'`)).toEqual([
    { extversion: '0.20.4', schema: 'extensions' },
  ]);
  const tables = await sql(
    `select c.relname, c.relpersistence,
            array_agg(a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod) order by a.attnum) as columns
     from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0
     where c.relnamespace = 'net'::regnamespace and c.relkind = 'r' group by c.relname, c.relpersistence order by c.relname`,
  );
  expect(tables).toEqual([
    {
      relname: '_http_response',
      relpersistence: 'u',
      columns: [
        'id bigint',
        'status_code integer',
        'content_type text',
        'headers jsonb',
        'content text',
        'timed_out boolean',
        'error_msg text',
        'created timestamp with time zone',
      ],
    },
    {
      relname: 'http_request_queue',
      relpersistence: 'u',
      columns: ['id bigint', 'method net.http_method', 'url text', 'headers jsonb', 'body bytea', 'timeout_milliseconds integer'],
    },
  ]);
  // The worker is up, as pg_net's helpers report it.
  await sql('select net.check_worker_is_up(), net.wait_until_running()');
});

test('a request goes out only after its transaction commits, and a rolled-back one never', async () => {
  const db = new pg.Client({ connectionString: server.dbUrl });
  await db.connect();
  try {
    await db.query('begin');
    const queued = (await db.query(`select net.http_post($1, '{"n": 1}') as id`, [`${target.url}/committed`])).rows[0].id;
    // Another transaction's request goes out meanwhile: the worker ran, and left this one alone.
    const [{ id: other }] = await sql(`select net.http_get($1) as id`, [`${target.url}/other`]);
    await response(other);
    await sleep(300);
    expect(arrivals('/committed')).toEqual([]);
    await db.query('commit');
    expect((await response(queued)).status_code).toBe(201);
    expect(arrivals('/committed')).toHaveLength(1);

    await db.query('begin');
    const abandoned = (await db.query(`select net.http_post($1) as id`, [`${target.url}/rolled-back`])).rows[0].id;
    await db.query('rollback');
    const [{ id: marker }] = await sql(`select net.http_get($1) as id`, [`${target.url}/marker`]);
    await response(marker);
    await sleep(300);
    expect(arrivals('/rolled-back')).toEqual([]);
    expect(await sql(`select id from net._http_response where id = $1`, [abandoned])).toEqual([]);
    expect(await sql(`select count(*)::int as n from net.http_request_queue`)).toEqual([{ n: 0 }]);
  } finally {
    await db.end();
  }
});

test('what goes out: the JSON body as UTF-8, URL-encoded parameters, the headers pg_net sends', async () => {
  const [{ post, get, del }] = await sql(
    `select net.http_post($1 || '/post', '{"say": "你好"}', '{"q": "a b&c/é", "n": "1"}', '{"X-Custom": "yes", "Authorization": "Bearer k"}') as post,
            net.http_get($1 || '/get?page=2', '{"q": "x"}') as get,
            net.http_delete($1 || '/delete', body := '{"gone": true}') as del`,
    [target.url],
  );
  await Promise.all([response(post), response(get), response(del)]);
  const [posted] = arrivals('/post');
  expect(posted).toMatchObject({ method: 'POST', url: '/post?n=1&q=a%20b%26c%2F%C3%A9', body: '{"say": "你好"}' });
  expect(posted.headers).toMatchObject({
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength('{"say": "你好"}')),
    'x-custom': 'yes',
    authorization: 'Bearer k',
    'user-agent': 'pg_net/0.20.4',
  });
  expect(arrivals('/get')[0]).toMatchObject({ method: 'GET', url: '/get?page=2&q=x', body: '' });
  expect(arrivals('/delete')[0]).toMatchObject({ method: 'DELETE', body: '{"gone": true}' });
});

test('http_post queues the JSON body, adds Content-Type: application/json when missing and refuses any other', async () => {
  const db = new pg.Client({ connectionString: server.dbUrl });
  await db.connect();
  try {
    await db.query('begin');
    const id = (await db.query(`select net.http_post('http://127.0.0.1:9/', headers := '{"X-A": "1"}') as id`)).rows[0].id;
    const [row] = (
      await db.query(
        `select method, headers, convert_from(body, 'UTF8') as body, timeout_milliseconds from net.http_request_queue where id = $1`,
        [id],
      )
    ).rows;
    // 5000 ms unless told otherwise, as in pg_net 0.20.
    expect(row).toEqual({
      method: 'POST',
      headers: { 'X-A': '1', 'Content-Type': 'application/json' },
      body: '{}',
      timeout_milliseconds: 5000,
    });
    await db.query('rollback');
  } finally {
    await db.end();
  }
  for (const contentType of ['text/plain', 'application/json; charset=utf-8']) {
    await expect(
      sql(`select net.http_post('http://127.0.0.1:9/', headers := jsonb_build_object('content-type', $1::text))`, [contentType]),
    ).rejects.toThrow('Content-Type header must be "application/json"');
  }
});

test('a malformed URL fails the call, with libcurl’s reason, and queues nothing', async () => {
  await expect(sql(`select net.http_get('/relative')`)).rejects.toThrow('invalid URL "/relative": Bad scheme');
  await expect(sql(`select net.http_get('localhost:6666')`)).rejects.toThrow('invalid URL "localhost:6666": Unsupported URL scheme');
  await expect(sql(`select net.http_get('ftp://host/file')`)).rejects.toThrow('Unsupported URL scheme');
  await expect(sql(`select net.http_get('http://:80/')`)).rejects.toThrow('No host part in the URL');
  await expect(sql(`select net.http_get('http://host:99999/')`)).rejects.toThrow(
    'Port number was not a decimal number between 0 and 65535',
  );
  await expect(sql(`select net.http_get(null)`)).rejects.toThrow('null value in column "url"');
  expect(await sql(`select count(*)::int as n from net.http_request_queue`)).toEqual([{ n: 0 }]);
});

test('the response is recorded and _http_collect_response reads it; ERROR while pending', async () => {
  const db = new pg.Client({ connectionString: server.dbUrl });
  await db.connect();
  try {
    const id = (await db.query(`select net.http_get($1) as id`, [`${target.url}/slow?ms=400`])).rows[0].id;
    const pending = (await db.query(`select (r).status::text, (r).message from net._http_collect_response($1) r`, [id])).rows[0];
    expect(pending).toEqual({ status: 'ERROR', message: 'request matching request_id not found' });
    // async := false waits for the worker.
    const done = (
      await db.query(
        `select (r).status::text, (r).message, ((r).response).status_code, ((r).response).body from net._http_collect_response($1, false) r`,
        [id],
      )
    ).rows[0];
    expect(done).toEqual({ status: 'SUCCESS', message: 'ok', status_code: 201, body: JSON.stringify({ path: '/slow', 回答: '好' }) });
  } finally {
    await db.end();
  }
  const [{ id }] = await sql(`select net.http_get($1) as id`, [`${target.url}/headers`]);
  const row = await response(id);
  expect(row).toMatchObject({ status_code: 201, content_type: 'application/json', timed_out: false, error_msg: null });
  expect(row.headers).toMatchObject({ 'x-target': 'yes', 'content-type': 'application/json' });
});

test('a redirect is followed; a POST becomes a GET after a 302, as with libcurl', async () => {
  const [{ id }] = await sql(`select net.http_post($1 || '/moved', '{"x": 1}') as id`, [target.url]);
  expect(await response(id)).toMatchObject({ status_code: 201, content: JSON.stringify({ path: '/ok', 回答: '好' }) });
  expect(arrivals('/ok?from=moved')).toMatchObject([{ method: 'GET', body: '' }]);
});

test('a request past its timeout is recorded as timed_out with where the time went', async () => {
  const started = Date.now();
  const [{ id }] = await sql(`select net.http_get($1, timeout_milliseconds := 300) as id`, [`${target.url}/hang`]);
  const row = await response(id);
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  expect(row).toMatchObject({ status_code: null, timed_out: true, content: null });
  expect(row.error_msg).toMatch(
    /^Timeout of 300 ms reached\. Total time: \d+\.\d{6} ms \(DNS time: \d+\.\d{6} ms, TCP\/SSL handshake time: \d+\.\d{6} ms, HTTP Request\/Response time: \d+\.\d{6} ms\)$/,
  );
  const total = Number(/Total time: ([\d.]+)/.exec(row.error_msg)![1]);
  expect(total).toBeGreaterThanOrEqual(300);
  const [collected] = await sql(`select (r).status::text, (r).message from net._http_collect_response($1) r`, [id]);
  expect(collected).toEqual({ status: 'ERROR', message: row.error_msg });
});

test('a connection refused or dropped is recorded in error_msg', async () => {
  const closedPort = await freePort();
  const [{ refused, dropped }] = await sql(
    `select net.http_get('http://127.0.0.1:${closedPort}/') as refused, net.http_get($1 || '/reset') as dropped`,
    [target.url],
  );
  expect(await response(refused)).toMatchObject({ status_code: null, timed_out: false, error_msg: "Couldn't connect to server" });
  expect(await response(dropped)).toMatchObject({
    status_code: null,
    timed_out: false,
    error_msg: 'Server returned nothing (no headers, no data)',
  });
});

test('requests go out in batches of pg_net.batch_size (200 by default): the next batch waits for the last', async () => {
  target.resetConcurrency();
  const burst = async (tag: string) => {
    const ids = (await sql(`select net.http_get($1 || '/slow?ms=300&burst=${tag}') as id from generate_series(1, 5)`, [target.url])).map(
      (r) => r.id,
    );
    return Promise.all(ids.map((id) => response(id, 15000)));
  };
  await burst('default');
  expect(target.maxInFlight).toBe(5);

  await setNetSetting('pg_net.batch_size', '2');
  try {
    target.resetConcurrency();
    const rows = await burst('two');
    expect(target.maxInFlight).toBe(2);
    // Each batch is recorded by one transaction, so its responses share one `created`.
    expect(new Set(rows.map((r) => r.created.getTime())).size).toBe(3);
  } finally {
    await setNetSetting('pg_net.batch_size', null);
  }
});

test('responses older than pg_net.ttl (6 hours by default) are deleted when the worker runs', async () => {
  await sql(
    `insert into net._http_response (id, status_code, created) values (-7, 200, now() - interval '7 hours'), (-5, 200, now() - interval '5 hours')`,
  );
  await sql('select net.wake()');
  await waitFor('the 7-hour-old response to go', async () => (await sql(`select 1 from net._http_response where id = -7`)).length === 0);
  expect(await sql(`select id from net._http_response where id < 0`)).toEqual([{ id: -5 }]);

  await setNetSetting('pg_net.ttl', '2 hours');
  try {
    await sql('select net.worker_restart()');
    await waitFor('the 5-hour-old response to go', async () => (await sql(`select 1 from net._http_response where id = -5`)).length === 0);
  } finally {
    await setNetSetting('pg_net.ttl', null);
  }
});

test('pg_net’s grants: every role may use the schema, its tables and the request functions', async () => {
  for (const role of ['anon', 'authenticated']) {
    const db = new pg.Client({ connectionString: server.dbUrl });
    await db.connect();
    try {
      await db.query(`set role ${role}`);
      const id = (await db.query(`select net.http_get($1) as id`, [`${target.url}/as-${role}`])).rows[0].id;
      await db.query('reset role');
      await response(id);
      await db.query(`set role ${role}`);
      expect((await db.query(`select status_code from net._http_response where id = $1`, [id])).rows).toEqual([{ status_code: 201 }]);
    } finally {
      await db.end();
    }
  }
});

test('a batch cut off by a stop stays queued and goes out after the restart, as after a crash of pg_net’s worker', async () => {
  const dataDir = tempDir();
  try {
    // A project of its own, without the app's migrations, which already create pg_net.
    const project = tempDir();
    const first = await startTestServer({ dataDir, supabaseDir: project });
    await superuserQuery(first.dbUrl, 'create extension pg_net');
    const [{ id }] = (await superuserQuery(first.dbUrl, `select net.http_get($1) as id`, [`${target.url}/slow?ms=1500&stop=1`])).rows;
    await waitFor('the request to arrive', () => arrivals('/slow?ms=1500&stop=1').length === 1);
    await first.stop();

    const second = await startTestServer({ dataDir, supabaseDir: project });
    try {
      await waitFor('the request to arrive again', () => arrivals('/slow?ms=1500&stop=1').length === 2, 10000);
      const row = await waitFor(
        'its response',
        async () => (await superuserQuery(second.dbUrl, `select * from net._http_response where id = $1`, [id])).rows[0],
      );
      expect(row.status_code).toBe(201);
    } finally {
      await second.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the worker reconnects when its connection is killed, and sends what was queued meanwhile', async () => {
  const workers = () => sql(`select pid from pg_stat_activity where application_name = 'pg_net 0.20.4'`);
  const [{ pid }] = await workers();
  await sql('select pg_terminate_backend($1)', [pid]);
  const [{ id }] = await sql(`select net.http_get($1) as id`, [`${target.url}/after-kill`]);
  expect((await response(id)).status_code).toBe(201);
  const [{ pid: replacement }] = await workers();
  expect(replacement).not.toBe(pid);
});
