// Requests that never reach a product must not take the server down: malformed upgrade
// targets, peers that reset while being refused, and database connections killed mid-request.
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { signJwt } from '../local-supabase/src/jwt';
import { RawSocket, waitFor } from './support/realtime';
import { wechatUser, client, startTestServer, superuserQuery, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

function rawRequest(text: string, resetAfterWrite = false): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(text);
      if (resetAfterWrite) {
        socket.resetAndDestroy();
        resolve('');
      }
    });
    let reply = '';
    socket.on('data', (d) => (reply += d));
    socket.on('close', () => resolve(reply));
    socket.on('error', () => resolve(reply));
  });
}

async function stillServes() {
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
}

test('a malformed upgrade target is refused, not fatal', async () => {
  const reply = await rawRequest('GET // HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  expect(reply).toMatch(/^HTTP\/1\.1 400/);
  await stillServes();
});

test('peers that reset while their upgrade is being refused do not crash the server', async () => {
  const upgrade = (path: string) =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
  await Promise.all(Array.from({ length: 100 }, (_, i) => rawRequest(upgrade(i % 2 ? '/nowhere' : '/realtime/v1/websocket?vsn=9'), true)));
  await new Promise((r) => setTimeout(r, 200));
  await stillServes();
});

test('a database connection killed in the middle of a request is survived', async () => {
  const user = await wechatUser(server);
  const { port } = new URL(server.url);
  const upload = net.connect(Number(port), '127.0.0.1');
  upload.on('error', () => undefined);
  upload.write(
    `POST /storage/v1/object/images/${user.id}/2026-11/${randomUUID()}.jpg HTTP/1.1\r\nHost: x\r\n` +
      `Authorization: Bearer ${user.session.access_token}\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\nabc`,
  );
  await new Promise((r) => setTimeout(r, 300));
  // Every API connection is killed, idle or busy, as a Postgres restart would.
  await superuserQuery(server.dbUrl, `select pg_terminate_backend(pid) from pg_stat_activity where usename = 'authenticator'`);
  upload.end(Buffer.alloc(997));
  await new Promise((r) => setTimeout(r, 300));
  const { data, error } = await user.sb.from('rooms').select('slug');
  expect(error).toBeNull();
  expect(data).toEqual([{ slug: 'lobby' }]);
  upload.destroy();
});

test('realtime refuses a signed token that names a role outside the API roles', async () => {
  const sb = client(server, { vsn: '1.0.0' });
  sb.realtime.setAuth(signJwt({ role: 'postgres', exp: Math.floor(Date.now() / 1000) + 600 }, server.jwtSecret));
  const outcome = await new Promise<string>((resolve) => {
    sb.channel('room:1')
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages' }, () => resolve('delivered'))
      .subscribe((status, err) => {
        if (status === 'SUBSCRIBED') resolve('subscribed');
        if (status === 'CHANNEL_ERROR') resolve(`error: ${err?.message}`);
      });
  });
  expect(outcome).toBe('error: Role "postgres" is not allowed');
  await sb.removeAllChannels();
});

test('a realtime client flooding frames is closed; others keep their service', async () => {
  const user = await wechatUser(server);
  const flooder = await RawSocket.open(server, '1.0.0');
  const bystander = await RawSocket.open(server, '1.0.0');
  const join = {
    config: { postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'messages' }] },
    access_token: user.session.access_token,
  };
  // Joins wait on the database, so a burst of them piles up behind the first.
  for (let i = 0; i < 500; i++) flooder.push(`realtime:flood-${i}`, 'phx_join', join);
  await waitFor('the flooder to be closed', () => flooder.closed);
  expect(flooder.closed).toEqual({ code: 1008, reason: 'too many frames in flight' });
  const ref = bystander.push('realtime:calm', 'phx_join', join);
  expect((await bystander.reply(ref)).status).toBe('ok');
  bystander.ws.close();
});

test('a join with more bindings than allowed is refused', async () => {
  const user = await wechatUser(server);
  const socket = await RawSocket.open(server, '1.0.0');
  const binding = { event: 'INSERT', schema: 'public', table: 'messages' };
  const ref = socket.push('realtime:many', 'phx_join', {
    config: { postgres_changes: Array.from({ length: 101 }, () => binding) },
    access_token: user.session.access_token,
  });
  expect(await socket.reply(ref)).toEqual({ status: 'error', response: { reason: 'at most 100 postgres_changes bindings per channel' } });
  socket.ws.close();
});
