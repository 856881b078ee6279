// Supabase Vault on local-supabase, as supabase/vault 0.3.1 and Supabase's grants make it: present
// before any migration, holding this server's URL and service role key, readable by service_role
// and postgres and by nobody else, through SQL roles or the REST API.
import pg from 'pg';
import { wechatUser, client, startTestServer, superuserQuery, type TestServer } from './support/server';
import type { Row } from './support/row';

jest.setTimeout(60000);

let server: TestServer;

async function sql<T extends pg.QueryResultRow = Row>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await superuserQuery<T>(server.dbUrl, text, params)).rows;
}

/** One statement as `role` (SET ROLE, as PostgREST switches roles). */
async function asRole(role: string, text: string, params: unknown[] = []) {
  const db = new pg.Client({ connectionString: server.dbUrl });
  await db.connect();
  try {
    await db.query(`set role ${role}`);
    return (await db.query(text, params)).rows;
  } finally {
    await db.end();
  }
}

beforeAll(async () => {
  server = await startTestServer({ config: { auth: { anonymousSignIns: true } } });
  // A function an app might expose, running with its caller's rights.
  await sql(`create function public.peek_secret(secret_name text) returns text language sql as $$
    select decrypted_secret from vault.decrypted_secrets where name = secret_name $$`);
});
afterAll(() => server?.stop());

test('Vault is there before any migration, with the project URL and service role key an operator stores', async () => {
  expect(
    await sql(`select extversion, extnamespace::regnamespace::text as schema from pg_extension where extname = 'supabase_vault'`),
  ).toEqual([{ extversion: '0.3.1', schema: 'vault' }]);
  const secrets = await sql(
    `select name, decrypted_secret from vault.decrypted_secrets where name in ('project_url', 'service_role_key') order by name`,
  );
  expect(secrets).toEqual([
    { name: 'project_url', decrypted_secret: server.url },
    { name: 'service_role_key', decrypted_secret: server.serviceRoleKey },
  ]);
});

test('create_secret, read through decrypted_secrets, update_secret', async () => {
  const [{ id }] = await sql(`select vault.create_secret('s3cr3t', 'wechat_secret', 'the AppSecret') as id`);
  expect(await sql(`select name, description, decrypted_secret from vault.decrypted_secrets where id = $1`, [id])).toEqual([
    { name: 'wechat_secret', description: 'the AppSecret', decrypted_secret: 's3cr3t' },
  ]);
  const [{ updated_at: before }] = await sql(`select updated_at from vault.secrets where id = $1`, [id]);
  await sql(`select vault.update_secret($1, 'n3w')`, [id]);
  const [after] = await sql(`select name, description, decrypted_secret, updated_at from vault.decrypted_secrets where id = $1`, [id]);
  expect(after).toMatchObject({ name: 'wechat_secret', description: 'the AppSecret', decrypted_secret: 'n3w' });
  expect(after.updated_at.getTime()).toBeGreaterThan(before.getTime());
  await sql(`select vault.update_secret($1, new_name := 'renamed', new_description := 'moved')`, [id]);
  expect(await sql(`select name, description, decrypted_secret from vault.decrypted_secrets where id = $1`, [id])).toEqual([
    { name: 'renamed', description: 'moved', decrypted_secret: 'n3w' },
  ]);
  // A name names one secret.
  await expect(sql(`select vault.create_secret('other', 'renamed')`)).rejects.toThrow('duplicate key value violates unique constraint');
});

test('service_role reads and manages secrets; anon and authenticated reach nothing of Vault in SQL', async () => {
  expect(await asRole('service_role', `select decrypted_secret from vault.decrypted_secrets where name = 'project_url'`)).toEqual([
    { decrypted_secret: server.url },
  ]);
  const [{ id }] = await asRole('service_role', `select vault.create_secret('by service role', 'service_made') as id`);
  await asRole('service_role', `select vault.update_secret($1, 'changed')`, [id]);
  for (const role of ['anon', 'authenticated']) {
    await expect(asRole(role, 'select decrypted_secret from vault.decrypted_secrets')).rejects.toThrow(
      'permission denied for schema vault',
    );
    await expect(asRole(role, 'select secret from vault.secrets')).rejects.toThrow('permission denied for schema vault');
    await expect(asRole(role, `select vault.create_secret('mine')`)).rejects.toThrow('permission denied for schema vault');
    await expect(asRole(role, `select vault.update_secret($1, 'mine')`, [id])).rejects.toThrow('permission denied for schema vault');
  }
  expect(await sql(`select decrypted_secret from vault.decrypted_secrets where id = $1`, [id])).toEqual([{ decrypted_secret: 'changed' }]);
});

test('through the REST API Vault is not exposed, and a function run as anon or a signed-in user cannot read it', async () => {
  const anon = client(server);
  const { sb: signedIn } = await wechatUser(server);
  const service = client(server, { key: server.serviceRoleKey });
  for (const sb of [anon, signedIn, service]) {
    const { data, error } = await sb.schema('vault').from('decrypted_secrets').select('*');
    expect(data).toBeNull();
    expect(error).toMatchObject({ code: 'PGRST106' });
  }
  for (const sb of [anon, signedIn]) {
    const { data, error } = await sb.rpc('peek_secret', { secret_name: 'service_role_key' });
    expect(data).toBeNull();
    expect(error).toMatchObject({ code: '42501', message: 'permission denied for schema vault' });
  }
  const { data, error } = await service.rpc('peek_secret', { secret_name: 'service_role_key' });
  expect(error).toBeNull();
  expect(data).toBe(server.serviceRoleKey);
});
