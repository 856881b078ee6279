// /rest/v1 reads through the official client: select lists, aliases and casts, every filter
// operator, logic trees, ordering, paging, counts, HEAD, single()/maybeSingle(), profiles, the
// row cap, JSON rendering of each column type, and schema changes made while the server runs.
import type { SupabaseClient } from '@supabase/supabase-js';
import { createConformance } from './support/rest-fixture';
import { client, startTestServer, type TestServer } from './support/server';

let server: TestServer;
let sb: SupabaseClient;

beforeAll(async () => {
  server = await startTestServer();
  await createConformance(
    server,
    `insert into public.conformance (id, name, score, ratio, big, flag, tags, data, note, parent_id) values
       (1, 'alpha', 10, 1.5, 9007199254740991, true, '{a,b}', '{"k":{"n":1}}', default, null),
       (2, 'beta', 20, null, 2, false, '{}', null, 'x, y', null),
       (3, 'gamma', null, null, null, null, null, null, 'a,b', null),
       (4, 'Alphabet', 30, 0.25, -1, true, null, '[1,"two"]', null, null),
       (5, 'delta', 20, null, null, null, null, null, null, 1);`,
  );
  sb = client(server);
});

afterAll(async () => {
  await server?.stop();
});

async function ids(query: PromiseLike<{ data: Array<{ id: number }> | null; error: unknown }>): Promise<number[]> {
  const { data, error } = await query;
  expect(error).toBeNull();
  return data!.map((r) => r.id);
}

const byId = () => sb.from('conformance').select('id').order('id');

test('select with a column list, aliases and casts', async () => {
  const { data, error, status } = await sb.from('conformance').select('id, label:name, score::text').eq('id', 1);
  expect(error).toBeNull();
  expect(status).toBe(200);
  expect(data).toEqual([{ id: 1, label: 'alpha', score: '10' }]);
});

test('JSON is rendered by Postgres: bigint and numeric as numbers, timestamptz with offset', async () => {
  const { data, error } = await sb.from('conformance').select('*').eq('id', 1).single();
  expect(error).toBeNull();
  expect(data).toEqual({
    id: 1,
    name: 'alpha',
    score: 10,
    ratio: 1.5,
    big: 9007199254740991,
    flag: true,
    tags: ['a', 'b'],
    data: { k: { n: 1 } },
    at: '2026-11-21T22:41:19.31513+00:00',
    note: 'dflt',
    owner: null,
    parent_id: null,
  });
});

test('comparison filters', async () => {
  expect(await ids(byId().eq('score', 20))).toEqual([2, 5]);
  expect(await ids(byId().neq('score', 20))).toEqual([1, 4]);
  expect(await ids(byId().gt('score', 10))).toEqual([2, 4, 5]);
  expect(await ids(byId().gte('score', 20))).toEqual([2, 4, 5]);
  expect(await ids(byId().lt('score', 20))).toEqual([1]);
  expect(await ids(byId().lte('score', 20))).toEqual([1, 2, 5]);
  expect(await ids(byId().eq('score', 20).eq('flag', false))).toEqual([2]);
});

test('like, ilike (with % or *), is, in', async () => {
  expect(await ids(byId().like('name', 'al%'))).toEqual([1]);
  expect(await ids(byId().like('name', '*eta'))).toEqual([2]);
  expect(await ids(byId().ilike('name', 'alpha%'))).toEqual([1, 4]);
  expect(await ids(byId().is('score', null))).toEqual([3]);
  expect(await ids(byId().is('flag', true))).toEqual([1, 4]);
  expect(await ids(byId().in('note', ['x, y', 'a,b']))).toEqual([2, 3]);
  expect(await ids(byId().in('id', [5, 1]))).toEqual([1, 5]);
  expect(await ids(byId().in('id', []))).toEqual([]);
});

