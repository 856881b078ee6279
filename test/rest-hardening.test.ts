// An attacker's corpus against /rest/v1, several cases per class. A JWT has one spelling, as
// GoTrue's and PostgREST's parsers read it (unpadded base64url, three segments, canonical); no
// request makes the server answer 500 through recursion in a parser, ours or Postgres's.
import { createHmac } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { signJwt } from '../local-supabase/src/jwt';
import { clientWithToken, createConformance, token } from './support/rest-fixture';
import { client, startTestServer, type TestServer } from './support/server';

let server: TestServer;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startTestServer();
  await createConformance(server, `insert into public.conformance (id, name) values (1, 'one'), (2, 'two');`);
  sb = client(server, { key: server.serviceRoleKey });
});

afterAll(async () => {
  await server?.stop();
});

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A valid service_role token whose signature holds both '-' and '_', so every respelling applies. */
function validToken(): string {
  for (let i = 0; ; i++) {
    const jwt = token(server, { role: 'service_role', n: i });
    const sig = jwt.split('.')[2];
    if (sig.includes('-') && sig.includes('_') && (B64URL.indexOf(sig.at(-1)!) & 3) === 0) return jwt;
  }
}

/** The same token with its signature segment rewritten. */
function respell(jwt: string, rewrite: (sig: string) => string): string {
  const [head, body, sig] = jwt.split('.');
  return `${head}.${body}.${rewrite(sig)}`;
}

/** [class, case, token from a valid one] — each decodes, in a lenient decoder, to the same bytes. */
const RESPELLINGS: Array<[string, string, (jwt: string) => string]> = [
  ['padding', 'one =', (t) => respell(t, (s) => `${s}=`)],
  ['padding', 'two ==', (t) => respell(t, (s) => `${s}==`)],
  ['alphabet', "standard base64's + and /", (t) => respell(t, (s) => s.replaceAll('-', '+').replaceAll('_', '/'))],
  ['alphabet', 'a + only', (t) => respell(t, (s) => s.replace('-', '+'))],
  ['alphabet', 'a / only', (t) => respell(t, (s) => s.replace('_', '/'))],
  ['junk', 'a * inside', (t) => respell(t, (s) => `${s.slice(0, 5)}*${s.slice(5)}`)],
  ['junk', 'a space inside', (t) => respell(t, (s) => `${s.slice(0, 5)} ${s.slice(5)}`)],
  ['junk', 'a trailing !', (t) => respell(t, (s) => `${s}!`)],
  ['trailing bits', 'low bit set', (t) => respell(t, (s) => s.slice(0, -1) + B64URL[B64URL.indexOf(s.at(-1)!) | 1])],
  ['trailing bits', 'second bit set', (t) => respell(t, (s) => s.slice(0, -1) + B64URL[B64URL.indexOf(s.at(-1)!) | 2])],
  ['trailing bits', 'both set', (t) => respell(t, (s) => s.slice(0, -1) + B64URL[B64URL.indexOf(s.at(-1)!) | 3])],
];

