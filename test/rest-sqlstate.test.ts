// The SQLSTATE → HTTP status table as a whole, against PostgREST's mapping (mapSQLtoHTTP in
// PostgREST src/library/PostgREST/Error.hs, and its "Errors" documentation): one row per rule and
// per branch, checked on the mapping itself and again end to end, each SQLSTATE raised by a real
// function and read through supabase-js.
import type { SupabaseClient } from '@supabase/supabase-js';
import { fromPgError, statusForPgError } from '../local-supabase/src/rest/errors';
import { wechatUser, changeSchema, client, startTestServer, type TestServer } from './support/server';

/** [SQLSTATE, message, status for a signed-in role, status for anon when it differs] */
const TABLE: Array<[string, string, number, number?]> = [
  ['08000', 'connection exception', 503],
  ['08P01', 'protocol violation', 503],
  ['09000', 'triggered action exception', 500],
  ['0L000', 'invalid grantor', 403],
  ['0LP01', 'invalid grant operation', 403],
  ['0P000', 'invalid role specification', 403],
  ['23503', 'foreign key violation', 409],
  ['23505', 'unique violation', 409],
  ['23502', 'not null violation', 400],
  ['23514', 'check violation', 400],
  ['25006', 'read only sql transaction', 405],
  ['25001', 'active sql transaction', 500],
  ['25P02', 'in failed sql transaction', 500],
  ['21000', 'UPDATE requires a WHERE clause', 400],
  ['21000', 'more than one row returned by a subquery used as an expression', 500],
  ['21000', 'DELETE requires a WHERE clause (hint)', 500],
  ['22023', 'role "ghost" does not exist', 401],
  ['22023', 'invalid value for parameter "x"', 400],
  ['22023', 'the role does not exist here', 400],
  ['22023', 'role x does not exist', 401],
  ['22P02', 'invalid input syntax for type integer', 400],
  ['28000', 'invalid authorization specification', 403],
  ['28P01', 'invalid password', 403],
  ['2D000', 'invalid transaction termination', 500],
  ['38001', 'containing sql not permitted', 500],
  ['39P01', 'trigger protocol violated', 500],
  ['3B000', 'savepoint exception', 500],
  ['40001', 'could not serialize access', 500],
  ['40P01', 'deadlock detected', 500],
  ['53400', 'configuration limit exceeded', 500],
  ['53100', 'disk full', 503],
  ['53300', 'too many connections', 503],
  ['54001', 'stack depth limit exceeded', 500],
  ['55P03', 'lock not available', 500],
  ['57P01', 'terminating connection due to administrator command', 503],
  ['57014', 'canceling statement due to statement timeout', 500],
  ['58030', 'io error', 500],
  ['F0000', 'config file error', 500],
  ['HV000', 'fdw error', 500],
  ['P0001', 'raise exception', 400],
  ['P0002', 'no data found', 500],
  ['P0004', 'assert failure', 500],
  ['XX000', 'internal error', 500],
  ['42883', 'function nope(integer) does not exist', 404],
  ['42883', 'function xmlagg(text) does not exist', 406],
  ['42P01', 'relation "nope" does not exist', 404],
  ['42P17', 'infinite recursion detected in policy', 500],
  ['42501', 'permission denied for table t', 403, 401],
  ['42703', 'column t.nope does not exist', 400],
  ['0A000', 'feature not supported', 400],
  ['PT418', "I'm a teapot", 418],
  ['PT429', 'rate limit exceeded', 429],
  ['PT999', 'nine nine nine', 999],
  ['PT099', 'not a status', 500],
  ['PTX12', 'not a number', 500],
];

