// What /rest/v1 keeps on a pooled connection from one request to the next, and what it must not.
// It keeps prepared statements, one per SQL text: two query shapes never share one, a shape
// answers for whichever role and user runs it, and a schema change re-plans it. It must not keep a
// request's role, JWT claims or uncommitted work: those end with the request's transaction,
// whatever happened in it, also under concurrency. Sequential requests reuse one connection (the
// pool hands out the most recently released); each test checks that it did, by backend pid.
import { randomUUID } from 'node:crypto';
import { createConformance, token } from './support/rest-fixture';
import { changeSchema, startTestServer, type TestServer } from './support/server';

let server: TestServer;
const userA = randomUUID();
const userB = randomUUID();
let tokens: { anon: string; a: string; b: string; service: string };

beforeAll(async () => {
  server = await startTestServer();
  await createConformance(
    server,
    `insert into public.conformance (name, score) values ('one', 10), ('two', 20), ('three', 30);
     insert into public.locked values (1), (2);
     create table public.mine (v text primary key, owner uuid not null default auth.uid());
     alter table public.mine enable row level security;
     create policy "owners read" on public.mine for select to authenticated using (owner = (select auth.uid()));
     insert into public.mine values ('a', '${userA}'), ('b', '${userB}');
     create function public.session_state() returns json language sql volatile as $$
       select json_build_object('pid', pg_backend_pid(), 'role', current_user,
         'sub', nullif(current_setting('request.jwt.claims', true), '')::json ->> 'sub')
     $$;
     create function public.insert_then_fail(p_name text) returns void language plpgsql as $$
       begin insert into public.conformance (name) values (p_name); raise exception 'changed my mind'; end
     $$;`,
  );
  tokens = {
    anon: server.anonKey,
    a: token(server, { sub: userA, role: 'authenticated' }),
    b: token(server, { sub: userB, role: 'authenticated' }),
    service: server.serviceRoleKey,
  };
});

afterAll(async () => {
  await server?.stop();
});

type Caller = keyof typeof tokens;