test('not. prefix', async () => {
  expect(await ids(byId().not('name', 'eq', 'alpha'))).toEqual([2, 3, 4, 5]);
  expect(await ids(byId().not('score', 'is', null))).toEqual([1, 2, 4, 5]);
  expect(await ids(byId().not('id', 'in', '(1,2,3)'))).toEqual([4, 5]);
});

test('or=(…) with quoted values, nested and(…) and not.and(…)', async () => {
  expect(await ids(byId().or('score.eq.10,note.eq."a,b"'))).toEqual([1, 3]);
  expect(await ids(byId().or('id.eq.5,and(score.eq.20,flag.is.false)'))).toEqual([2, 5]);
  expect(await ids(byId().or('not.and(score.gte.20,score.lte.30),id.in.(3)'))).toEqual([1, 3]);
  // Several or= parameters are ANDed, as are or= and plain filters.
  expect(await ids(byId().or('id.eq.1,id.eq.2').or('id.eq.2,id.eq.3'))).toEqual([2]);
  expect(await ids(byId().or('score.eq.20,score.eq.30').neq('id', 4))).toEqual([2, 5]);
});

test('order on several columns with directions and nulls placement', async () => {
  const desc = sb.from('conformance').select('id').order('score', { ascending: false, nullsFirst: true }).order('id');
  expect(await ids(desc)).toEqual([3, 4, 2, 5, 1]);
  const asc = sb.from('conformance').select('id').order('score', { ascending: true, nullsFirst: false }).order('id', { ascending: false });
  expect(await ids(asc)).toEqual([1, 5, 2, 4, 3]);
});

test('limit and offset (range)', async () => {
  expect(await ids(byId().range(1, 2))).toEqual([2, 3]);
  expect(await ids(byId().limit(2))).toEqual([1, 2]);
});

test('count=exact: 200 for the whole set, 206 for a page, 416 past the end', async () => {
  const whole = await sb.from('conformance').select('id', { count: 'exact' }).order('id');
  expect([whole.status, whole.count, whole.data?.length]).toEqual([200, 5, 5]);
  const page = await sb.from('conformance').select('id', { count: 'exact' }).order('id').range(0, 1);
  expect([page.status, page.count, page.data]).toEqual([206, 5, [{ id: 1 }, { id: 2 }]]);
  const past = await sb.from('conformance').select('id', { count: 'exact' }).range(10, 12);
  expect(past.status).toBe(416);
  expect(past.error).toMatchObject({ code: 'PGRST103', message: 'Requested range not satisfiable' });
});

