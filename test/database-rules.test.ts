// RLS and CHECK constraints of supabase/migrations, through the REST API with the official
// client, as two anonymous users A and B. Boundaries come from miniprogram/core/rules.ts, so
// the client's rules and the database's cannot drift apart unnoticed.
import { randomUUID } from 'node:crypto';
import {
  NAME_MAX,
  NOTE_MAX,
  RATE_LIMIT,
  TEXT_MAX,
  TITLE_MAX,
  TOPIC_MAX,
  checkName,
  checkNote,
  checkText,
  checkTitle,
  checkTopic,
} from '../miniprogram/core/rules';
import { wechatUser, client, startTestServer, superuserQuery, textMessage as message, type TestServer } from './support/server';

type User = Awaited<ReturnType<typeof wechatUser>>;
let server: TestServer;
let a: User;
let b: User;
let roomId: number;

beforeAll(async () => {
  server = await startTestServer();
  a = await wechatUser(server);
  b = await wechatUser(server);
  const { data, error } = await a.sb.from('rooms').select('id').eq('slug', 'lobby').single();
  expect(error).toBeNull();
  roomId = data!.id;
});
afterAll(() => server.stop());

const textMessage = (overrides: Record<string, unknown> = {}) => message(roomId, overrides);

/** Clears a user's recent messages from the rate-limit window, so each check starts fresh. */
async function forgetRecentMessages(userId: string) {
  await superuserQuery(server.dbUrl, `update public.messages set created_at = created_at - interval '1 minute' where user_id = $1`, [
    userId,
  ]);
}

beforeEach(async () => {
  await forgetRecentMessages(a.id);
  await forgetRecentMessages(b.id);
});

test('A reads the room and inserts as A; the row records A and the server time', async () => {
  const before = Date.now();
  const { data, error, status } = await a.sb
    .from('messages')
    .insert(textMessage({ created_at: '2000-01-01T00:00:00Z' }))
    .select()
    .single();
  expect(error).toBeNull();
  expect(status).toBe(201);
  expect(data.user_id).toBe(a.id);
  expect(new Date(data.created_at).getTime()).toBeGreaterThanOrEqual(before - 5000);
  const read = await b.sb.from('messages').select('id, body').eq('id', data.id);
  expect(read.data).toEqual([{ id: data.id, body: '你好' }]);
});

test('A inserting with B as user_id is denied by RLS (403 42501)', async () => {
  const { error, status } = await a.sb.from('messages').insert(textMessage({ user_id: b.id }));
  expect(status).toBe(403);
  expect(error).toMatchObject({ code: '42501' });
});

test('without signing in (the anon key alone) nothing can be read or written', async () => {
  const anon = client(server);
  const read = await anon.from('messages').select('id');
  expect(read.error).toBeNull();
  expect(read.data).toEqual([]);
  const write = await anon.from('messages').insert(textMessage());
  expect(write.status).toBe(401);
  expect(write.error).toMatchObject({ code: '42501' });
});

test('messages are immutable: update and delete are denied even on your own message', async () => {
  const mine = await a.sb.from('messages').insert(textMessage()).select('id').single();
  const theirs = await b.sb.from('messages').insert(textMessage()).select('id').single();
  for (const id of [mine.data!.id, theirs.data!.id]) {
    const upd = await a.sb.from('messages').update({ body: '改' }).eq('id', id);
    expect(upd.status).toBe(403);
    expect(upd.error).toMatchObject({ code: '42501' });
    const del = await a.sb.from('messages').delete().eq('id', id);
    expect(del.status).toBe(403);
    expect(del.error).toMatchObject({ code: '42501' });
  }
  const still = await a.sb.from('messages').select('body').in('id', [mine.data!.id, theirs.data!.id]);
  expect(still.data).toEqual([{ body: '你好' }, { body: '你好' }]);
});

test('people open scenes as their own host and edit rooms only through the host functions', async () => {
  const { status, data } = await a.sb.from('rooms').insert({ slug: 'mine', title: '我的', archived: true }).select().single();
  expect(status).toBe(201);
  // The database names it and hosts it; the client's slug and flags count for nothing.
  expect(data).toMatchObject({ slug: `s-${data!.id}`, host: a.id, archived: false });
  const update = await a.sb.from('rooms').update({ title: '改' }).eq('id', data!.id);
  expect(update.error).toMatchObject({ code: '42501' });
  const remove = await a.sb.from('rooms').delete().eq('id', data!.id);
  expect(remove.error).toMatchObject({ code: '42501' });
});

test('people open scenes only as their own host, and nobody updates or deletes a room', async () => {
  const spoofed = await a.sb.from('rooms').insert({ title: '替人开', host: b.id });
  expect(spoofed.status).toBe(403);
  expect(spoofed.error).toMatchObject({ code: '42501' });
  for (const change of [a.sb.from('rooms').update({ title: '改' }).eq('slug', 'lobby'), a.sb.from('rooms').delete().eq('slug', 'lobby')]) {
    const { status, error } = await change;
    expect(status).toBe(403);
    expect(error).toMatchObject({ code: '42501' });
  }
  expect((await a.sb.from('rooms').select('title').eq('slug', 'lobby')).data).toEqual([{ title: '江湖客栈' }]);
});