async function rest(caller: Caller, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${server.url}/rest/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { apikey: server.anonKey, authorization: `Bearer ${tokens[caller]}`, 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

interface SessionState {
  pid: number;
  role: string;
  sub: string | null;
}

async function sessionState(caller: Caller): Promise<SessionState> {
  const { status, body } = await rest(caller, '/rpc/session_state', { method: 'POST', body: {} });
  expect(status).toBe(200);
  return body as SessionState;
}

const IDENTITY: Record<Caller, Omit<SessionState, 'pid'>> = {
  anon: { role: 'anon', sub: null },
  a: { role: 'authenticated', sub: userA },
  b: { role: 'authenticated', sub: userB },
  service: { role: 'service_role', sub: null },
};

/** [path, extra headers, status, body]: shapes that differ only in their SQL text, over rows 1, 2, 3. */
const SHAPES: Array<[string, Record<string, string>, number, unknown]> = [
  ['/conformance?select=id&order=id.asc', {}, 200, [{ id: 1 }, { id: 2 }, { id: 3 }]],
  ['/conformance?select=id&order=id.desc', {}, 200, [{ id: 3 }, { id: 2 }, { id: 1 }]],
  ['/conformance?select=name&order=id.asc', {}, 200, [{ name: 'one' }, { name: 'two' }, { name: 'three' }]],
  ['/conformance?select=id:score&order=id.asc', {}, 200, [{ id: 10 }, { id: 20 }, { id: 30 }]],
  ['/conformance?select=id&order=id.asc&limit=1', {}, 200, [{ id: 1 }]],
  ['/conformance?select=id&order=id.asc&limit=2', {}, 200, [{ id: 1 }, { id: 2 }]],
  ['/conformance?select=id&order=id.asc&offset=2', {}, 200, [{ id: 3 }]],
  ['/conformance?select=id&id=eq.2', {}, 200, [{ id: 2 }]],
  ['/conformance?select=id&id=neq.2&order=id.asc', {}, 200, [{ id: 1 }, { id: 3 }]],
  ['/conformance?select=id&id=gt.2', {}, 200, [{ id: 3 }]],
  ['/conformance?select=id&id=in.(1,3)&order=id.asc', {}, 200, [{ id: 1 }, { id: 3 }]],
  ['/conformance?select=id&id=not.in.(1,3)', {}, 200, [{ id: 2 }]],
  ['/conformance?select=id&or=(id.eq.1,score.eq.30)&order=id.asc', {}, 200, [{ id: 1 }, { id: 3 }]],
  ['/conformance?select=id&and=(id.eq.1,score.eq.30)', {}, 200, []],
  ['/conformance?select=id&id=eq.2', { accept: 'application/vnd.pgrst.object+json' }, 200, { id: 2 }],
  ['/conformance?select=id&id=gt.0', { accept: 'application/vnd.pgrst.object+json' }, 406, expect.objectContaining({ code: 'PGRST116' })],
];

test('query shapes that differ only in their text never share a prepared statement', async () => {
  const pids = new Set<number>();
  // Forwards, then backwards: each shape runs again after every other has been prepared.
  for (const order of [SHAPES, [...SHAPES].reverse()]) {
    for (const [path, headers, status, body] of order) {
      expect([path, await rest('anon', path, { headers })]).toEqual([path, { status, body }]);
      pids.add((await sessionState('anon')).pid);
    }
  }
  expect(pids.size).toBe(1);
});

test('one prepared shape answers for whichever role and user runs it', async () => {
  const expected: Record<Caller, unknown> = { anon: [], a: [{ v: 'a' }], b: [{ v: 'b' }], service: [{ v: 'a' }, { v: 'b' }] };
  const pids = new Set<number>();
  for (let round = 0; round < 3; round++) {
    for (const caller of ['a', 'anon', 'b', 'service', 'a', 'b'] as const) {
      expect([caller, await rest(caller, '/mine?select=v&order=v')]).toEqual([caller, { status: 200, body: expected[caller] }]);
      // RLS off (service_role) and on, by the same text: locked has no policy at all.
      expect(await rest(caller, '/locked?select=id&order=id')).toEqual({
        status: 200,
        body: caller === 'service' ? [{ id: 1 }, { id: 2 }] : [],
      });
      pids.add((await sessionState(caller)).pid);
    }
  }
  expect(pids.size).toBe(1);
});

test('a schema change re-plans a prepared shape', async () => {
  const before = await rest('a', '/mine?select=*');
  expect(before).toEqual({ status: 200, body: [{ v: 'a', owner: userA }] });
  const { pid } = await sessionState('a');
  await changeSchema(server, `alter table public.mine add column note text not null default 'new'`, 'mine?select=note&limit=0');
  expect(await rest('a', '/mine?select=*')).toEqual({ status: 200, body: [{ v: 'a', owner: userA, note: 'new' }] });
  expect((await sessionState('a')).pid).toBe(pid);
});

test("a request's role, claims and uncommitted work end with it, whatever happened in it", async () => {
  const failures: Array<[Caller, string, { method?: string; body?: unknown; headers?: Record<string, string> }, number]> = [
    ['a', '/rpc/fail', { method: 'POST', body: { msg: 'raised' } }, 400],
    ['b', '/rpc/insert_then_fail', { method: 'POST', body: { p_name: 'uncommitted' } }, 400],
    ['a', '/locked', { method: 'POST', body: { id: 3 } }, 403],
    ['b', '/conformance?select=id', { headers: { accept: 'application/vnd.pgrst.object+json' } }, 406],
    ['service', '/conformance?id=eq.abc', {}, 400],
    // Rejected by Postgres while parsing the statement (operator does not exist: boolean ~~ unknown).
    ['a', '/conformance?flag=like.x', {}, 404],
  ];
  const pids = new Set<number>();
  for (const [failing, path, init, status] of failures) {
    expect([path, (await rest(failing, path, init)).status]).toEqual([path, status]);
    for (const next of ['anon', 'a', 'b', 'service'] as const) {
      const state = await sessionState(next);
      expect([path, next, { role: state.role, sub: state.sub }]).toEqual([path, next, IDENTITY[next]]);
      pids.add(state.pid);
    }
  }
  expect(pids.size).toBe(1);
  expect(await rest('service', '/conformance?select=id&name=eq.uncommitted')).toEqual({ status: 200, body: [] });
});

test('under concurrency, every answer carries its own caller’s role and claims', async () => {
  const users = Array.from({ length: 30 }, () => randomUUID());
  const userTokens = users.map((sub) => token(server, { sub, role: 'authenticated' }));
  const ask = async (i: number) => {
    const user = i % (users.length + 2);
    if (i % 7 === 3) {
      // Failures interleaved: a raised error, a failed singular check.
      const fail = i % 2 ? '/rpc/fail' : '/conformance?select=id';
      const res = await fetch(`${server.url}/rest/v1${fail}`, {
        method: i % 2 ? 'POST' : 'GET',
        headers: {
          apikey: server.anonKey,
          authorization: `Bearer ${userTokens[i % users.length]}`,
          'content-type': 'application/json',
          accept: i % 2 ? '*/*' : 'application/vnd.pgrst.object+json',
        },
        body: i % 2 ? '{"msg":"x"}' : undefined,
      });
      expect(res.status).toBe(i % 2 ? 400 : 406);
      return undefined;
    }
    const bearer = user < users.length ? userTokens[user] : user === users.length ? server.anonKey : server.serviceRoleKey;
    const res = await fetch(`${server.url}/rest/v1/rpc/session_state`, {
      method: 'POST',
      headers: { apikey: server.anonKey, authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const state = (await res.json()) as SessionState;
    const expected =
      user < users.length ? { role: 'authenticated', sub: users[user] } : user === users.length ? IDENTITY.anon : IDENTITY.service;
    expect([i, { role: state.role, sub: state.sub }]).toEqual([i, expected]);
    return state.pid;
  };
  const pids = (await Promise.all(Array.from({ length: 600 }, (_, i) => ask(i)))).filter((pid) => pid !== undefined);
  // Far more answers than connections: connections were reused while others were busy.
  expect(pids.length).toBeGreaterThan(400);
  expect(new Set(pids).size).toBeLessThanOrEqual(20);
});
