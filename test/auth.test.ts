// /auth/v1 with the official client: anonymous sign-up, the JWT Supabase issues, refresh with
// rotation and reuse detection, GET /user, logout scopes, and GoTrue-style errors.
import { decodeJwt, signJwt } from '../local-supabase/src/jwt';
import { anonymousUser, client, startTestServer, type TestServer } from './support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { auth: { refreshTokenReuseInterval: 0, anonymousSignIns: true } } });
});
afterAll(() => server.stop());

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/auth/v1${path}`, {
    method: 'POST',
    headers: { apikey: server.anonKey, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

test('anonymous sign-up returns a session whose JWT carries the claims Supabase issues', async () => {
  const sb = client(server);
  const { data, error } = await sb.auth.signInAnonymously({ options: { data: { nick: '楚留香' } } });
  expect(error).toBeNull();
  const { session, user } = data;
  expect(user).toMatchObject({ aud: 'authenticated', role: 'authenticated', is_anonymous: true, user_metadata: { nick: '楚留香' } });
  expect(session!.refresh_token).toMatch(/^[A-Za-z0-9]{12}$/);
  expect(session!.expires_in).toBe(3600);
  const claims = decodeJwt(session!.access_token, server.jwtSecret);
  expect(claims).toMatchObject({
    sub: user!.id,
    role: 'authenticated',
    aud: 'authenticated',
    is_anonymous: true,
    aal: 'aal1',
    user_metadata: { nick: '楚留香' },
  });
  expect(claims.exp! - (claims.iat as number)).toBe(3600);
  expect(typeof claims.session_id).toBe('string');
  const [header] = session!.access_token.split('.');
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
});

test("a token's times are judged as GoTrue judges them: no skew allowance, iat unchecked", async () => {
  const a = await anonymousUser(server);
  const claims = decodeJwt(a.session.access_token, server.jwtSecret);
  const now = Math.floor(Date.now() / 1000);
  const getUser = async (changes: Record<string, unknown>) => {
    const token = signJwt({ ...claims, ...changes }, server.jwtSecret);
    const res = await fetch(`${server.url}/auth/v1/user`, { headers: { apikey: server.anonKey, authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { code?: string; msg?: string; message?: string };
    return res.status === 200 ? 200 : [res.status, body.code, body.message];
  };
  expect(await getUser({ exp: now - 10 })).toEqual([
    403,
    'bad_jwt',
    'invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired',
  ]);
  expect(await getUser({ nbf: now + 60 })).toEqual([
    403,
    'bad_jwt',
    'invalid JWT: unable to parse or verify signature, token has invalid claims: token is not valid yet',
  ]);
  expect(await getUser({ iat: now + 120 })).toBe(200);
  expect(await getUser({ exp: now + 600.5 })).toBe(200);
});

test("a token's sub and session_id are read as GoTrue reads them", async () => {
  const a = await anonymousUser(server);
  const claims = decodeJwt(a.session.access_token, server.jwtSecret);
  const getUser = async (changes: Record<string, unknown>) => {
    const token = signJwt({ ...claims, ...changes }, server.jwtSecret);
    const res = await fetch(`${server.url}/auth/v1/user`, { headers: { apikey: server.anonKey, authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { code?: string; message?: string };
    return res.status === 200 ? 200 : [res.status, body.code, body.message];
  };
  expect(await getUser({ sub: undefined })).toEqual([403, 'bad_jwt', 'invalid claim: missing sub claim']);
  expect(await getUser({ sub: '-'.repeat(36) })).toEqual([400, 'bad_jwt', 'invalid claim: sub claim must be a UUID']);
  // No session is a token without one: "", null and the nil UUID alike.
  for (const session_id of ['', null, '00000000-0000-0000-0000-000000000000']) expect(await getUser({ session_id })).toBe(200);
  expect(await getUser({ session_id: 'nope' })).toEqual([403, 'bad_jwt', 'invalid claim: session_id claim must be a UUID']);
  expect(await getUser({ session_id: '0a0a0a0a-0000-4000-8000-000000000000' })).toEqual([
    403,
    'session_not_found',
    'Session from session_id claim in JWT does not exist',
  ]);
});

test('getUser returns the user for its token; a tampered token is rejected with bad_jwt', async () => {
  const a = await anonymousUser(server);
  const { data, error } = await a.sb.auth.getUser();
  expect(error).toBeNull();
  expect(data.user!.id).toBe(a.id);

  const tampered = a.session.access_token.slice(0, -2) + (a.session.access_token.endsWith('A') ? 'BB' : 'AA');
  const res = await fetch(`${server.url}/auth/v1/user`, {
    headers: { apikey: server.anonKey, authorization: `Bearer ${tampered}` },
  });
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ code: 'bad_jwt' });

  const none = await fetch(`${server.url}/auth/v1/user`, { headers: { apikey: server.anonKey } });
  expect(none.status).toBe(401);
  expect(await none.json()).toMatchObject({ code: 'no_authorization' });
});

test('refresh rotates the token; the rotated parent returns the active token; older reuse kills the session', async () => {
  const a = await anonymousUser(server);
  const first = a.session.refresh_token;
  const r1 = await post('/token?grant_type=refresh_token', { refresh_token: first });
  expect(r1.status).toBe(200);
  const second = r1.body.refresh_token as string;
  expect(second).not.toBe(first);
  expect(r1.body.user.id).toBe(a.id);

  // A lost response: presenting the parent of the active token yields the active one, unrotated.
  const again = await post('/token?grant_type=refresh_token', { refresh_token: first });
  expect(again.status).toBe(200);
  expect(again.body.refresh_token).toBe(second);

  const r2 = await post('/token?grant_type=refresh_token', { refresh_token: second });
  const third = r2.body.refresh_token as string;
  expect(third).not.toBe(second);

  // `first` is now two generations old: reuse means theft, so the whole session dies.
  const reused = await post('/token?grant_type=refresh_token', { refresh_token: first });
  expect(reused.status).toBe(400);
  expect(reused.body).toEqual({ code: 'refresh_token_already_used', message: 'Invalid Refresh Token: Already Used' });
  expect(reused.headers.get('x-supabase-api-version')).toBe('2024-01-01');
  const afterTheft = await post('/token?grant_type=refresh_token', { refresh_token: third });
  expect(afterTheft.status).toBe(400);
  expect(afterTheft.body.code).toBe('refresh_token_already_used');
});

test('the official client refreshes its session and keeps the same user', async () => {
  const a = await anonymousUser(server);
  const { data, error } = await a.sb.auth.refreshSession();
  expect(error).toBeNull();
  expect(data.session!.refresh_token).not.toBe(a.session.refresh_token);
  expect(data.user!.id).toBe(a.id);
});

test('unknown refresh tokens, missing tokens and unknown grants are GoTrue errors', async () => {
  expect(await post('/token?grant_type=refresh_token', { refresh_token: 'abcdefghijkl' })).toMatchObject({
    status: 400,
    body: { code: 'refresh_token_not_found', message: 'Invalid Refresh Token: Refresh Token Not Found' },
  });
  expect((await post('/token?grant_type=refresh_token', {})).status).toBe(400);
  expect((await post('/token?grant_type=password', { email: 'a@b.c', password: 'x' })).body.code).toBe('unsupported_grant_type');
  expect((await post('/signup', '{not json')).body.code).toBe('bad_json');
  expect((await post('/signup', { email: 'a@b.c', password: 'secret123' })).status).toBe(422);
});

test('logout ends the session: the refresh token and getUser stop working', async () => {
  const a = await anonymousUser(server);
  const { error } = await a.sb.auth.signOut();
  expect(error).toBeNull();
  const refreshed = await post('/token?grant_type=refresh_token', { refresh_token: a.session.refresh_token });
  expect(refreshed.status).toBe(400);
  expect(refreshed.body.code).toBe('refresh_token_not_found');
  const res = await fetch(`${server.url}/auth/v1/user`, {
    headers: { apikey: server.anonKey, authorization: `Bearer ${a.session.access_token}` },
  });
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ code: 'session_not_found' });
});

test('logout scope=others keeps the current session only', async () => {
  const a = await anonymousUser(server);
  // A second session of the same user, as a second device would hold after a refresh chain.
  const other = await post('/token?grant_type=refresh_token', { refresh_token: a.session.refresh_token });
  expect(other.status).toBe(200);
  const res = await fetch(`${server.url}/auth/v1/logout?scope=others`, {
    method: 'POST',
    headers: { apikey: server.anonKey, authorization: `Bearer ${other.body.access_token}` },
  });
  expect(res.status).toBe(204);
  const still = await fetch(`${server.url}/auth/v1/user`, {
    headers: { apikey: server.anonKey, authorization: `Bearer ${other.body.access_token}` },
  });
  expect(still.status).toBe(200);
});

test('the gateway requires a known apikey on auth, rest and realtime routes and answers preflight', async () => {
  const missing = await fetch(`${server.url}/auth/v1/user`);
  expect(missing.status).toBe(401);
  expect(await missing.json()).toEqual({ message: 'No API key found in request' });
  const wrong = await fetch(`${server.url}/rest/v1/rooms`, { headers: { apikey: 'nope' } });
  expect(wrong.status).toBe(401);
  expect(await wrong.json()).toEqual({ message: 'Invalid authentication credentials' });
  const preflight = await fetch(`${server.url}/rest/v1/messages`, {
    method: 'OPTIONS',
    headers: { 'access-control-request-headers': 'apikey, authorization, prefer' },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  expect(preflight.headers.get('access-control-allow-headers')).toBe('apikey, authorization, prefer');
  const unknown = await fetch(`${server.url}/nothing/here`);
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toHaveProperty('message');
});

describe('with a 1 s reuse interval', () => {
  let slow: TestServer;
  beforeAll(async () => {
    slow = await startTestServer({ config: { auth: { refreshTokenReuseInterval: 1, anonymousSignIns: true } } });
  });
  afterAll(() => slow.stop());

  test('a stolen token stays dead however often it is replayed', async () => {
    const refresh = async (token: string) => {
      const res = await fetch(`${slow.url}/auth/v1/token?grant_type=refresh_token`, {
        method: 'POST',
        headers: { apikey: slow.anonKey, 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      });
      return { status: res.status, body: await res.json() };
    };
    const a = await anonymousUser(slow);
    const first = a.session.refresh_token;
    const second = (await refresh(first)).body.refresh_token as string;
    expect((await refresh(second)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await refresh(first)).body.code).toBe('refresh_token_already_used');
    // Detection must not reopen the reuse window of the tokens it revoked.
    for (const token of [first, second]) expect((await refresh(token)).body.code).toBe('refresh_token_already_used');
  });
});

describe('the admin API and one-time tokens (what the wechat-login function calls)', () => {
  const admin = () => client(server, { key: server.serviceRoleKey });
  const email = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@wechat.invalid`;

  test('only an admin role may call it: no token 401, a user or anon token 403 not_admin', async () => {
    const body = { email: email('x'), email_confirm: true };
    expect((await post('/admin/users', body)).status).toBe(401);
    expect(await post('/admin/users', body, { authorization: `Bearer ${server.anonKey}` })).toMatchObject({
      status: 403,
      body: { code: 'not_admin' },
    });
    const { session } = await anonymousUser(server);
    expect((await post('/admin/users', body, { authorization: `Bearer ${session.access_token}` })).status).toBe(403);
  });

  test('createUser: a confirmed user with its app_metadata and an email identity; the address once only', async () => {
    const address = email('create');
    const { data, error } = await admin().auth.admin.createUser({ email: address, email_confirm: true, app_metadata: { openid: 'o-1' } });
    expect(error).toBeNull();
    expect(data.user).toMatchObject({
      email: address,
      app_metadata: { provider: 'email', providers: ['email'], openid: 'o-1' },
      user_metadata: {},
      identities: [expect.objectContaining({ provider: 'email', id: data.user!.id })],
      is_anonymous: false,
    });
    expect(data.user!.email_confirmed_at).toEqual(expect.any(String));
    const { data: fetched } = await admin().auth.admin.getUserById(data.user!.id);
    expect(fetched.user!.email).toBe(address);
    // Sequential and concurrent second creations of the address: email_exists, never a second user.
    expect((await admin().auth.admin.createUser({ email: address.toUpperCase() })).error).toMatchObject({
      status: 422,
      code: 'email_exists',
    });
    const racing = email('race');
    const results = await Promise.all([0, 1, 2].map(() => admin().auth.admin.createUser({ email: racing })));
    expect(results.filter((r) => r.error === null)).toHaveLength(1);
    expect(results.filter((r) => r.error?.code === 'email_exists')).toHaveLength(2);
  });

  test.each([
    [{}, 'Cannot create a user without either an email or phone'],
    [{ email: 'not-an-address' }, 'Unable to validate email address: invalid format'],
    [{ email: 'a@b.cn', id: 'nope' }, 'ID must conform to the uuid v4 format'],
    [{ email: 'a@b.cn', app_metadata: [1] }, 'app_metadata must be a JSON object'],
  ])('createUser %j is 400 validation_failed', async (body, message) => {
    expect(await post('/admin/users', body, { authorization: `Bearer ${server.serviceRoleKey}` })).toMatchObject({
      status: 400,
      body: { code: 'validation_failed', message },
    });
  });

  test('a magic link of a known user verifies once into a session; an unknown address becomes a sign-up', async () => {
    const address = email('link');
    const created = await admin().auth.admin.createUser({ email: address, email_confirm: true });
    const link = await admin().auth.admin.generateLink({ type: 'magiclink', email: address });
    expect(link.error).toBeNull();
    expect(link.data.properties).toMatchObject({ verification_type: 'magiclink', hashed_token: expect.stringMatching(/^[0-9a-f]{56}$/) });
    const sb = client(server);
    const verified = await sb.auth.verifyOtp({ token_hash: link.data.properties!.hashed_token, type: 'magiclink' });
    expect(verified.error).toBeNull();
    expect(verified.data.user!.id).toBe(created.data.user!.id);
    expect(decodeJwt(verified.data.session!.access_token, server.jwtSecret).amr).toEqual([
      { method: 'otp', timestamp: expect.any(Number) },
    ]);
    const reused = await client(server).auth.verifyOtp({ token_hash: link.data.properties!.hashed_token, type: 'magiclink' });
    expect(reused.error).toMatchObject({ status: 403, code: 'otp_expired' });

    const fresh = await admin().auth.admin.generateLink({ type: 'magiclink', email: email('new') });
    expect(fresh.data.properties!.verification_type).toBe('signup');
    expect((await admin().auth.admin.generateLink({ type: 'recovery', email: email('nobody') })).error).toMatchObject({ status: 404 });
  });

  test('a magic link opened in a browser, with no key, redirects with the session in the fragment, once', async () => {
    const address = email('browser');
    const created = await admin().auth.admin.createUser({ email: address, email_confirm: true });
    const link = await admin().auth.admin.generateLink({
      type: 'magiclink',
      email: address,
      options: { redirectTo: 'https://app.example/welcome' },
    });
    const open = () => fetch(link.data.properties!.action_link, { redirect: 'manual' });
    const first = await open();
    expect(first.status).toBe(303);
    const [target, fragment] = first.headers.get('location')!.split('#');
    expect(target).toBe('https://app.example/welcome');
    const session = Object.fromEntries(new URLSearchParams(fragment));
    expect(session).toMatchObject({ type: 'magiclink', token_type: 'bearer', expires_in: '3600', sb: '' });
    expect(decodeJwt(session.access_token, server.jwtSecret).sub).toBe(created.data.user!.id);
    // The session works: its refresh token is a live one.
    expect((await client(server).auth.refreshSession({ refresh_token: session.refresh_token })).error).toBeNull();
    const again = await open();
    expect([again.status, Object.fromEntries(new URLSearchParams(again.headers.get('location')!.split('#')[1]))]).toEqual([
      303,
      { error: 'access_denied', error_code: 'otp_expired', error_description: 'Email link is invalid or has expired', sb: '' },
    ]);
    // The public keys need no key either, as behind Supabase's gateway.
    const jwks = await fetch(`${server.url}/auth/v1/.well-known/jwks.json`);
    expect([jwks.status, await jwks.json()]).toEqual([200, { keys: [] }]);
  });

  test('verify refuses a token hash mixed with an email, and unsupported types', async () => {
    expect(await post('/verify', { token_hash: 'ab', type: 'magiclink', email: 'a@b.cn' })).toMatchObject({
      status: 400,
      body: { code: 'validation_failed', message: 'Only the token_hash and type should be provided' },
    });
    expect((await post('/verify', { token_hash: 'ab', type: 'sms' })).body).toMatchObject({ code: 'validation_failed' });
  });
});

