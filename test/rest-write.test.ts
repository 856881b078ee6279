// /rest/v1 writes and RPC through the official client, as two signed-in anonymous users: insert
// (one row, many, missing=default, return=minimal|representation), upsert (merge and ignore,
// on_conflict, 201 vs 200), PATCH and DELETE under RLS, every RPC result shape, and the
// transaction-local settings a request runs with.
import { createConformance, clientWithToken } from './support/rest-fixture';
import { wechatUser, client, startTestServer, superuserQuery, type TestServer } from './support/server';
import { waitFor } from './support/wait';

let server: TestServer;
let a: Awaited<ReturnType<typeof wechatUser>>;
let b: Awaited<ReturnType<typeof wechatUser>>;

beforeAll(async () => {
  server = await startTestServer();
  await createConformance(server);
  a = await wechatUser(server);
  b = await wechatUser(server);
});

afterAll(async () => {
  await server?.stop();
});

async function namesOwnedBy(owner: string, prefix: string) {
  const rows = await superuserQuery(
    server.dbUrl,
    `select name, score from public.conformance where owner = $1 and name like $2 || '%' order by name`,
    [owner, prefix],
  );
  return rows.rows;
}

describe('insert', () => {
  test('one row, return=minimal: 201 and no body; defaults such as auth.uid() apply', async () => {
    const res = await a.sb.from('conformance').insert({ name: 'min-1' });
    expect([res.status, res.data, res.error]).toEqual([201, null, null]);
    expect(await namesOwnedBy(a.id, 'min-')).toEqual([{ name: 'min-1', score: null }]);
  });

  test('one row, return=representation with single(): the object', async () => {
    const res = await a.sb.from('conformance').insert({ name: 'rep-1', big: 1234567890123 }).select('name, big, owner').single();
    expect(res.status).toBe(201);
    expect(res.data).toEqual({ name: 'rep-1', big: 1234567890123, owner: a.id });
  });

  test('many rows with columns=: missing keys are NULL, or the default with missing=default', async () => {
    const nulls = await a.sb
      .from('conformance')
      .insert([{ name: 'many-1', note: 'given' }, { name: 'many-2' }])
      .select('name, note');
    expect([nulls.status, nulls.data]).toEqual([
      201,
      [
        { name: 'many-1', note: 'given' },
        { name: 'many-2', note: null },
      ],
    ]);
    const defaults = await a.sb
      .from('conformance')
      .insert([{ name: 'many-3', note: 'given' }, { name: 'many-4' }, { name: 'many-5', note: null }], { defaultToNull: false })
      .select('name, note');
    expect(defaults.data).toEqual([
      { name: 'many-3', note: 'given' },
      { name: 'many-4', note: 'dflt' },
      { name: 'many-5', note: null },
    ]);
  });

  test('count=exact on an insert reports the rows written', async () => {
    const res = await a.sb.from('conformance').insert([{ name: 'cnt-1' }, { name: 'cnt-2' }], { count: 'exact' });
    expect([res.status, res.count]).toEqual([201, 2]);
  });

  test('Preference-Applied echoes the preferences honoured', async () => {
    const res = await fetch(`${server.url}/rest/v1/conformance?columns=%22name%22`, {
      method: 'POST',
      headers: {
        apikey: server.anonKey,
        authorization: `Bearer ${a.session.access_token}`,
        'content-type': 'application/json',
        prefer: 'return=representation, missing=default, count=exact, tx=rollback',
      },
      body: JSON.stringify([{ name: 'pref-1' }]),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('return=representation, missing=default, count=exact');
    expect(res.headers.get('content-range')).toBe('*/1');
    expect(await res.json()).toEqual([expect.objectContaining({ name: 'pref-1', note: 'dflt', owner: a.id })]);
  });

  test('objects without keys insert rows of defaults; an empty array inserts nothing', async () => {
    await superuserQuery(
      server.dbUrl,
      `create table public.defaults_only (id serial primary key, at timestamptz not null default now());
       grant select, insert on public.defaults_only to authenticated;
       grant usage on sequence public.defaults_only_id_seq to authenticated;`,
    );
    await superuserQuery(server.dbUrl, `notify pgrst, 'reload schema'`);
    const rows = async () => (await superuserQuery(server.dbUrl, 'select id from public.defaults_only order by id')).rows;
    await waitFor('the table in the schema cache', async () => (await a.sb.from('defaults_only').select('id')).error === null || undefined);
    const one = await a.sb.from('defaults_only').insert({}).select('id').single();
    expect([one.status, one.data, one.error]).toEqual([201, { id: 1 }, null]);
    const two = await a.sb.from('defaults_only').insert([{}, {}]).select('id');
    expect([two.status, two.data, two.error]).toEqual([201, [{ id: 2 }, { id: 3 }], null]);
    const none = await a.sb.from('defaults_only').insert([]).select('id');
    expect([none.status, none.data, none.error]).toEqual([201, [], null]);
    expect(await rows()).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  test('a failed single() rolls the insert back', async () => {
    const res = await a.sb
      .from('conformance')
      .insert([{ name: 'rollback-1' }, { name: 'rollback-2' }])
      .select()
      .single();
    expect(res.status).toBe(406);
    expect(res.error).toMatchObject({ code: 'PGRST116', details: 'The result contains 2 rows' });
    expect(await namesOwnedBy(a.id, 'rollback-')).toEqual([]);
  });
});

describe('upsert', () => {
  test('merge-duplicates: 201 when inserted, 200 when it only updated', async () => {
    const first = await a.sb.from('pairs').upsert({ a: 1, b: 1, v: 'one' }).select();
    expect([first.status, first.data]).toEqual([201, [{ a: 1, b: 1, v: 'one' }]]);
    const again = await a.sb.from('pairs').upsert({ a: 1, b: 1, v: 'uno' }).select();
    expect([again.status, again.data]).toEqual([200, [{ a: 1, b: 1, v: 'uno' }]]);
    const mixed = await a.sb
      .from('pairs')
      .upsert(
        [
          { a: 1, b: 1, v: 'eins' },
          { a: 1, b: 2, v: 'zwei' },
        ],
        { onConflict: 'a,b' },
      )
      .select();
    expect(mixed.status).toBe(201);
    expect(mixed.data).toEqual([
      { a: 1, b: 1, v: 'eins' },
      { a: 1, b: 2, v: 'zwei' },
    ]);
  });

  test('ignore-duplicates leaves the existing row alone', async () => {
    const res = await a.sb.from('pairs').upsert({ a: 1, b: 1, v: 'ignored' }, { ignoreDuplicates: true }).select();
    expect(res.data).toEqual([]);
    const row = await a.sb.from('pairs').select('v').eq('a', 1).eq('b', 1).single();
    expect(row.data).toEqual({ v: 'eins' });
  });

  test('on_conflict on a unique column other than the primary key', async () => {
    await superuserQuery(server.dbUrl, `create unique index pairs_v_key on public.pairs (v)`);
    const res = await a.sb.from('pairs').upsert({ a: 9, b: 9, v: 'zwei' }, { onConflict: 'v' }).select();
    expect([res.status, res.data]).toEqual([200, [{ a: 9, b: 9, v: 'zwei' }]]);
  });
});

describe('update (PATCH) and delete', () => {
  beforeAll(async () => {
    await a.sb.from('conformance').insert([{ name: 'own-1' }, { name: 'own-2' }, { name: 'own-3' }]);
  });

  test('PATCH with filters: 200 with representation, 204 minimal', async () => {
    const rep = await a.sb.from('conformance').update({ score: 99 }).eq('name', 'own-1').select('name, score');
    expect([rep.status, rep.data]).toEqual([200, [{ name: 'own-1', score: 99 }]]);
    const minimal = await a.sb.from('conformance').update({ score: 98 }).in('name', ['own-2', 'own-3']);
    expect([minimal.status, minimal.data, minimal.error]).toEqual([204, null, null]);
    expect(await namesOwnedBy(a.id, 'own-')).toEqual([
      { name: 'own-1', score: 99 },
      { name: 'own-2', score: 98 },
      { name: 'own-3', score: 98 },
    ]);
  });

  test('rows RLS hides from another user are silently not updated or deleted', async () => {
    const update = await b.sb.from('conformance').update({ score: 1 }).eq('name', 'own-1').select();
    expect([update.status, update.data]).toEqual([200, []]);
    const del = await b.sb.from('conformance').delete().eq('name', 'own-1').select();
    expect([del.status, del.data]).toEqual([200, []]);
    expect(await namesOwnedBy(a.id, 'own-1')).toEqual([{ name: 'own-1', score: 99 }]);
  });

  test('DELETE with filters: representation, count and minimal', async () => {
    const rep = await a.sb.from('conformance').delete().eq('name', 'own-1').select('name');
    expect([rep.status, rep.data]).toEqual([200, [{ name: 'own-1' }]]);
    const counted = await a.sb.from('conformance').delete({ count: 'exact' }).like('name', 'own-%');
    expect([counted.status, counted.count, counted.data]).toEqual([204, 2, null]);
    expect(await namesOwnedBy(a.id, 'own-')).toEqual([]);
  });
});

describe('rpc', () => {
  test('scalar result with named arguments and defaults, via POST and GET', async () => {
    expect(await a.sb.rpc('add', { a: 1, b: 2 })).toMatchObject({ status: 200, data: 3, error: null });
    expect((await a.sb.rpc('add', { a: 1 })).data).toBe(11);
    expect((await a.sb.rpc('add', { a: 5 }, { get: true })).data).toBe(15);
  });

  test('set result: an array of objects, with select, filters, order and count', async () => {
    await a.sb.from('conformance').insert([
      { name: 'fn-b', score: 2 },
      { name: 'fn-a', score: 1 },
      { name: 'fn-c', score: 3 },
    ]);
    const res = await a.sb
      .rpc('named_like', { prefix: 'fn-' }, { count: 'exact' })
      .select('name, score')
      .gt('score', 1)
      .order('name', { ascending: false });
    expect([res.status, res.count, res.data]).toEqual([
      200,
      2,
      [
        { name: 'fn-c', score: 3 },
        { name: 'fn-b', score: 2 },
      ],
    ]);
    const none = await a.sb.rpc('named_like', { prefix: 'nothing-' });
    expect(none.data).toEqual([]);
  });

  test('void result: 204, and a volatile function may write', async () => {
    const res = await a.sb.rpc('record_name', { p_name: 'via-rpc' });
    expect([res.status, res.data, res.error]).toEqual([204, null, null]);
    expect(await namesOwnedBy(a.id, 'via-rpc')).toEqual([{ name: 'via-rpc', score: null }]);
  });

  test('overloads are told apart by argument names; an ambiguous call is 300 PGRST203', async () => {
    expect((await a.sb.rpc('pick', { x: 1, y: 2 })).data).toBe('two integers');
    expect((await a.sb.rpc('pick', { x: 'a', z: 1 })).data).toBe('text');
    const ambiguous = await a.sb.rpc('pick', { x: 1 });
    expect([ambiguous.status, ambiguous.error?.code]).toEqual([300, 'PGRST203']);
  });

  test('a function with one unnamed json parameter receives the whole body', async () => {
    const res = await a.sb.rpc('echo_body', { nested: { list: [1, 2] }, big: 12345678901234 });
    expect(res.data).toEqual({ nested: { list: [1, 2] }, big: 12345678901234 });
  });

  test('each request runs as the caller with PostgREST settings in place', async () => {
    const probe = { 'x-probe': 'probe-value', cookie: 'flavour=vanilla; other=1' };
    const res = await clientWithToken(server, a.session.access_token, probe).rpc('whoami');
    expect(res.error).toBeNull();
    expect(res.data).toEqual({
      role: 'authenticated',
      uid: a.id,
      claims_role: 'authenticated',
      method: 'POST',
      path: '/rpc/whoami',
      probe: 'probe-value',
      cookie: 'vanilla',
      statement_timeout: '8s',
      search_path: '"public", "extensions"',
      read_only: 'on',
    });
    const anon = await client(server).rpc('whoami', {}, { get: true });
    expect(anon.data).toMatchObject({
      role: 'anon',
      uid: null,
      claims_role: 'anon',
      method: 'GET',
      statement_timeout: '3s',
      read_only: 'on',
    });
  });
});