test('Content-Range and Content-Type headers', async () => {
  const headers = { apikey: server.anonKey, prefer: 'count=exact' };
  const page = await fetch(`${server.url}/rest/v1/conformance?select=id&order=id&offset=1&limit=2`, { headers });
  expect(page.status).toBe(206);
  expect(page.headers.get('content-range')).toBe('1-2/5');
  expect(page.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(await page.json()).toEqual([{ id: 2 }, { id: 3 }]);
  const empty = await fetch(`${server.url}/rest/v1/conformance?select=id&id=eq.0`, { headers });
  expect([empty.status, empty.headers.get('content-range')]).toEqual([200, '*/0']);
  const uncounted = await fetch(`${server.url}/rest/v1/conformance?select=id&order=id&limit=1`, { headers: { apikey: server.anonKey } });
  expect([uncounted.status, uncounted.headers.get('content-range')]).toEqual([200, '0-0/*']);
});

test('the Range header of a GET narrows limit and offset as PostgREST intersects them; bad ranges are 416', async () => {
  const get = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/rest/v1/conformance?select=id&order=id${query}`, {
      headers: { apikey: server.anonKey, ...headers },
    });
    const body = await res.json();
    return [res.status, res.headers.get('content-range'), res.status < 300 ? body.map((r: { id: number }) => r.id) : body.details];
  };
  expect(await get('', { range: '0-1' })).toEqual([200, '0-1/*', [1, 2]]);
  expect(await get('', { range: '3-' })).toEqual([200, '3-4/*', [4, 5]]);
  // limit=2 is rows 0–1 and the header 1–: their intersection, not two rows from 1.
  expect(await get('&limit=2', { range: '1-' })).toEqual([200, '1-1/*', [2]]);
  expect(await get('&offset=1&limit=3', { range: '0-1' })).toEqual([200, '1-1/*', [2]]);
  expect(await get('', { range: 'items=0-1' })).toEqual([200, '0-4/*', [1, 2, 3, 4, 5]]);
  expect(await get('', { range: '3-1' })).toEqual([
    416,
    null,
    'The lower boundary must be lower than or equal to the upper boundary in the Range header.',
  ]);
  expect(await get('&limit=-1')).toEqual([416, null, 'Limit should be greater than or equal to zero.']);
  expect(await get('&limit=0', { range: '3-' })).toEqual([200, '*/*', []]);
  // Past the end with a count: the 416 still says how many rows there are.
  expect(await get('&offset=10', { prefer: 'count=exact' })).toEqual([
    416,
    '*/5',
    'An offset of 10 was requested, but there are only 5 rows.',
  ]);
  // Only a GET reads the header (RFC 9110): a HEAD… and the rest ignore it.
  const head = await fetch(`${server.url}/rest/v1/conformance?select=id`, {
    method: 'HEAD',
    headers: { apikey: server.anonKey, range: '0-1' },
  });
  expect(head.headers.get('content-range')).toBe('0-4/*');
});

test('HEAD with a count returns no body', async () => {
  const head = await sb.from('conformance').select('*', { count: 'exact', head: true }).gt('score', 10);
  expect([head.status, head.count, head.data, head.error]).toEqual([200, 3, null, null]);
});

test('single(): one object, or 406 PGRST116 for 0 or several rows', async () => {
  const one = await sb.from('conformance').select('name').eq('id', 1).single();
  expect([one.status, one.data]).toEqual([200, { name: 'alpha' }]);
  const none = await sb.from('conformance').select('name').eq('id', 999).single();
  expect(none.status).toBe(406);
  expect(none.error).toEqual({
    code: 'PGRST116',
    details: 'The result contains 0 rows',
    hint: null,
    message: 'Cannot coerce the result to a single JSON object',
  });
  const several = await sb.from('conformance').select('name').gt('id', 0).single();
  expect(several.status).toBe(406);
  expect(several.error).toMatchObject({ code: 'PGRST116', details: 'The result contains 5 rows' });
});

test('maybeSingle(): null for no row, the object for one', async () => {
  const none = await sb.from('conformance').select('name').eq('id', 999).maybeSingle();
  expect([none.error, none.data]).toEqual([null, null]);
  const one = await sb.from('conformance').select('name').eq('id', 2).maybeSingle();
  expect([one.error, one.data]).toEqual([null, { name: 'beta' }]);
});

test('unbounded reads stop at 1000 rows (db-max-rows)', async () => {
  const all = await sb.from('many').select('n', { count: 'exact' });
  expect([all.status, all.count, all.data?.length]).toEqual([206, 1100, 1000]);
  const asked = await sb.from('many').select('n').order('n', { ascending: false }).limit(5000);
  expect(asked.data?.length).toBe(1000);
  expect(asked.data?.[0]).toEqual({ n: 1100 });
});

test('Accept-Profile: public is served, any other schema is 406 PGRST106', async () => {
  const ok = await sb.schema('public').from('conformance').select('id').eq('id', 1);
  expect(ok.data).toEqual([{ id: 1 }]);
  const other = await sb.schema('private').from('conformance').select('id');
  expect(other.status).toBe(406);
  expect(other.error).toEqual({
    code: 'PGRST106',
    details: null,
    hint: 'Only the following schemas are exposed: public',
    message: 'Invalid schema: private',
  });
});

test('views are served like tables', async () => {
  const { data, error } = await sb.from('conformance_names').select('id, name').lt('id', 3).order('id');
  expect(error).toBeNull();
  expect(data).toEqual([
    { id: 1, name: 'alpha' },
    { id: 2, name: 'beta' },
  ]);
});