describe('a JWT has one spelling', () => {
  test('the canonical token works', async () => {
    const res = await clientWithToken(server, validToken()).from('conformance').select('id').order('id');
    expect([res.status, res.data]).toEqual([200, [{ id: 1 }, { id: 2 }]]);
  });

  test.each(RESPELLINGS)('%s: %s is 401 PGRST301', async (_, __, respelled) => {
    const valid = validToken();
    const jwt = respelled(valid);
    expect(jwt).not.toBe(valid);
    // A lenient decoder (Node's) reads the same signature bytes: only the spelling differs.
    expect(Buffer.from(jwt.split('.')[2], 'base64url').equals(Buffer.from(valid.split('.')[2], 'base64url'))).toBe(true);
    const res = await clientWithToken(server, jwt).from('conformance').select('id');
    expect([res.status, res.error]).toEqual([
      401,
      { code: 'PGRST301', details: null, hint: null, message: 'JWT cryptographic operation failed' },
    ]);
  });

  test.each([
    ['= inside', (s: string) => `${s.slice(0, 8)}=${s.slice(8)}`],
    ['one extra character', (s: string) => `${s}A`],
    ['one character less', (s: string) => s.slice(0, -1)],
  ])('a signature with %s is 401 PGRST301', async (_, rewrite) => {
    const res = await clientWithToken(server, respell(validToken(), rewrite)).from('conformance').select('id');
    expect([res.status, res.error?.code]).toEqual([401, 'PGRST301']);
  });

  test.each<[string, string, string]>([
    ['two segments', 'abc.def', 'Expected 3 parts in JWT; got 2'],
    ['four segments', 'a.b.c.d', 'Expected 3 parts in JWT; got 4'],
    ['a trailing dot', '', 'Expected 3 parts in JWT; got 4'],
    ['one segment', 'abcdef', 'Expected 3 parts in JWT; got 1'],
  ])('%s is 401 PGRST301', async (_, jwt, message) => {
    const res = await clientWithToken(server, jwt || `${validToken()}.`)
      .from('conformance')
      .select('id');
    expect([res.status, res.error?.code, res.error?.message]).toEqual([401, 'PGRST301', message]);
  });

  test('"Bearer" with no token is 401 (an empty JWT), not anon', async () => {
    for (const authorization of ['Bearer', 'Bearer ', 'bearer   ']) {
      const res = await fetch(`${server.url}/rest/v1/conformance?select=id`, { headers: { apikey: server.anonKey, authorization } });
      expect([authorization, res.status, await res.json()]).toEqual([
        authorization,
        401,
        { code: 'PGRST301', details: null, hint: null, message: 'Empty JWT is sent in Authorization header' },
      ]);
    }
  });

  test('a header or payload respelled no longer matches its signature', async () => {
    const [head, body, sig] = validToken().split('.');
    for (const jwt of [`${head}=.${body}.${sig}`, `${head}.${body}=.${sig}`, `${head}.${body.replaceAll('-', '+')}x.${sig}`]) {
      const res = await clientWithToken(server, jwt).from('conformance').select('id');
      expect([res.status, res.error?.code]).toEqual([401, 'PGRST301']);
    }
  });
});

describe('claims are checked as PostgREST checks them', () => {
  const now = () => Math.floor(Date.now() / 1000);

  test.each<[string, Record<string, unknown>, string]>([
    ['exp as a string', { exp: String(now() + 600) }, "The JWT 'exp' claim must be a number"],
    ['exp as an object', { exp: { at: now() + 600 } }, "The JWT 'exp' claim must be a number"],
    ['nbf as a boolean', { nbf: true }, "The JWT 'nbf' claim must be a number"],
    ['iat as a string', { iat: 'now' }, "The JWT 'iat' claim must be a number"],
    ['exp not a whole number (counts as 0)', { exp: now() + 600.5 }, 'JWT expired'],
    ['aud as a number', { aud: 7 }, "The JWT 'aud' claim must be a string or an array of strings"],
    ['aud as an array with a number', { aud: ['a', 1] }, "The JWT 'aud' claim must be a string or an array of strings"],
  ])('%s is 401 PGRST303', async (_, claims, message) => {
    const jwt = signJwt({ role: 'authenticated', ...claims }, server.jwtSecret);
    const res = await clientWithToken(server, jwt).from('conformance').select('id');
    expect([res.status, res.error?.code, res.error?.message]).toEqual([401, 'PGRST303', message]);
  });

  test('claims that are not a JSON object are 401 PGRST303 "Parsing claims failed"', async () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const payload of ['[]', '"role"', '42', 'null', '{"role":']) {
      const head = b64('{"alg":"HS256","typ":"JWT"}');
      const body = b64(payload);
      const sig = createHmac('sha256', server.jwtSecret).update(`${head}.${body}`).digest('base64url');
      const res = await clientWithToken(server, `${head}.${body}.${sig}`).from('conformance').select('id');
      expect([payload, res.status, res.error?.code, res.error?.message]).toEqual([payload, 401, 'PGRST303', 'Parsing claims failed']);
    }
  });

  test('null times and a string or string-array aud are accepted', async () => {
    const accepted: Array<Record<string, unknown>> = [{ exp: null, nbf: null }, { aud: 'authenticated' }, { aud: ['a', 'b'] }, { aud: [] }];
    for (const claims of accepted) {
      const res = await clientWithToken(server, signJwt({ role: 'service_role', ...claims }, server.jwtSecret))
        .from('conformance')
        .select('id')
        .eq('id', 1);
      expect([claims, res.status, res.data]).toEqual([claims, 200, [{ id: 1 }]]);
    }
  });
});

