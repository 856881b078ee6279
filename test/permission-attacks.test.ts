// User A, holding only the anon key and A's own session, tries everything a curious or hostile
// client might against user B and the system. All of it must be denied with the expected status.
import { randomUUID } from 'node:crypto';
import { exactly, subscribeChanges } from './support/realtime';
import { changeSchema, startTestServer, superuserQuery, textMessage as message, wechatUser, type TestServer } from './support/server';

type User = Awaited<ReturnType<typeof wechatUser>>;
let server: TestServer;
let a: User;
let b: User;
let bMessageId: number;
let bClientId: string;
let aMessageId: number;
let bImage: string;

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0xff, 0xd9]);

const textMessage = (overrides: Record<string, unknown> = {}) => message(1, overrides);

beforeAll(async () => {
  server = await startTestServer({ config: { auth: { refreshTokenReuseInterval: 0 } } });
  a = await wechatUser(server);
  b = await wechatUser(server);
  const bRow = (await b.sb.from('messages').insert(textMessage()).select('id, client_id').single()).data!;
  bMessageId = bRow.id;
  bClientId = bRow.client_id;
  aMessageId = (await a.sb.from('messages').insert(textMessage()).select('id').single()).data!.id;
  bImage = `${b.id}/2026-11/${randomUUID()}.jpg`;
  const up = await b.sb.storage.from('images').upload(bImage, JPEG, { contentType: 'image/jpeg' });
  expect(up.error).toBeNull();
});
afterAll(() => server.stop());

describe('the database, through REST', () => {
  test('A cannot post as B', async () => {
    const { status, error } = await a.sb.from('messages').insert(textMessage({ user_id: b.id }));
    expect(status).toBe(403);
    expect(error!.code).toBe('42501');
  });

  test.each([
    ["update B's message", () => a.sb.from('messages').update({ body: 'hacked' }).eq('id', bMessageId)],
    ["delete B's message", () => a.sb.from('messages').delete().eq('id', bMessageId)],
    ['delete its own message', () => a.sb.from('messages').delete().eq('id', aMessageId)],
    // ON CONFLICT … DO UPDATE needs the UPDATE privilege, which the API roles do not have.
    [
      "upsert over B's message by its client_id",
      () => a.sb.from('messages').upsert(textMessage({ client_id: bClientId }), { onConflict: 'client_id' }),
    ],
  ])('A cannot %s (403 42501) and the rows stay', async (_what, attempt) => {
    const { status, error } = await attempt();
    expect(status).toBe(403);
    expect(error!.code).toBe('42501');
    const rows = await superuserQuery(server.dbUrl, 'select id, body from public.messages where id = any($1) order by id', [
      [bMessageId, aMessageId],
    ]);
    expect(rows.rows).toEqual([
      { id: bMessageId, body: '你好' },
      { id: aMessageId, body: '你好' },
    ]);
  });

  test.each(['auth', 'storage', 'private', 'supabase_migrations'])('schema %s is not exposed (406 PGRST106)', async (schema) => {
    for (const table of ['users', 'refresh_tokens', 'objects', 'schema_migrations']) {
      const { status, error } = await a.sb.schema(schema).from(table).select('*');
      expect(status).toBe(406);
      expect(error!.code).toBe('PGRST106');
    }
  });

  test.each([
    ['private.check_message', 'check_message'],
    ['auth.uid', 'uid'],
    ['storage.foldername', 'foldername'],
    ['pg_catalog.pg_sleep', 'pg_sleep'],
    ['pg_catalog.set_config', 'set_config'],
  ])('A cannot call %s through rpc (404)', async (_qualified, fn) => {
    const { status, error } = await a.sb.rpc(fn, {});
    expect(status).toBe(404);
    expect(error!.code).toBe('PGRST202');
  });
});

describe('what is one person’s own', () => {
  test("A reads none of B's blocks, reports or read markers, nor who is a moderator or banned, and cannot lift B's block", async () => {
    const c = await wechatUser(server);
    const banned = await wechatUser(server);
    expect((await b.sb.from('blocks').insert({ blocked: c.id, blocked_name: '丙' })).error).toBeNull();
    // B reports A's message: A, its author, must not learn who reported it.
    expect((await b.sb.from('reports').insert({ message_id: aMessageId, reason: 'spam' })).error).toBeNull();
    expect((await b.sb.rpc('mark_read', { scene: 1, message: bMessageId })).error).toBeNull();
    await superuserQuery(server.dbUrl, 'insert into public.moderators (user_id) values ($1)', [c.id]);
    await superuserQuery(server.dbUrl, `insert into public.bans (openid, reason) values ($1, '测试封禁')`, [
      server.wechat!.openidOf(banned.person),
    ]);
    for (const table of ['blocks', 'reports', 'read_markers', 'moderators', 'bans'] as const) {
      const { data, error } = await a.sb.from(table).select('*');
      expect([table, error, data]).toEqual([table, null, []]);
    }
    // Each sees their own: the rows above exist.
    expect((await b.sb.from('blocks').select('blocked')).data).toEqual([{ blocked: c.id }]);
    expect((await c.sb.from('moderators').select('user_id')).data).toEqual([{ user_id: c.id }]);
    expect((await banned.sb.from('bans').select('reason')).data).toEqual([{ reason: '测试封禁' }]);

    await a.sb.from('blocks').delete().eq('blocker', b.id);
    expect((await b.sb.from('blocks').select('blocked')).data).toEqual([{ blocked: c.id }]);
  });
});

