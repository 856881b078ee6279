// local-supabase's Edge Functions runtime, as `supabase functions serve` behaves: a project of small
// functions (test/fixtures/functions-project) run by real Deno, called over HTTP.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { DEFAULT_DENO_DIR, denoPath } from '../local-supabase/src/functions/deno';
import { workerArgs } from '../local-supabase/src/functions/workers';
import { startTestServer, type TestServer } from './support/server';
import { waitFor } from './support/wait';
import type { Row } from './support/row';

jest.setTimeout(60000);

const PROJECT = path.join(__dirname, 'fixtures', 'functions-project');
const REQUEST_TIMEOUT_MS = 1500;
let server: TestServer;
const logs: string[] = [];

beforeAll(async () => {
  // Something of the server's own environment that no function may see.
  process.env.HOST_ONLY_SECRET = 'server-side only';
  server = await startTestServer({
    supabaseDir: PROJECT,
    functionTimeouts: { requestMs: REQUEST_TIMEOUT_MS },
    log: (line) => logs.push(line),
  });
});
afterAll(async () => {
  delete process.env.HOST_ONLY_SECRET;
  await server?.stop();
});

async function call(pathAndQuery: string, init: RequestInit = {}) {
  const res = await fetch(`${server.url}/functions/v1/${pathAndQuery}`, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain text answers stay text
  }
  return { status: res.status, headers: res.headers, body: body as Row };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a function sees the platform variables and its .env secrets, and nothing else of the host', async () => {
  const { status, body } = await call('echo');
  expect(status).toBe(200);
  expect(body.env).toEqual({
    SUPABASE_URL: server.url,
    SUPABASE_ANON_KEY: server.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: server.serviceRoleKey,
    SUPABASE_DB_URL: server.dbUrl,
    GREETING: '你好, 世界',
    PLAIN: 'value',
    WECHAT_API_BASE: server.wechat!.url,
    HOST_ONLY_SECRET: null,
  });
  expect(logs.join('\n')).toContain('SUPABASE_URL skipped');
});

test('the path starts with the function name; method, query, headers and body pass through', async () => {
  const { status, body } = await call('echo/rooms/7?page=2&q=%E4%BD%A0', {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-custom': 'yes' },
    body: JSON.stringify({ say: '你好' }),
  });
  expect(status).toBe(200);
  expect(body).toMatchObject({ method: 'PUT', path: '/echo/rooms/7', search: '?page=2&q=%E4%BD%A0', body: '{"say":"你好"}' });
  expect(body.headers).toMatchObject({ 'x-custom': 'yes', 'content-type': 'application/json', 'x-forwarded-for': '127.0.0.1' });
});

test('the newer `export default { fetch }` style is served too', async () => {
  expect(await call('fetch-export/hi')).toMatchObject({ status: 200, body: 'hello from /fetch-export/hi' });
});

test('JWTs are verified by default; config.toml turns it off per function', async () => {
  expect(await call('crash')).toMatchObject({ status: 401, body: { msg: 'Error: Missing authorization header' } });
  expect(await call('crash', { headers: { Authorization: 'Bearer not.a.jwt' } })).toMatchObject({
    status: 401,
    body: { msg: 'Invalid JWT' },
  });
  const forged = server.anonKey.slice(0, -2) + (server.anonKey.endsWith('A') ? 'BB' : 'AA');
  expect((await call('crash', { headers: { Authorization: `Bearer ${forged}` } })).status).toBe(401);
  expect((await call('crash', { headers: { Authorization: `Bearer ${server.anonKey}` } })).status).toBe(200);
  expect((await call('echo')).status).toBe(200);
});

test('unknown functions, shared code and odd names are 404; methods outside the documented set are 405', async () => {
  for (const name of ['nothere', '_shared', '..%2Fecho', '.hidden']) {
    expect(await call(name)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  }
  expect((await call('echo', { method: 'HEAD' })).status).toBe(405);
});

test('a function that dies mid-request answers WORKER_ERROR, and the next request gets a fresh worker', async () => {
  const auth = { headers: { Authorization: `Bearer ${server.anonKey}` } };
  const before = (await call('crash', auth)).body.pid as number;
  expect(await call('crash/die', auth)).toMatchObject({ status: 500, body: { code: 'WORKER_ERROR' } });
  const after = await call('crash', auth);
  expect(after.status).toBe(200);
  expect(after.body.pid).not.toBe(before);
  expect(alive(before)).toBe(false);
});

test('a function that cannot start answers BOOT_ERROR (and says why in the log) instead of hanging', async () => {
  const started = Date.now();
  expect(await call('broken')).toMatchObject({ status: 503, body: { code: 'BOOT_ERROR' } });
  expect(Date.now() - started).toBeLessThan(20000);
  expect(logs.join('\n')).toContain('broken on purpose');
  // A later call tries again (the file may have been fixed meanwhile) and fails the same way.
  expect((await call('broken')).status).toBe(503);
});

test('a function that never answers gets IDLE_TIMEOUT after the request timeout', async () => {
  const started = Date.now();
  expect(await call('slow')).toMatchObject({ status: 504, body: { code: 'IDLE_TIMEOUT' } });
  expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
});

test('a caller that goes away mid-request frees the function at once, not at the timeout', async () => {
  const project = await startTestServer({ supabaseDir: PROJECT });
  try {
    const count = async () =>
      (await (await fetch(`${project.url}/functions/v1/slow/count`)).json()) as { waiting: number; abandoned: number };
    expect(await count()).toEqual({ waiting: 0, abandoned: 0 });
    const { port } = new URL(project.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    // Half a body, then gone: a phone losing its network while uploading.
    socket.write(`POST /functions/v1/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n${'x'.repeat(10)}`);
    await waitFor('the function to hold the request', async () => (await count()).waiting === 1 || null);
    socket.destroy();
    // The server's request timeout is 150 s here: only the caller's leaving can have ended it.
    await waitFor('the function to see the caller leave', async () => (await count()).abandoned === 1 || null, 10000);
    expect(await count()).toEqual({ waiting: 0, abandoned: 1 });
  } finally {
    await project.stop();
  }
});

test('workers stop with the server', async () => {
  const project = await startTestServer({ supabaseDir: PROJECT });
  const { pid } = (await (await fetch(`${project.url}/functions/v1/echo`)).json()) as { pid: number };
  expect(alive(pid)).toBe(true);
  await project.stop();
  expect(alive(pid)).toBe(false);
});

test('a worker whose server is gone exits on its own (its stdin closes, as when the server is SIGKILLed)', async () => {
  // The kernel closes the pipe when the server process dies, however it dies.
  const deno = spawn(denoPath(), workerArgs(path.join(PROJECT, 'functions', 'echo', 'index.ts'), 0), {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, DENO_DIR: DEFAULT_DENO_DIR },
  });
  let output = '';
  deno.stdout.on('data', (chunk: Buffer) => (output += chunk));
  await waitFor('listening', () => output.includes('function ready'), 20000);
  const exited = new Promise<number | null>((resolve) => deno.on('exit', resolve));
  deno.stdin.end();
  expect(await exited).toBe(0);
});