describe('no recursion answers 500', () => {
  function rest(path: string, init: RequestInit = {}) {
    return fetch(`${server.url}/rest/v1${path}`, {
      ...init,
      headers: { apikey: server.serviceRoleKey, authorization: `Bearer ${server.serviceRoleKey}`, 'content-type': 'application/json' },
    });
  }
  const nest = (depth: number, joiner: (level: number) => string, leaf = 'id.eq.1') => {
    let tree = leaf;
    for (let level = 2; level <= depth; level++) tree = `${joiner(level)}(${tree})`;
    return `(${tree})`;
  };

  test.each<[string, string]>([
    ['or/and alternating, 65 deep', `or=${nest(65, (l) => (l % 2 ? 'or' : 'and'))}`],
    ['or/and alternating, 2000 deep', `or=${nest(2000, (l) => (l % 2 ? 'or' : 'and'))}`],
    ['the same joiner, 3000 deep', `or=${nest(3000, () => 'or')}`],
    ['negated groups, 1500 deep', `and=${nest(1500, () => 'not.and')}`],
    ['under not.or=, 500 deep', `not.or=${nest(500, () => 'or')}`],
  ])('a logic tree nested too deep (%s) is 400 PGRST100', async (_, param) => {
    const res = await rest(`/conformance?select=id&${param}`);
    expect([res.status, (await res.json()).code]).toEqual([400, 'PGRST100']);
  });

  test('a logic tree at the depth limit gets the right answer', async () => {
    const res = await rest(`/conformance?select=id&or=${nest(64, (l) => (l % 2 ? 'not.and' : 'or'), 'id.eq.2')}`);
    // 64 levels, 31 of them negations of the innermost `id = 2`: the rows where id <> 2.
    expect([res.status, await res.json()]).toEqual([200, [{ id: 1 }]]);
  });

  test.each<[string, string]>([
    ['embedded resources, 2000 deep', `${'a('.repeat(2000)}id${')'.repeat(2000)}`],
    ['bare parentheses, 3000 deep', `${'('.repeat(3000)}id${')'.repeat(3000)}`],
    ['unbalanced, 4000 open', '('.repeat(4000)],
  ])('a select tree (%s) is 400 PGRST100', async (_, select) => {
    const res = await rest(`/conformance?select=${encodeURIComponent(select)}`);
    expect([res.status, (await res.json()).code]).toEqual([400, 'PGRST100']);
  });

  const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  test.each<[string, string, string]>([
    ['an insert, arrays 100,000 deep', '/conformance', `{"name":"deep","data":${deepArray(100000)}}`],
    ['an insert, objects 20,000 deep', '/conformance', `{"name":"deep","data":${deepObject(20000)}}`],
    ['an insert, just past the limit', '/conformance', `{"name":"deep","data":${deepArray(10000)}}`],
    ['a function argument', '/rpc/echo_body', `{"v":${deepArray(200000)}}`],
    ['an array of rows', '/conformance', `[{"name":"deep","data":${deepArray(50000)}}]`],
  ])('a JSON body nested too deep (%s) is 400 PGRST102', async (_, path, body) => {
    const res = await rest(path, { method: 'POST', body });
    expect([res.status, await res.json()]).toEqual([
      400,
      { code: 'PGRST102', details: null, hint: null, message: 'JSON nests deeper than 10000 levels' },
    ]);
  });

  test('an update body nested too deep is 400 PGRST102 and changes nothing', async () => {
    const res = await rest('/conformance?id=eq.1', { method: 'PATCH', body: `{"data":${deepArray(60000)}}` });
    expect([res.status, (await res.json()).code]).toEqual([400, 'PGRST102']);
    expect((await sb.from('conformance').select('data').eq('id', 1)).data).toEqual([{ data: null }]);
  });

  test('JSON nested exactly to the limit is stored and read back whole', async () => {
    const data = deepArray(9999);
    const res = await rest('/conformance?select=id', { method: 'POST', body: `{"id":3,"name":"deep","data":${data}}` });
    expect(res.status).toBe(201);
    const stored = await rest('/conformance?select=data&id=eq.3');
    expect(await stored.text()).toBe(`[{"data":${data}}]`);
  });

  test('brackets inside strings do not count as nesting', async () => {
    const res = await rest('/conformance', {
      method: 'POST',
      body: JSON.stringify({ id: 4, name: '['.repeat(20000), note: '{\\"['.repeat(5000) }),
    });
    expect(res.status).toBe(201);
    expect((await sb.from('conformance').select('name').eq('id', 4)).data).toEqual([{ name: '['.repeat(20000) }]);
  });
});