describe('the mapping', () => {
  test.each(TABLE)('%s %s → %s', (code, message, authedStatus, anonStatus = authedStatus) => {
    expect(statusForPgError({ code, message }, true)).toBe(authedStatus);
    expect(statusForPgError({ code, message }, false)).toBe(anonStatus);
    expect(fromPgError({ code, message, detail: 'd', hint: 'h' }, true).body()).toEqual({ code, message, details: 'd', hint: 'h' });
  });

  test('401 answers carry WWW-Authenticate: Bearer, others no header', () => {
    expect(fromPgError({ code: '42501', message: 'm' }, false).headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(fromPgError({ code: '22023', message: 'role "x" does not exist' }, true).headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(fromPgError({ code: '42501', message: 'm' }, true).headers).toEqual({});
  });
});

describe("RAISE SQLSTATE 'PGRST': the function chooses the whole response", () => {
  test('message and detail as JSON give the body, the status and the headers', () => {
    const error = fromPgError(
      {
        code: 'PGRST',
        message: '{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade your plan"}',
        detail: '{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}',
      },
      true,
    );
    expect([error.status, error.body(), error.headers]).toEqual([
      402,
      { code: '123', message: 'Payment Required', details: 'Quota exceeded', hint: 'Upgrade your plan' },
      { 'x-powered-by': 'Nerd Rage' },
    ]);
  });

  test.each<[string, string, string | undefined, string]>([
    ['a message that is not JSON', 'oops', '{"status":400,"headers":{}}', "Invalid JSON value for MESSAGE: 'oops'"],
    ['a message without code', '{"message":"m"}', '{"status":400,"headers":{}}', `Invalid JSON value for MESSAGE: '{"message":"m"}'`],
    ['no detail', '{"code":"1","message":"m"}', undefined, 'DETAIL is missing in the RAISE statement'],
    ['a detail without headers', '{"code":"1","message":"m"}', '{"status":400}', `Invalid JSON value for DETAIL: '{"status":400}'`],
    [
      'a status that is not a number',
      '{"code":"1","message":"m"}',
      '{"status":"400","headers":{}}',
      `Invalid JSON value for DETAIL: '{"status":"400","headers":{}}'`,
    ],
  ])('%s is 500 PGRST121', (_, message, detail, details) => {
    const error = fromPgError({ code: 'PGRST', message, detail }, true);
    expect([error.status, error.code, error.details]).toEqual([500, 'PGRST121', details]);
  });
});

describe('end to end: each SQLSTATE raised by a function, read through supabase-js', () => {
  let server: TestServer;
  let anon: SupabaseClient;
  let user: SupabaseClient;

  beforeAll(async () => {
    server = await startTestServer();
    await changeSchema(
      server,
      `create function public.raise_sqlstate(code text, msg text) returns integer language plpgsql as $$
         begin raise exception using errcode = code, message = msg, detail = 'the detail', hint = 'the hint'; end $$;
       create function public.raise_pgrst() returns integer language plpgsql as $$
         begin raise sqlstate 'PGRST' using
           message = '{"code":"123","message":"Payment Required"}',
           detail = '{"status":402,"headers":{"X-Powered-By":"Nerd Rage"}}'; end $$;`,
      'rpc/raise_sqlstate?code=P0001&msg=ready',
    );
    anon = client(server);
    user = (await wechatUser(server)).sb;
  });

  afterAll(async () => {
    await server?.stop();
  });

  test.each(TABLE)('%s %s → %s', async (code, msg, authedStatus, anonStatus = authedStatus) => {
    for (const [caller, status] of [
      [user, authedStatus],
      [anon, anonStatus],
    ] as const) {
      const res = await caller.rpc('raise_sqlstate', { code, msg });
      expect([res.status, res.error]).toEqual([status, { code, message: msg, details: 'the detail', hint: 'the hint' }]);
    }
  });

  test("RAISE SQLSTATE 'PGRST' sets status, body and headers", async () => {
    const res = await fetch(`${server.url}/rest/v1/rpc/raise_pgrst`, {
      method: 'POST',
      headers: { apikey: server.anonKey, 'content-type': 'application/json' },
      body: '{}',
    });
    expect([res.status, res.headers.get('x-powered-by'), await res.json()]).toEqual([
      402,
      'Nerd Rage',
      { code: '123', message: 'Payment Required', details: null, hint: null },
    ]);
  });
});
