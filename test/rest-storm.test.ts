// Hundreds of malformed /rest/v1 requests over plain HTTP, more at once than the authenticator
// pool has connections: each gets its documented status and a JSON error, nothing reaches the
// server's last-resort 500 handler, and afterwards no connection is left checked out or inside a
// transaction — proven by the pool serving a burst larger than itself.
import http from 'node:http';
import { signJwt } from '../local-supabase/src/jwt';
import { createConformance, token } from './support/rest-fixture';
import { client, startTestServer, superuserQuery, type TestServer } from './support/server';

const MAX_BODY = 16 * 1024;
const API_POOL_SIZE = 20;

let server: TestServer;
const logLines: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: MAX_BODY, log: (line) => logLines.push(line) });
  await createConformance(server, `insert into public.conformance (id, name) values (1, 'one');`);
});

afterAll(async () => {
  await server?.stop();
});

interface BadRequest {
  what: string;
  path: string;
  status: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

function badRequests(): BadRequest[] {
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const expired = signJwt({ role: 'authenticated', exp: 1000 }, server.jwtSecret);
  const forged = signJwt({ role: 'service_role' }, 'a-different-secret-a-different-secret');
  return [
    { what: 'malformed JWT', path: '/conformance', headers: bearer('not.a.jwt'), status: 401 },
    { what: 'two-part JWT', path: '/conformance', headers: bearer('abc.def'), status: 401 },
    { what: 'expired JWT', path: '/conformance', headers: bearer(expired), status: 401 },
    { what: 'wrong signature', path: '/conformance', headers: bearer(forged), status: 401 },
    { what: 'role that does not exist', path: '/conformance', headers: bearer(token(server, { role: 'ghost' })), status: 401 },
    { what: 'unknown table', path: '/no_such_table', status: 404 },
    { what: 'unknown column', path: '/conformance?select=nope', status: 400 },
    { what: 'malformed filter', path: '/conformance?id=zz.1', status: 400 },
    { what: 'malformed order', path: '/conformance?order=id.up', status: 400 },
    { what: 'malformed logic tree', path: '/conformance?or=(id.eq.1', status: 400 },
    { what: 'value Postgres rejects', path: '/conformance?score=eq.abc', status: 400 },
    { what: 'NUL byte in a value', path: '/conformance?name=eq.%00', status: 400 },
    { what: 'single() without a row', path: '/conformance?id=eq.0', headers: { accept: 'application/vnd.pgrst.object+json' }, status: 406 },
    { what: 'non-JSON body', path: '/conformance', method: 'POST', body: '{"name": nope}', status: 400 },
    {
      what: 'body over the limit',
      path: '/conformance',
      method: 'POST',
      body: JSON.stringify({ name: 'x'.repeat(MAX_BODY) }),
      status: 413,
    },
    { what: 'RLS violation as anon', path: '/conformance', method: 'POST', body: '{"name":"x"}', status: 401 },
    { what: 'unknown column in body', path: '/conformance', method: 'POST', body: '{"nope":1}', status: 400 },
    { what: 'write in a read-only call', path: '/rpc/record_name?p_name=x', status: 405 },
    { what: 'function raising', path: '/rpc/fail', method: 'POST', body: '{"msg":"boom"}', status: 400 },
    { what: 'unknown function', path: '/rpc/no_such_fn', method: 'POST', body: '{}', status: 404 },
    { what: 'unknown route', path: '/a/b/c', status: 404 },
    { what: 'broken percent-escape', path: '/%E0%A4%A', status: 404 },
    { what: 'unsupported method', path: '/conformance', method: 'PUT', body: '{}', status: 405 },
    { what: 'missing apikey', path: '/conformance', headers: { apikey: '' }, status: 401 },
  ];
}

function send(bad: BadRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${server.url}/rest/v1${bad.path}`,
      { method: bad.method ?? 'GET', headers: { apikey: server.anonKey, 'content-type': 'application/json', ...bad.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end(bad.body);
  });
}

/** A client that announces a body, sends part of it and hangs up. */
function abandon(): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(`${server.url}/rest/v1/conformance`, {
      method: 'POST',
      headers: { apikey: server.anonKey, 'content-type': 'application/json', 'content-length': '1000' },
    });
    req.on('error', () => resolve());
    req.write('{"name":"half');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 20);
  });
}

async function busyApiConnections(): Promise<number> {
  const { rows } = await superuserQuery(
    server.dbUrl,
    `select count(*)::int as n from pg_stat_activity where usename = 'authenticator' and state <> 'idle'`,
  );
  return rows[0].n;
}

test('hundreds of bad requests get their status and JSON error, and the pool stays whole', async () => {
  const kinds = badRequests();
  const queue = Array.from({ length: 14 }, () => kinds).flat();
  const outcomes: Array<[string, number, boolean]> = [];
  // More workers than pooled connections, so requests also wait for connections under errors.
  await Promise.all(
    Array.from({ length: API_POOL_SIZE + 10 }, async (_, worker) => {
      for (let bad = queue.pop(); bad; bad = queue.pop()) {
        const { status, body } = await send(bad);
        const json = JSON.parse(body) as { message?: unknown };
        outcomes.push([bad.what, status, typeof json.message === 'string']);
        if (worker % 10 === 0) await abandon();
      }
    }),
  );
  expect(outcomes).toHaveLength(kinds.length * 14);
  const expected = new Map(kinds.map((k) => [k.what, k.status]));
  expect(outcomes.filter(([what, status, hasMessage]) => status !== expected.get(what) || !hasMessage)).toEqual([]);
  expect(logLines.filter((line) => line.startsWith('unhandled'))).toEqual([]);

  // No connection is left active or idle in a transaction...
  expect(await busyApiConnections()).toBe(0);
  // ...and a burst three times the pool size is served in full.
  const sb = client(server);
  const burst = await Promise.all(
    Array.from({ length: API_POOL_SIZE * 3 }, () => sb.from('conformance').select('id, name').eq('id', 1).single()),
  );
  expect(burst.filter((r) => r.status !== 200 || r.data?.name !== 'one')).toEqual([]);
  expect(await busyApiConnections()).toBe(0);
}, 60000);
