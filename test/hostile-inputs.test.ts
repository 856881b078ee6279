// A corpus of hostile requests sent straight to the HTTP API, bypassing the app. Every one must
// be refused with a 4xx and a JSON error, leave the database and the stored bytes exactly as
// they were, and leave the server answering normally.
import { randomUUID } from 'node:crypto';
import { signJwt } from '../local-supabase/src/jwt';
import { wechatUser, startTestServer, textMessage, type TestServer } from './support/server';
import { databaseFingerprint, directoryFingerprint } from './support/snapshot';

type User = Awaited<ReturnType<typeof wechatUser>>;
let server: TestServer;
let a: User;
let b: User;

beforeAll(async () => {
  server = await startTestServer();
  a = await wechatUser(server);
  b = await wechatUser(server);
});
afterAll(() => server.stop());

interface Hostile {
  name: string;
  method?: string;
  path: string;
  /** Bearer token; a user's access token by default, `null` for none. */
  token?: string | null;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
}

const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function corpus(): Hostile[] {
  const userClaims = JSON.parse(Buffer.from(a.session.access_token.split('.')[1], 'base64url').toString());
  const [head, , sig] = a.session.access_token.split('.');
  const room = 1;
  const message = (overrides: Record<string, unknown>) => textMessage(room, overrides);
  const imagePath = (owner: string) => `${owner}/2026-11/${randomUUID()}.jpg`;
  const insert = (name: string, row: object, token?: string | null): Hostile => ({
    name,
    method: 'POST',
    path: '/rest/v1/messages',
    token,
    body: row,
  });
  const upload = (name: string, key: string, headers: Record<string, string> = {}, body: Buffer = Buffer.from('x')): Hostile => ({
    name,
    method: 'POST',
    path: `/storage/v1/object/images/${key}`,
    headers: { 'content-type': 'image/jpeg', ...headers },
    body,
  });
  return [
    // Tokens
    {
      name: 'forged service_role token (wrong secret)',
      path: '/rest/v1/messages',
      token: signJwt({ role: 'service_role', exp: now() + 60 }, 'not-the-secret-not-the-secret-not-the'),
    },
    {
      name: 'expired user token',
      path: '/rest/v1/messages',
      token: signJwt({ ...userClaims, exp: now() - 3600, iat: now() - 7200 }, server.jwtSecret),
    },
    {
      name: 'unsigned alg:none token',
      path: '/rest/v1/messages',
      token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...userClaims, role: 'service_role' })}.`,
    },
    {
      name: 'user token signed with the wrong secret',
      path: '/rest/v1/messages',
      token: signJwt(userClaims, 'wrong-secret-wrong-secret-wrong-secret!!'),
    },
    {
      name: "service key's claims in a user token",
      path: '/rest/v1/messages',
      token: `${head}.${b64({ ...userClaims, role: 'service_role' })}.${sig}`,
    },
    { name: 'token that is not a JWT', path: '/rest/v1/messages', token: 'not.a.jwt.at.all' },
    {
      name: 'forged token on insert',
      method: 'POST',
      path: '/rest/v1/messages',
      token: signJwt({ role: 'service_role' }, 'x'.repeat(40)),
      body: message({}),
    },
    { ...upload('forged token on upload', `${a.id}/2026-11/${randomUUID()}.jpg`), token: signJwt({ ...userClaims }, 'y'.repeat(40)) },
    {
      name: 'token naming a role that does not exist',
      path: '/rest/v1/messages',
      token: signJwt({ ...userClaims, role: 'postgres_evil' }, 'z'.repeat(40)),
    },
    // SQL metacharacters and unicode tricks
    { name: 'statement in select', path: '/rest/v1/messages?select=id;drop%20table%20messages' },
    { name: 'statement in a filter value', path: '/rest/v1/messages?id=eq.1;delete%20from%20messages' },
    { name: 'statement in order', path: '/rest/v1/messages?order=id;drop%20table%20messages' },
    { name: 'quote break-out in a column name', path: '/rest/v1/messages?select=%22id%22%22;drop%20table%20messages;--' },
    { name: 'unbalanced or=()', path: '/rest/v1/messages?or=(id.eq.1)),(drop' },
    { name: 'comment injection in in.()', path: '/rest/v1/messages?id=in.(1,2))%20or%201=1--' },
    { name: 'fullwidth column name', path: `/rest/v1/messages?select=${encodeURIComponent('ｉｄ')}` },
    { name: 'RTL override in a filter column', path: `/rest/v1/messages?${encodeURIComponent('\u202eid')}=eq.1` },
    { name: 'unknown operator', path: '/rest/v1/messages?id=sleep.10' },
    { name: 'NUL byte in a select alias', path: '/rest/v1/messages?select=a%00b:id' },
    { name: 'quote in a table name', path: "/rest/v1/messages'%3B--" },
    { name: 'SQL in a JSON key', method: 'POST', path: '/rest/v1/messages', body: { ...message({}), 'body"); drop table messages;--': 1 } },
    { name: 'private function through rpc', method: 'POST', path: '/rest/v1/rpc/check_message', body: {} },
    { name: 'built-in function through rpc', method: 'POST', path: '/rest/v1/rpc/pg_sleep', body: { seconds: 5 } },
    // Sizes and shapes
    {
      name: 'a 2 MB body',
      method: 'POST',
      path: '/rest/v1/messages',
      body: Buffer.from(JSON.stringify(message({ body: 'x'.repeat(2 * 1024 * 1024) }))),
    },
    { name: 'a 64 KB header', path: '/rest/v1/messages', headers: { 'x-padding': 'p'.repeat(64 * 1024) } },
    {
      name: 'text/plain body',
      method: 'POST',
      path: '/rest/v1/messages',
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from('hello'),
    },
    { name: 'nested arrays instead of objects', method: 'POST', path: '/rest/v1/messages', body: [[1, 2], [3]] },
    { name: 'a JSON string instead of an object', method: 'POST', path: '/rest/v1/messages', body: Buffer.from('"just a string"') },
    {
      name: 'invalid UTF-8',
      method: 'POST',
      path: '/rest/v1/messages',
      body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    },
    { name: 'truncated JSON', method: 'POST', path: '/rest/v1/messages', body: Buffer.from('{"room_id": 1, "body": "hi"') },
    // Rows that break the rules
    insert('empty name', message({ username: '' })),
    insert('25-character name', message({ username: '侠'.repeat(25) })),
    insert('10,000-character name', message({ username: '侠'.repeat(10000) })),
    insert('zero-width name', message({ username: '\u200b\u200b' })),
    insert('RTL-override name', message({ username: '\u202e香留楚' })),
    insert('colour #fff', message({ avatar_color: '#fff' })),
    insert('colour red', message({ avatar_color: 'red' })),
    insert('colour #GGGGGG', message({ avatar_color: '#GGGGGG' })),
    insert('2,001-character text', message({ body: 'a'.repeat(2001) })),
    insert(
      'image row without an upload',
      message({ kind: 'image', body: null, image_path: imagePath(a.id), image_width: 10, image_height: 10 }),
    ),
    insert(
      "image row in B's folder",
      message({ kind: 'image', body: null, image_path: imagePath(b.id), image_width: 10, image_height: 10 }),
    ),
    insert('posting as B', message({ user_id: b.id })),
    insert('posting with the anon key only', message({}), null),
    // Auth: values Postgres cannot take (U+0000, a uuid that is none), nesting JSON.stringify cannot
    {
      name: 'refresh token with U+0000',
      method: 'POST',
      path: '/auth/v1/token?grant_type=refresh_token',
      token: null,
      body: { refresh_token: 'abcdefghijk\u0000' },
    },
    {
      name: 'one-time token hash with U+0000',
      method: 'POST',
      path: '/auth/v1/verify',
      token: null,
      body: { type: 'magiclink', token_hash: 'a\u0000b' },
    },
    { name: 'user metadata with U+0000', method: 'PUT', path: '/auth/v1/user', body: { data: { x: 'a\u0000b' } } },
    { name: 'user metadata key with U+0000', method: 'PUT', path: '/auth/v1/user', body: { data: { 'a\u0000b': 1 } } },
    {
      name: 'user metadata nested 5,000 levels',
      method: 'PUT',
      path: '/auth/v1/user',
      headers: { 'content-type': 'application/json' },
      body: `{"data":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
    },
    {
      name: 'admin: new user e-mail with U+0000',
      method: 'POST',
      path: '/auth/v1/admin/users',
      token: server.serviceRoleKey,
      body: { email: 'a\u0000b@x.io' },
    },
    { name: 'admin: user id of 36 dashes', path: `/auth/v1/admin/users/${'-'.repeat(36)}`, token: server.serviceRoleKey },
    {
      name: 'session_id claim that is no uuid',
      path: '/auth/v1/user',
      token: signJwt({ ...userClaims, session_id: 'nope' }, server.jwtSecret),
    },
    { name: 'sub claim of 36 dashes', path: '/auth/v1/user', token: signJwt({ ...userClaims, sub: '-'.repeat(36) }, server.jwtSecret) },
    // Storage keys and types
    upload('.. in the key', `${a.id}/../${b.id}/x.jpg`),
    upload('%2e%2e in the key', `${a.id}/%2e%2e/%2e%2e/etc/x.jpg`),
    upload('absolute path', '/etc/passwd'),
    upload('NUL byte in the key', `${a.id}/x%00.jpg`),
    upload('control character in the key', `${a.id}/x%0a.jpg`),
    upload('declared type the bucket refuses', `${a.id}/2026-11/${randomUUID()}.html`, { 'content-type': 'text/html' }),
    upload("upload into B's folder", `${b.id}/2026-11/${randomUUID()}.jpg`),
    upload('6 MB upload', `${a.id}/2026-11/${randomUUID()}.jpg`, {}, Buffer.alloc(6 * 1024 * 1024)),
    {
      name: 'upload to a missing bucket',
      method: 'POST',
      path: `/storage/v1/object/nope/${a.id}/x.jpg`,
      headers: { 'content-type': 'image/jpeg' },
      body: Buffer.from('x'),
    },
  ];
}

