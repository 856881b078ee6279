// /rest/v1 errors: PostgREST's body {code, details, hint, message} and its status for each
// SQLSTATE class, JWT failures, and the request errors PostgREST itself raises (PGRSTxxx).
// Through supabase-js where the client can send the request, over plain fetch where it cannot.
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { signJwt } from '../local-supabase/src/jwt';
import { createConformance, clientWithToken, token } from './support/rest-fixture';
import { wechatUser, client, startTestServer, superuserQuery, type TestServer } from './support/server';

let server: TestServer;
let anon: SupabaseClient;
let user: { sb: SupabaseClient; id: string };

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: 64 * 1024 });
  await createConformance(server, `insert into public.conformance (id, name) values (1, 'one');`);
  anon = client(server);
  user = await wechatUser(server);
});

afterAll(async () => {
  await server?.stop();
});

function rest(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}/rest/v1${path}`, {
    ...init,
    headers: { apikey: server.anonKey, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
}

describe('SQLSTATE → HTTP status', () => {
  test('42501 is 401 for anon (with WWW-Authenticate) and 403 for a signed-in role', async () => {
    const asAnon = await anon.from('conformance').insert({ name: 'x' });
    expect(asAnon.status).toBe(401);
    expect(asAnon.error).toEqual({
      code: '42501',
      details: null,
      hint: null,
      message: 'new row violates row-level security policy for table "conformance"',
    });
    const raw = await rest('/conformance', { method: 'POST', body: '{"name":"x"}' });
    expect([raw.status, raw.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    const asUser = await user.sb.from('locked').insert({ id: 1 });
    expect(asUser.status).toBe(403);
    expect(asUser.error).toMatchObject({ code: '42501', message: 'new row violates row-level security policy for table "locked"' });
    // The app revokes UPDATE on messages: a PATCH fails loudly instead of matching nothing.
    const patch = await user.sb.from('messages').update({ body: 'edited' }).eq('id', 1);
    expect([patch.status, patch.error?.code, patch.error?.message]).toEqual([403, '42501', 'permission denied for table messages']);
  });

  test('23505 unique violation is 409', async () => {
    const res = await user.sb.from('conformance').insert({ id: 1, name: 'dup' });
    expect(res.status).toBe(409);
    expect(res.error).toMatchObject({ code: '23505', message: 'duplicate key value violates unique constraint "conformance_pkey"' });
  });

  test('23503 foreign key violation is 409', async () => {
    const res = await user.sb.from('conformance').insert({ name: 'orphan', parent_id: 424242 });
    expect([res.status, res.error?.code]).toEqual([409, '23503']);
  });

  test('23514 check violation, 23502 not-null and 22P02 invalid input are 400', async () => {
    const check = await user.sb.from('conformance').insert({ name: 'bad', note: 'forbidden' });
    expect(check.status).toBe(400);
    expect(check.error).toMatchObject({
      code: '23514',
      message: 'new row for relation "conformance" violates check constraint "conformance_note_check"',
    });
    const notNull = await user.sb.from('conformance').insert({ score: 1 });
    expect([notNull.status, notNull.error?.code]).toEqual([400, '23502']);
    const invalid = await anon.from('conformance').select('id').eq('score', 'abc');
    expect(invalid.status).toBe(400);
    expect(invalid.error).toMatchObject({ code: '22P02', message: 'invalid input syntax for type integer: "abc"' });
  });

  test('P0001 (plain RAISE) is 400 with its detail and hint', async () => {
    const res = await user.sb.rpc('fail', { msg: 'nope' });
    expect(res.status).toBe(400);
    expect(res.error).toEqual({ code: 'P0001', details: 'some detail', hint: 'a hint', message: 'nope' });
  });

  test('PTxyz chooses the status: PT418 and the app rate limit PT429', async () => {
    const teapot = await user.sb.rpc('teapot');
    expect([teapot.status, teapot.error?.code, teapot.error?.message]).toEqual([418, 'PT418', 'short and stout']);
    const sender = await wechatUser(server);
    const message = () => ({ room_id: 1, username: '侠客', avatar_color: '#336699', body: 'hi', client_id: randomUUID() });
    for (let i = 0; i < 10; i++) expect((await sender.sb.from('messages').insert(message())).status).toBe(201);
    const limited = await sender.sb.from('messages').insert(message());
    expect(limited.status).toBe(429);
    expect(limited.error).toEqual({
      code: 'PT429',
      details: null,
      hint: 'Wait a few seconds before sending again.',
      message: 'rate limit exceeded: at most 10 messages in 10 seconds',
    });
  });

  test('42P01 undefined table is 404, 25006 read-only transaction is 405', async () => {
    const lost = await user.sb.rpc('lost_table');
    expect([lost.status, lost.error?.code, lost.error?.message]).toEqual([404, '42P01', 'relation "public.no_such_table" does not exist']);
    // A GET call runs read-only, so a function that writes fails there.
    const sneaky = await user.sb.rpc('record_name', { p_name: 'sneaky' }, { get: true });
    expect([sneaky.status, sneaky.error?.code, sneaky.error?.message]).toEqual([
      405,
      '25006',
      'cannot execute INSERT in a read-only transaction',
    ]);
    expect((await superuserQuery(server.dbUrl, `select count(*)::int as n from public.conformance where name = 'sneaky'`)).rows).toEqual([
      { n: 0 },
    ]);
  });
});

describe('JWT and role', () => {
  test('an expired token is 401 PGRST303 with WWW-Authenticate', async () => {
    const expired = signJwt({ role: 'authenticated', exp: Math.floor(Date.now() / 1000) - 120 }, server.jwtSecret);
    const res = await clientWithToken(server, expired).from('conformance').select('id');
    expect(res.status).toBe(401);
    expect(res.error).toEqual({ code: 'PGRST303', details: null, hint: null, message: 'JWT expired' });
    const raw = await rest('/conformance', { headers: { authorization: `Bearer ${expired}` } });
    expect(raw.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="JWT expired"');
  });

  test('a token accepted before is refused once it expires: its time claims are checked on every request', async () => {
    // Expires 1 s from now, past PostgREST's 30 s allowance for clock skew.
    const soon = signJwt({ role: 'authenticated', exp: Math.ceil(Date.now() / 1000) - 30 + 1 }, server.jwtSecret);
    const before = await clientWithToken(server, soon).from('conformance').select('id').limit(1);
    expect([before.status, before.error]).toEqual([200, null]);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const after = await clientWithToken(server, soon).from('conformance').select('id').limit(1);
    expect([after.status, after.error?.code, after.error?.message]).toEqual([401, 'PGRST303', 'JWT expired']);
  });

  test('a wrong signature, a malformed token and alg=none are 401 PGRST301', async () => {
    const forged = signJwt({ role: 'service_role' }, 'not-the-secret-not-the-secret-not-the-secret');
    const wrong = await clientWithToken(server, forged).from('conformance').select('id');
    expect([wrong.status, wrong.error?.code, wrong.error?.message]).toEqual([401, 'PGRST301', 'JWT cryptographic operation failed']);
    const twoParts = await clientWithToken(server, 'abc.def').from('conformance').select('id');
    expect([twoParts.status, twoParts.error?.code, twoParts.error?.message]).toEqual([401, 'PGRST301', 'Expected 3 parts in JWT; got 2']);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'service_role' })}.`;
    const unsigned = await clientWithToken(server, none).from('conformance').select('id');
    expect([unsigned.status, unsigned.error?.code]).toEqual([401, 'PGRST301']);
  });

  test('a role that does not exist is 401 (22023); one the authenticator cannot become is 403', async () => {
    const ghost = await clientWithToken(server, token(server, { role: 'ghost' }))
      .from('conformance')
      .select('id');
    expect(ghost.status).toBe(401);
    expect(ghost.error).toMatchObject({ code: '22023', message: 'role "ghost" does not exist' });
    const superuser = await clientWithToken(server, token(server, { role: 'postgres' }))
      .from('conformance')
      .select('id');
    expect([superuser.status, superuser.error?.code]).toEqual([403, '42501']);
  });

  test('no Authorization header means anon; service_role bypasses RLS', async () => {
    const res = await rest('/rpc/whoami', { method: 'POST', body: '{}' });
    expect((await res.json()).role).toBe('anon');
    const service = await client(server, { key: server.serviceRoleKey }).from('locked').insert({ id: 5 }).select();
    expect([service.status, service.data]).toEqual([201, [{ id: 5 }]]);
  });
});