test.each([
  ['an empty name', { username: '' }],
  [`a ${NAME_MAX + 1}-character name`, { username: '侠'.repeat(NAME_MAX + 1) }],
  ['a name with surrounding spaces', { username: ' 楚留香 ' }],
  ['a zero-width character in the name', { username: '楚\u200b留香' }],
  ['an RTL override in the name', { username: '\u202e香留楚' }],
  ['colour "red"', { avatar_color: 'red' }],
  ['colour "#fff"', { avatar_color: '#fff' }],
  ['colour "#GGGGGG"', { avatar_color: '#GGGGGG' }],
  [`a ${TEXT_MAX + 1}-character text`, { body: 'a'.repeat(TEXT_MAX + 1) }],
  ['a blank text', { body: ' \n ' }],
  ['an unknown kind', { kind: 'video' }],
  ['an image kind without a path', { kind: 'image', body: null, image_width: 10, image_height: 10 }],
])('the database rejects %s with 400 23514', async (_what, overrides) => {
  const { status, error } = await a.sb.from('messages').insert(textMessage(overrides));
  expect(status).toBe(400);
  expect(error).toMatchObject({ code: '23514' });
});

test("an image path in B's folder is rejected even when the object exists", async () => {
  const path = `${b.id}/2026-11/${randomUUID()}.jpg`;
  await superuserQuery(server.dbUrl, `insert into storage.objects (bucket_id, name, owner_id) values ('images', $1, $2)`, [path, b.id]);
  const { status, error } = await a.sb
    .from('messages')
    .insert(textMessage({ kind: 'image', body: null, image_path: path, image_width: 640, image_height: 480 }));
  expect(status).toBe(400);
  expect(error).toMatchObject({ code: '23514' });
  expect(error!.message).toContain('messages_image_path_check');
});

test('an image message needs its upload to exist first', async () => {
  const path = `${a.id}/2026-11/${randomUUID()}.jpg`;
  const row = textMessage({ kind: 'image', body: null, image_path: path, image_width: 640, image_height: 480 });
  const missing = await a.sb.from('messages').insert(row);
  expect(missing.status).toBe(400);
  expect(missing.error).toMatchObject({ code: '23514', message: `image not uploaded: ${path}` });
  await superuserQuery(server.dbUrl, `insert into storage.objects (bucket_id, name, owner_id) values ('images', $1, $2)`, [path, a.id]);
  const ok = await a.sb.from('messages').insert(row);
  expect(ok.error).toBeNull();
  expect(ok.status).toBe(201);
});

// A character of each UTF-8 width; the emoji lies outside the BMP (one code point, two UTF-16
// units), which both sides must count once, as Postgres' char_length does.
test.each([
  ['ASCII letters', 'a'],
  ['Latin-1 letters', 'é'],
  ['CJK characters', '侠'],
  ['emoji outside the BMP', '🐉'],
])("names and texts of %s: the core's rules and the database agree at both boundaries", async (_what, character) => {
  const fields = [
    { field: 'username', max: NAME_MAX, check: checkName },
    { field: 'body', max: TEXT_MAX, check: checkText },
  ];
  for (const { field, max, check } of fields) {
    const longest = character.repeat(max);
    const over = character.repeat(max + 1);
    expect(check(longest)).toBeNull();
    expect(check(over)).toBe('too_long');
    const accepted = await b.sb.from('messages').insert(textMessage({ [field]: longest }));
    expect(accepted.error).toBeNull();
    const refused = await b.sb.from('messages').insert(textMessage({ [field]: over }));
    expect(refused.status).toBe(400);
    expect(refused.error).toMatchObject({ code: '23514' });
  }
});

// Characters and scenes, at the same widths: a character's name and 人设 note, a scene's title and
// 背景. A fresh person per width, as each may keep 10 characters and open 3 scenes a day.
test.each([
  ['ASCII letters', 'a'],
  ['Latin-1 letters', 'é'],
  ['CJK characters', '侠'],
  ['emoji outside the BMP', '🐉'],
])("characters and scenes of %s: the core's rules and the database agree at both boundaries", async (_what, character) => {
  const person = await wechatUser(server);
  const characterFields = [
    { field: 'name', max: NAME_MAX, check: checkName },
    { field: 'note', max: NOTE_MAX, check: checkNote },
  ];
  for (const { field, max, check } of characterFields) {
    expect(check(character.repeat(max))).toBeNull();
    expect(check(character.repeat(max + 1))).toBe('too_long');
    const row = (value: string) => ({
      character_id: null,
      name: '合规',
      avatar_color: '#1f618d',
      note: '',
      portrait_path: null,
      [field]: value,
    });
    expect((await person.sb.rpc('save_character', row(character.repeat(max)) as never)).error).toBeNull();
    expect((await person.sb.rpc('save_character', row(character.repeat(max + 1)) as never)).error).toMatchObject({ code: '23514' });
  }
  const sceneFields = [
    { field: 'title', max: TITLE_MAX, check: checkTitle },
    { field: 'topic', max: TOPIC_MAX, check: checkTopic },
  ];
  for (const { field, max, check } of sceneFields) {
    expect(check(character.repeat(max))).toBeNull();
    expect(check(character.repeat(max + 1))).toBe('too_long');
    const scene = (value: string) => ({ title: '场景', topic: '', [field]: value });
    expect((await person.sb.from('rooms').insert(scene(character.repeat(max)))).error).toBeNull();
    expect((await person.sb.from('rooms').insert(scene(character.repeat(max + 1)))).error).toMatchObject({ code: '23514' });
  }
});