async function send(h: Hostile) {
  const token = h.token === undefined ? a.session.access_token : h.token;
  const headers: Record<string, string> = { apikey: server.anonKey, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  let body: Uint8Array | string | undefined;
  if (Buffer.isBuffer(h.body) || typeof h.body === 'string') body = h.body;
  else if (h.body !== undefined) {
    body = JSON.stringify(h.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, h.headers);
  const res = await fetch(server.url + h.path, { method: h.method ?? 'GET', headers, body: body as BodyInit | undefined });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

test('every hostile request is refused with a 4xx JSON error and changes nothing', async () => {
  const requests = corpus();
  expect(requests.length).toBeGreaterThanOrEqual(40);
  const dbBefore = await databaseFingerprint(server.dbUrl);
  const filesBefore = directoryFingerprint(server.storageDir);

  const accepted: string[] = [];
  for (const h of requests) {
    const { status, json, text } = await send(h);
    const ok = status >= 400 && status < 500 && typeof json === 'object' && json !== null;
    if (!ok) accepted.push(`${h.name}: ${status} ${text.slice(0, 200)}`);
  }
  expect(accepted).toEqual([]);

  expect(await databaseFingerprint(server.dbUrl)).toEqual(dbBefore);
  expect(directoryFingerprint(server.storageDir)).toBe(filesBefore);

  // And the server still serves an ordinary request.
  const { error, data } = await a.sb.from('rooms').select('slug').eq('slug', 'lobby');
  expect(error).toBeNull();
  expect(data).toEqual([{ slug: 'lobby' }]);
  const sent = await a.sb
    .from('messages')
    .insert({ room_id: 1, username: '楚留香', avatar_color: '#e4572e', kind: 'text', body: '还在', client_id: randomUUID() });
  expect(sent.error).toBeNull();
});
