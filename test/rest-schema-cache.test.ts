// The REST schema cache follows the database as PostgREST's does (PostgREST
// src/library/PostgREST/AppState/Reload.hs): it reloads on NOTIFY pgrst — 'reload schema' or an
// empty payload for the schema, 'reload config' for the roles' settings — which the event triggers
// of a Supabase project send after DDL; a name it does not hold is an error, never a reload.
import type { SupabaseClient } from '@supabase/supabase-js';
import { token, clientWithToken } from './support/rest-fixture';
import { changeSchema, client, startTestServer, superuserQuery, type TestServer } from './support/server';
import { sleep, waitFor } from './support/wait';

let server: TestServer;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startTestServer();
  sb = client(server);
});

afterAll(async () => {
  await server?.stop();
});

const sql = (text: string) => superuserQuery(server.dbUrl, text);

/** What the client gets for one table, as [status, error code or rows]. */
async function read(table: string, columns = '*'): Promise<[number, unknown]> {
  const res = await sb.from(table).select(columns);
  return [res.status, res.error ? res.error.code : res.data];
}

/** DDL that no event trigger reports, as on a database where they are missing. */
async function unannouncedDdl(text: string): Promise<void> {
  await sql(`alter event trigger pgrst_ddl_watch disable; alter event trigger pgrst_drop_watch disable;`);
  try {
    await sql(text);
  } finally {
    await sql(`alter event trigger pgrst_ddl_watch enable; alter event trigger pgrst_drop_watch enable;`);
  }
}

test('DDL is served without a restart: the event triggers notify pgrst at commit', async () => {
  await sql(`create table public.late (id integer primary key); insert into public.late values (7); grant select on public.late to anon`);
  expect(await waitFor('late to be served', async () => (await read('late'))[0] === 200 && read('late'))).toEqual([200, [{ id: 7 }]]);

  await sql(`alter table public.late add column label text default 'new'`);
  await waitFor('late.label to be served', async () => (await read('late', 'label'))[0] === 200);
  expect(await read('late', 'id, label')).toEqual([200, [{ id: 7, label: 'new' }]]);

  await sql(`create function public.late_count() returns bigint language sql stable as $$ select count(*) from public.late $$`);
  await waitFor('late_count to be callable', async () => (await sb.rpc('late_count')).status === 200);
  expect((await sb.rpc('late_count')).data).toBe(1);

  // Until the reload, Postgres itself answers for the dropped table (42P01, also 404).
  await sql(`drop table public.late cascade`);
  await waitFor('late to be gone from the cache', async () => (await read('late'))[1] === 'PGRST205');
  expect(await read('late')).toEqual([404, 'PGRST205']);
});

test('a table the cache does not hold is 404 PGRST205, and asking again does not reload it', async () => {
  await unannouncedDdl(`create table public.hidden (id integer primary key); grant select on public.hidden to anon`);
  for (let i = 0; i < 3; i++) {
    const res = await sb.from('hidden').select();
    expect([res.status, res.error]).toEqual([
      404,
      { code: 'PGRST205', details: null, hint: null, message: "Could not find the table 'public.hidden' in the schema cache" },
    ]);
  }
  await sql(`notify pgrst, 'reload schema'`);
  await waitFor('hidden to be served after the notify', async () => (await read('hidden'))[0] === 200);
  expect(await read('hidden')).toEqual([200, []]);
});

test('a column the cache does not hold is PGRST204 on write and 42703 on read until NOTIFY pgrst (empty payload)', async () => {
  await changeSchema(
    server,
    `create table public.widened (id integer primary key); grant all on public.widened to service_role`,
    'widened?limit=0',
  );
  await unannouncedDdl(`alter table public.widened add column extra text`);
  const service = client(server, { key: server.serviceRoleKey });
  const insert = await service.from('widened').insert({ id: 1, extra: 'x' });
  expect([insert.status, insert.error?.code, insert.error?.message]).toEqual([
    400,
    'PGRST204',
    "Could not find the 'extra' column of 'widened' in the schema cache",
  ]);
  expect((await service.from('widened').select('extra')).error?.code).toBe('42703');
  await sql(`notify pgrst`);
  await waitFor('widened.extra to be served', async () => (await service.from('widened').insert({ id: 1, extra: 'x' })).status === 201);
  expect((await service.from('widened').select('id, extra')).data).toEqual([{ id: 1, extra: 'x' }]);
});

test("'reload config' applies new role settings; other payloads and channels change nothing", async () => {
  const user = clientWithToken(server, token(server, { role: 'authenticated', sub: '00000000-0000-4000-8000-000000000001' }));
  await changeSchema(
    server,
    `create function public.timeout() returns text language sql stable as $$ select current_setting('statement_timeout') $$`,
    'rpc/timeout',
  );
  expect((await user.rpc('timeout')).data).toBe('8s');
  // Role settings are global objects: no event trigger sees ALTER ROLE.
  await sql(`alter role authenticated set statement_timeout = '7s'`);
  try {
    await sql(`notify pgrst, 'reload everything'; notify postgrest, 'reload config'`);
    await sleep(300);
    expect((await user.rpc('timeout')).data).toBe('8s');
    await sql(`notify pgrst, 'reload config'`);
    await waitFor('the new statement_timeout', async () => (await user.rpc('timeout')).data === '7s');
  } finally {
    await sql(`alter role authenticated set statement_timeout = '8s'; notify pgrst, 'reload config'`);
  }
});

test('after its listening connection is killed, the cache listens again and reloads what it missed', async () => {
  const listeners = () => sql(`select pid from pg_stat_activity where query = 'LISTEN pgrst'`);
  const [{ pid }] = (await listeners()).rows;
  await sql(`select pg_terminate_backend(${pid})`);
  // Changed while nobody listens: only the reload after reconnecting can reveal it.
  await sql(`create table public.missed (id integer primary key); grant select on public.missed to anon`);
  await waitFor('a new listener', async () => (await listeners()).rows.some((r) => r.pid !== pid), 10000);
  await waitFor('missed to be served', async () => (await read('missed'))[0] === 200, 10000);
  expect(await read('missed')).toEqual([200, []]);
});