describe('switches and limits from config.toml', () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer({ config: { auth: { otpExpiry: 1, rateLimits: { tokenRefresh: 30 } } } });
  });
  afterAll(() => strict.stop());

  const strictPost = (path: string, body: unknown) =>
    fetch(`${strict.url}/auth/v1${path}`, {
      method: 'POST',
      headers: { apikey: strict.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: await res.json() }));

  test('anonymous sign-ins are off unless enabled, as in the project config', async () => {
    expect(await strictPost('/signup', {})).toMatchObject({ status: 422, body: { code: 'anonymous_provider_disabled' } });
    const settings = await (await fetch(`${strict.url}/auth/v1/settings`, { headers: { apikey: strict.anonKey } })).json();
    expect(settings.external.anonymous_users).toBe(false);
  });

  test('a one-time token expires after otp_expiry', async () => {
    const address = `late-${crypto.randomUUID().slice(0, 8)}@wechat.invalid`;
    const admin = client(strict, { key: strict.serviceRoleKey });
    await admin.auth.admin.createUser({ email: address, email_confirm: true });
    const link = await admin.auth.admin.generateLink({ type: 'magiclink', email: address });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(
      (await client(strict).auth.verifyOtp({ token_hash: link.data.properties!.hashed_token, type: 'magiclink' })).error,
    ).toMatchObject({
      code: 'otp_expired',
    });
  });

  test('token grants from one address are limited: a burst of 30, then 429 over_request_rate_limit', async () => {
    const answers = [];
    for (let i = 0; i < 31; i++) answers.push(await strictPost('/token?grant_type=refresh_token', { refresh_token: `nope-${i}` }));
    expect(answers.slice(0, 30).every((a) => a.status === 400)).toBe(true);
    expect(answers[30]).toEqual({ status: 429, body: { code: 'over_request_rate_limit', message: 'Request rate limit reached' } });
  });
});
