// Slow (or hostile) uploaders must not hold database connections while their bodies trickle in:
// more stalled uploads than the pool has connections, and the API still answers at once.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { wechatUser, startTestServer, superuserQuery, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

test('30 stalled uploads do not stall REST, and leave no rows behind', async () => {
  const user = await wechatUser(server);
  const { port } = new URL(server.url);
  const stalled = Array.from({ length: 30 }, () => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: `/storage/v1/object/images/${user.id}/2026-11/${randomUUID()}.jpg`,
      headers: {
        authorization: `Bearer ${user.session.access_token}`,
        'content-type': 'image/jpeg',
        'content-length': '100000',
      },
    });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(10));
    return req;
  });
  // Let every upload pass its permission check and start streaming.
  await new Promise((r) => setTimeout(r, 1000));

  const started = Date.now();
  const { data, error } = await user.sb.from('rooms').select('slug');
  expect(error).toBeNull();
  expect(data).toEqual([{ slug: 'lobby' }]);
  expect(Date.now() - started).toBeLessThan(2000);

  for (const req of stalled) req.destroy();
  await new Promise((r) => setTimeout(r, 500));
  const rows = await superuserQuery(server.dbUrl, `select count(*)::int as n from storage.objects where owner_id = $1`, [user.id]);
  expect(rows.rows[0].n).toBe(0);
});