describe('storage', () => {
  test("A cannot write into B's folder", async () => {
    const { error } = await a.sb.storage.from('images').upload(`${b.id}/2026-11/${randomUUID()}.jpg`, JPEG, { contentType: 'image/jpeg' });
    expect(error).toMatchObject({ status: 400, statusCode: '403' });
  });

  test("A cannot overwrite B's image with upsert, and B's bytes stay", async () => {
    const { error } = await a.sb.storage.from('images').upload(bImage, Buffer.from('evil'), { contentType: 'image/jpeg', upsert: true });
    expect(error).toMatchObject({ status: 400, statusCode: '403' });
    const res = await fetch(a.sb.storage.from('images').getPublicUrl(bImage).data.publicUrl);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(JPEG);
  });

  test("A cannot delete B's image (nothing visible to delete), and it is still served", async () => {
    const { data, error } = await a.sb.storage.from('images').remove([bImage]);
    expect(error).toBeNull();
    expect(data).toEqual([]);
    const res = await fetch(a.sb.storage.from('images').getPublicUrl(bImage).data.publicUrl);
    expect(res.status).toBe(200);
  });

  test("listing shows A only its own folder: B's folder and the bucket root reveal nothing of B", async () => {
    const mine = `${a.id}/2026-11/${randomUUID()}.jpg`;
    expect((await a.sb.storage.from('images').upload(mine, JPEG, { contentType: 'image/jpeg' })).error).toBeNull();
    const theirs = await a.sb.storage.from('images').list(`${b.id}/2026-11`);
    expect(theirs.data).toEqual([]);
    const root = await a.sb.storage.from('images').list('');
    expect(root.data!.map((e) => e.name)).toEqual([a.id]);
  });

  test("A cannot sign a URL for B's object through RLS", async () => {
    const { error } = await a.sb.storage.from('images').createSignedUrl(bImage, 60);
    expect(error).toMatchObject({ status: 400, statusCode: '404' });
  });
});

describe('realtime', () => {
  test('a subscriber never receives a row the policies hide from it', async () => {
    await changeSchema(
      server,
      `
        create table public.secrets (
          id bigint generated always as identity primary key,
          owner uuid not null default auth.uid(),
          note text not null
        );
        alter table public.secrets enable row level security;
        create policy "owners read" on public.secrets for select to authenticated using (owner = auth.uid());
        create policy "owners write" on public.secrets for insert to authenticated with check (owner = auth.uid());
        alter publication supabase_realtime add table public.secrets;`,
      'secrets?limit=0',
    );
    const binding = { event: 'INSERT' as const, table: 'secrets' };
    const subA = await subscribeChanges(a.sb, `secrets-${a.id}`, [binding]);
    const subB = await subscribeChanges(b.sb, `secrets-${b.id}`, [binding]);
    expect((await b.sb.from('secrets').insert({ note: "B's secret" })).error).toBeNull();
    expect((await exactly(subB, 1)).map((change) => change.new.note)).toEqual(["B's secret"]);
    expect(subA.changes).toEqual([]);
    await a.sb.removeAllChannels();
    await b.sb.removeAllChannels();
  });
});

describe('sessions', () => {
  async function refresh(token: string) {
    const res = await fetch(`${server.url}/auth/v1/token?grant_type=refresh_token`, {
      method: 'POST',
      headers: { apikey: server.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: token }),
    });
    return { status: res.status, body: await res.json() };
  }

  test("A's refresh token is useless after logout", async () => {
    const user = await wechatUser(server);
    expect((await user.sb.auth.signOut()).error).toBeNull();
    expect(await refresh(user.session.refresh_token)).toMatchObject({ status: 400, body: { code: 'refresh_token_not_found' } });
  });

  test('a refresh token reused after rotation is rejected, and the session with it', async () => {
    const user = await wechatUser(server);
    const second = await refresh(user.session.refresh_token);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(await refresh(user.session.refresh_token)).toMatchObject({ status: 400, body: { code: 'refresh_token_already_used' } });
    expect((await refresh(third.body.refresh_token)).status).toBe(400);
  });
});