describe('request errors raised before the database', () => {
  test('unknown table 404 PGRST205, unknown column 400 (42703 to read, PGRST204 to write)', async () => {
    expect((await anon.from('nope').select()).error).toEqual({
      code: 'PGRST205',
      details: null,
      hint: null,
      message: "Could not find the table 'public.nope' in the schema cache",
    });
    const select = await anon.from('conformance').select('id, nope');
    expect([select.status, select.error?.code, select.error?.message]).toEqual([400, '42703', 'column conformance.nope does not exist']);
    const filter = await anon.from('conformance').select('id').eq('nope', 1);
    expect([filter.status, filter.error?.code]).toEqual([400, '42703']);
    const order = await anon.from('conformance').select('id').order('nope');
    expect([order.status, order.error?.code]).toEqual([400, '42703']);
    const insert = await user.sb.from('conformance').insert({ name: 'x', nope: 1 });
    expect(insert.status).toBe(400);
    expect(insert.error).toMatchObject({
      code: 'PGRST204',
      message: "Could not find the 'nope' column of 'conformance' in the schema cache",
    });
  });

  test('malformed filter, order, select, limit and logic tree are 400 PGRST100', async () => {
    const filter = await anon.from('conformance').select('id').filter('id', 'noop', 1);
    expect(filter.status).toBe(400);
    expect(filter.error).toMatchObject({ code: 'PGRST100', message: '"failed to parse filter (noop.1)" (line 1, column 1)' });
    for (const path of [
      'order=id.sideways',
      'select=id,(',
      'select=a:b:c',
      'limit=ten',
      'offset=-1',
      'or=(id.eq.1',
      'or=id.eq.1',
      'id=is.maybe',
      'id=in.1,2',
    ]) {
      const res = await rest(`/conformance?${path}`);
      expect([path, res.status, (await res.json()).code]).toEqual([path, 400, 'PGRST100']);
    }
    // A limited DELETE is outside this subset: refused, never widened to every matching row.
    const limited = await rest('/conformance?id=gt.0&limit=1', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token(server, { role: 'service_role' })}` },
    });
    expect([limited.status, (await limited.json()).code]).toEqual([400, 'PGRST100']);
    expect((await superuserQuery(server.dbUrl, 'select count(*)::int as n from public.conformance')).rows[0].n).toBeGreaterThan(0);
  });

  test('invalid or empty JSON body is 400 PGRST102, mismatched keys too', async () => {
    for (const body of ['{"name":', '', 'null', '"text"', '[1]']) {
      const res = await rest('/conformance', { method: 'POST', body });
      expect([body, res.status, await res.json()]).toEqual([
        body,
        400,
        { code: 'PGRST102', details: null, hint: null, message: 'Empty or invalid json' },
      ]);
    }
    const keys = await rest('/conformance', { method: 'POST', body: '[{"name":"a"},{"score":1}]' });
    expect([keys.status, (await keys.json()).message]).toEqual([400, 'All object keys must match']);
    const rpc = await rest('/rpc/add', { method: 'POST', body: '{"a":' });
    expect([rpc.status, (await rpc.json()).code]).toEqual([400, 'PGRST102']);
  });

  test('a body is read by its Content-Type: JSON with or without one, other types refused and nothing written', async () => {
    const accessToken = (await user.sb.auth.getSession()).data.session!.access_token;
    const post = (path: string, contentType: string | undefined, body: string) =>
      fetch(`${server.url}/rest/v1${path}`, {
        method: 'POST',
        headers: {
          apikey: server.anonKey,
          authorization: `Bearer ${accessToken}`,
          ...(contentType ? { 'content-type': contentType } : {}),
        },
        // Bytes: fetch gives a string body a text/plain type of its own.
        body: new TextEncoder().encode(body),
      }).then(async (res) => [res.status, res.status < 300 ? null : (await res.json()).message]);
    let id = 9000;
    const row = (name: string) => JSON.stringify({ id: ++id, name });
    expect(await post('/conformance', undefined, row('ct-none'))).toEqual([201, null]);
    expect(await post('/conformance', 'Application/JSON; charset=utf-8', row('ct-charset'))).toEqual([201, null]);
    expect(await post('/conformance', 'text/plain', row('ct-text'))).toEqual([400, 'Content-Type not acceptable: text/plain']);
    expect(await post('/conformance', 'text/csv', 'name\nct-csv')).toEqual([
      400,
      'Content-Type text/csv is not supported by local-supabase: send JSON',
    ]);
    expect(await post('/rpc/add', 'application/octet-stream', '1')).toEqual([
      400,
      'Content-Type application/octet-stream is not supported by local-supabase: send JSON',
    ]);
    const { rows } = await superuserQuery(server.dbUrl, `select name from public.conformance where name like 'ct-%' order by name`);
    expect(rows).toEqual([{ name: 'ct-charset' }, { name: 'ct-none' }]);
  });

  test('a body over the size limit is 413 with a JSON error', async () => {
    const res = await rest('/conformance', { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(70 * 1024) }) });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'request_too_large' });
  });

  test('unknown function 404 PGRST202, unknown route 404 PGRST125, PUT 405, other schema 406, CSV 406', async () => {
    const fn = await user.sb.rpc('no_such_fn', { x: 1 });
    expect([fn.status, fn.error?.code, fn.error?.message]).toEqual([
      404,
      'PGRST202',
      'Could not find the function public.no_such_fn(x) in the schema cache',
    ]);
    const wrongArgs = await user.sb.rpc('add', { z: 1 });
    expect([wrongArgs.status, wrongArgs.error?.code]).toEqual([404, 'PGRST202']);
    const route = await rest('/conformance/1/extra');
    expect([route.status, (await route.json()).code]).toEqual([404, 'PGRST125']);
    const put = await rest('/conformance?id=eq.1', { method: 'PUT', body: '{"id":1,"name":"one"}' });
    expect([put.status, (await put.json()).code]).toEqual([405, 'PGRST117']);
    const profile = await rest('/conformance', { method: 'POST', body: '{"name":"x"}', headers: { 'content-profile': 'auth' } });
    expect([profile.status, (await profile.json()).code]).toEqual([406, 'PGRST106']);
    const csv = await rest('/conformance', { headers: { accept: 'text/csv' } });
    expect([csv.status, (await csv.json()).code]).toEqual([406, 'PGRST107']);
  });
});