// Each end of every range of invisible characters the name rule forbids, and a neighbour just
// outside it that both sides must accept.
test.each([
  ['\u0001', false],
  ['\u001f', false],
  ['\u007f', false],
  ['\u009f', false],
  ['\u00a0', true],
  ['\u200a', true],
  ['\u200b', false],
  ['\u200f', false],
  ['\u2010', true],
  ['\u2029', true],
  ['\u202a', false],
  ['\u202e', false],
  ['\u202f', true],
  ['\u205f', true],
  ['\u2060', false],
  ['\u2069', false],
  ['\u206a', true],
  ['\ufe0f', true],
  ['\ufeff', false],
])('%j inside a name: the core and the database both accept it: %s', async (character, accepted) => {
  const name = `楚${character}留香`;
  expect(checkName(name)).toBe(accepted ? null : 'invisible_chars');
  const { status, error } = await a.sb.from('messages').insert(textMessage({ username: name }));
  expect(status).toBe(accepted ? 201 : 400);
  if (!accepted) expect(error).toMatchObject({ code: '23514' });
});

test('a retried message (same client_id) is a 409 duplicate, never a second row', async () => {
  const row = textMessage();
  expect((await a.sb.from('messages').insert(row)).status).toBe(201);
  const retry = await a.sb.from('messages').insert(row);
  expect(retry.status).toBe(409);
  expect(retry.error).toMatchObject({ code: '23505' });
  const { count } = await a.sb.from('messages').select('*', { count: 'exact', head: true }).eq('client_id', row.client_id);
  expect(count).toBe(1);
});

test(`the rate limit lets ${RATE_LIMIT} messages through, then names itself (429 PT429)`, async () => {
  for (let i = 0; i < RATE_LIMIT; i++) {
    const { error } = await a.sb.from('messages').insert(textMessage({ body: `第${i}条` }));
    expect(error).toBeNull();
  }
  const over = await a.sb.from('messages').insert(textMessage());
  expect(over.status).toBe(429);
  expect(over.error).toMatchObject({ code: 'PT429', message: 'rate limit exceeded: at most 10 messages in 10 seconds' });
  // B is unaffected by A's burst.
  expect((await b.sb.from('messages').insert(textMessage())).error).toBeNull();
  // A retry of an already-sent message is still a duplicate, not a rate-limit error.
  const sent = textMessage();
  await forgetRecentMessages(a.id);
  await a.sb.from('messages').insert(sent);
  for (let i = 0; i < RATE_LIMIT; i++) await a.sb.from('messages').insert(textMessage());
  const retry = await a.sb.from('messages').insert(sent);
  expect(retry.error).toMatchObject({ code: '23505' });
});

test('concurrent inserts cannot slip past the rate limit together', async () => {
  const results = await Promise.all(Array.from({ length: RATE_LIMIT * 2 }, () => a.sb.from('messages').insert(textMessage())));
  expect(results.filter((r) => r.error === null)).toHaveLength(RATE_LIMIT);
  expect(results.filter((r) => r.status === 429)).toHaveLength(RATE_LIMIT);
});

test('no policy calls a function that PostgreSQL must plan again on every call', async () => {
  // A SQL function that is SECURITY DEFINER or has a SET clause is never inlined, and its query is
  // planned on each call; Realtime evaluates the messages policy once per subscriber per change.
  const { rows } = await superuserQuery<{ call: string }>(
    server.dbUrl,
    `select distinct format('%s on %s calls %s', calls.polname, calls.polrelid::regclass, f.oid::regprocedure) as call
       from (select p.polname, p.polrelid,
                    (regexp_matches(concat(p.polqual::text, p.polwithcheck::text), ':funcid (\\d+)', 'g'))[1]::oid as fn
               from pg_policy p) calls
       join pg_proc f on f.oid = calls.fn
       join pg_language l on l.oid = f.prolang
      where l.lanname = 'sql' and (f.prosecdef or f.proconfig is not null)
      order by 1`,
  );
  expect(rows.map((r) => r.call)).toEqual([]);
});
