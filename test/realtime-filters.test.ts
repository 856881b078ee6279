// postgres_changes filters judged against Postgres itself: every filter of the table below is one
// binding, and the rows it delivers must be exactly the rows `select … where <column> <op>
// <value>::<column type>` returns, as Supabase Realtime compares them (realtime.check_equality_op
// casts both sides to the column's type). Values that type rejects fail the subscription, and so do
// `in` filters of more than 100 values.
import type { RealtimeChannel } from '@supabase/supabase-js';
import { waitFor } from './support/realtime';
import { wechatUser, startTestServer, superuserQuery, type TestServer } from './support/server';

let server: TestServer;

const COLUMNS: Record<string, string> = {
  i8: 'bigint',
  i4: 'integer',
  i2: 'smallint',
  num: 'numeric',
  f8: 'double precision',
  txt: 'text',
  flag: 'boolean',
  u: 'uuid',
  ts: 'timestamptz',
  // Types whose printed text does not order as their values: Postgres orders them.
  d: 'date',
  tsn: 'timestamp',
  ia: 'integer[]',
  mood: 'public.mood',
  iv: 'interval',
  cash: 'money',
};

// One row per line; null where a column is left out. Values straddle digit boundaries, 2^53,
// the types' ranges, numeric scale, NaN and infinities, and characters outside the BMP.
// biome-ignore format: one row per line, as the table has them
const ROWS: Array<Record<string, string | null>> = [
  { i8: '9', i4: '9', i2: '9', num: '9.5', f8: '9.5', txt: '9', flag: 'true', u: '0a0a0a0a-0000-4000-8000-000000000009', ts: '2026-11-21 09:00:00+00', d: '9999-12-31', tsn: '0001-01-01 00:00:00 BC', ia: '{9}', mood: 'sad', iv: '1 mon', cash: '9.00' },
  { i8: '10', i4: '10', i2: '10', num: '10.00', f8: '10', txt: '10', flag: 'false', u: 'ffffffff-0000-4000-8000-000000000010', ts: '2026-11-21 10:00:00+00', d: '10000-01-01', tsn: '0002-01-01 00:00:00', ia: '{10}', mood: 'ok', iv: '29 days', cash: '10.00' },
  { i8: '99', i4: '99', i2: '99', num: '0.3', f8: '0.3', txt: 'Z', flag: null, u: null, ts: '2026-11-21 10:00:00.000001+00', d: '2026-11-21', tsn: '2026-11-21 10:00:00', ia: '{9,1}', mood: 'happy', iv: '1 day 01:00:00', cash: '1000.50' },
  { i8: '100', i4: '-10', i2: '-10', num: '0.30000000000000001', f8: '1e300', txt: 'a', flag: 'true', u: null, ts: null },
  { i8: '-1', i4: '-1', i2: '-1', num: '-0.5', f8: '-Infinity', txt: 'é', flag: null, u: null, ts: null },
  { i8: '9007199254740992', i4: '2147483647', i2: '32767', num: '12345678901234567890.123', f8: 'Infinity', txt: '\uff01', flag: null, u: null, ts: null },
  { i8: '9007199254740993', i4: '-2147483648', i2: '-32768', num: 'NaN', f8: 'NaN', txt: '😀', flag: null, u: null, ts: null },
  { i8: '-9223372036854775808', i4: '0', i2: '0', num: '0.00000000000000000001', f8: '0', txt: '', flag: null, u: null, ts: null },
  { i8: '9223372036854775807', i4: null, i2: null, num: null, f8: null, txt: null, flag: null, u: null, ts: null },
];

// By column: filters as a client writes them (`op.value`, `not.op.value`, `in.(a,b)`).
// biome-ignore format: filters laid out in rows
const FILTERS: Record<string, string[]> = {
  i8: [
    'eq.9', 'eq.10', 'neq.10', 'gt.9', 'gt.10', 'gte.10', 'lt.10', 'lte.9', 'lt.100', 'gt.99', 'gte.99', 'gt.-2', 'lt.-1', 'lte.-1',
    'eq.9007199254740993', 'gt.9007199254740992', 'lt.9007199254740993', 'gte.9223372036854775807', 'lt.-9223372036854775807',
    'in.(9,10,100)', 'in.(9007199254740993)', 'not.in.(9,10)', 'not.eq.9', 'not.gt.10', 'not.lt.100',
    'eq.+10', 'eq.010', 'eq.0x0A', 'eq.1_0',
  ],
  i4: ['gt.9', 'lt.10', 'gte.-10', 'lte.-10', 'eq.2147483647', 'gt.-2147483648', 'in.(0,-1)', 'not.gte.10'],
  i2: ['gt.9', 'lt.10', 'eq.32767', 'lt.-32767', 'neq.0'],
  num: [
    'eq.10', 'eq.10.0', 'gt.9.5', 'gte.9.5', 'lt.0.30000000000000001', 'eq.0.3', 'gt.0.3', 'eq.NaN', 'gt.Infinity', 'lt.NaN',
    'gt.1e19', 'lt.-0.4', 'lt.0.0000000000000000001', 'in.(0.3,10)', 'not.eq.10',
  ],
  f8: ['eq.10', 'gt.9.5', 'gt.1e299', 'eq.Infinity', 'lt.-1e308', 'eq.NaN', 'gt.Infinity', 'neq.NaN', 'lte.0', 'eq.0.3'],
  txt: [
    'gt.9', 'lt.9', 'eq.10', 'gt.a', 'lt.a', 'gt.\uff01', 'lt.😀', 'eq.', 'in.(9,10)', 'not.eq.Z', 'gte.é',
    'like.1%', 'like._', 'not.like.%0', 'ilike.z', 'ilike.É', 'match.^[0-9]+$', 'imatch.^Z$', 'not.match.[a-z]', 'is.null', 'not.is.null',
    'isdistinct.9', 'not.isdistinct.9',
  ],
  flag: ['eq.true', 'eq.t', 'eq.false', 'neq.true', 'eq.yes', 'not.eq.false', 'is.true', 'is.false', 'is.unknown', 'not.is.true', 'isdistinct.true'],
  u: ['eq.0A0A0A0A-0000-4000-8000-000000000009', 'gt.0a0a0a0a-0000-4000-8000-000000000009', 'lt.FFFFFFFF-0000-4000-8000-000000000010'],
  ts: ['eq.2026-11-21T18:00:00+08:00', 'gt.2026-11-21T10:00:00Z', 'lte.2026-11-21 10:00:00+00', 'lt.2026-11-21T09:30:00+00:00', 'is.null', 'isdistinct.2026-11-21 10:00:00+00'],
  d: ['gt.9999-12-31', 'lt.10000-01-01', 'eq.2026-11-21', 'gte.2026-11-21', 'neq.10000-01-01'],
  tsn: ['gt.0002-01-01 00:00:00 BC', 'lt.2026-01-01', 'eq.0001-01-01 BC'],
  ia: ['gt.{9}', 'lt.{10}', 'eq.{10}'],
  mood: ['gt.sad', 'lt.happy', 'in.(ok,happy)', 'not.eq.ok'],
  iv: ['gt.29 days', 'lt.1 mon', 'eq.30 days', 'gte.1 day'],
  cash: ['gt.9.00', 'lt.100', 'eq.1000.5'],
};

interface Binding {
  column: string;
  filter: string;
  channel: RealtimeChannel;
  rows: string[];
  statuses: Array<Record<string, unknown>>;
}

beforeAll(async () => {
  server = await startTestServer();
  const columns = Object.entries(COLUMNS).map(([name, type]) => `${name} ${type}`);
  await superuserQuery(
    server.dbUrl,
    `create type public.mood as enum ('sad', 'ok', 'happy');
     create table public.rt_filters (row_no int primary key, ${columns.join(', ')});
     alter publication supabase_realtime add table public.rt_filters;`,
  );
});

afterAll(async () => {
  await server?.stop();
});

/** The row numbers Postgres selects for `column=<filter>`, with the value cast to the column's type. */
async function selectedByPostgres(column: string, filter: string): Promise<string[]> {
  const match = /^(not\.)?([a-z]+)\.(.*)$/s.exec(filter)!;
  const [, not, op, raw] = match;
  const type = COLUMNS[column];
  const symbol = {
    eq: '=',
    neq: '<>',
    lt: '<',
    lte: '<=',
    gt: '>',
    gte: '>=',
    like: '~~',
    ilike: '~~*',
    match: '~',
    imatch: '~*',
    isdistinct: 'is distinct from',
  }[op];
  // `is` takes a keyword (null, true, false, unknown), not a value.
  const [condition, values] =
    op === 'is'
      ? [`${column} is ${raw.toUpperCase()}`, []]
      : op === 'in'
        ? [`${column} = any($1::${type}[])`, [`{${raw.slice(1, -1)}}`]]
        : [`${column} ${symbol} $1::${type}`, [raw]];
  const { rows } = await superuserQuery<{ row_no: number }>(
    server.dbUrl,
    `select row_no from public.rt_filters where ${not ? `not (${condition})` : condition} order by row_no`,
    values,
  );
  return rows.map((r) => String(r.row_no));
}

test('each filter delivers exactly the rows Postgres selects with the same comparison', async () => {
  const user = await wechatUser(server);
  const bindings: Binding[] = [];
  for (const [column, filters] of Object.entries(FILTERS)) {
    const channel = user.sb.channel(`filters:${column}`);
    const statuses: Array<Record<string, unknown>> = [];
    for (const filter of filters) {
      const binding: Binding = { column, filter, channel, rows: [], statuses };
      channel.on(
        'postgres_changes' as never,
        { event: 'INSERT', schema: 'public', table: 'rt_filters', filter: `${column}=${filter}` } as never,
        (p: { new: { row_no: number } }) => binding.rows.push(String(p.new.row_no)),
      );
      bindings.push(binding);
    }
    channel.on('system', {}, (p: Record<string, unknown>) => statuses.push(p));
    channel.subscribe();
    await waitFor(`${column} filters to be subscribed`, () => statuses.length > 0);
    expect(statuses).toEqual([expect.objectContaining({ status: 'ok' })]);
  }

  const names = Object.keys(COLUMNS);
  for (const [i, row] of ROWS.entries()) {
    await superuserQuery(
      server.dbUrl,
      `insert into public.rt_filters (row_no, ${names.join(', ')}) values ($1, ${names.map((name, j) => `$${j + 2}::${COLUMNS[name]}`).join(', ')})`,
      [i + 1, ...names.map((name) => row[name])],
    );
  }
  const expected = await Promise.all(bindings.map((b) => selectedByPostgres(b.column, b.filter)));
  const described = (rows: string[][]) => bindings.map((b, i) => `${b.column}=${b.filter} → [${rows[i].join(',')}]`);
  // Every row is delivered to the filters that select it; wait for the last one, then compare all.
  const last = String(ROWS.length);
  await waitFor('the last row', () => bindings.some((b, i) => expected[i].includes(last) && b.rows.includes(last)), 10000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(described(bindings.map((b) => b.rows))).toEqual(described(expected));
});

test('an `in` filter takes up to 100 values', async () => {
  const user = await wechatUser(server);
  const system: Array<Record<string, unknown>> = [];
  const filter = `i4=in.(${Array.from({ length: 100 }, (_, i) => i).join(',')})`;
  user.sb
    .channel('in-100')
    .on('postgres_changes' as never, { event: 'INSERT', schema: 'public', table: 'rt_filters', filter } as never, () => undefined)
    .on('system', {}, (p: Record<string, unknown>) => system.push(p))
    .subscribe();
  await waitFor('the subscription', () => system.length > 0);
  expect(system).toEqual([expect.objectContaining({ status: 'ok' })]);
});

/** Subscribes one binding of `filter` on `table`; resolves with the system messages once one answers it, and the channel's statuses. */
async function answerTo(user: Awaited<ReturnType<typeof wechatUser>>, topic: string, table: string, filter: string) {
  const system: Array<Record<string, unknown>> = [];
  const statuses: string[] = [];
  user.sb
    .channel(topic)
    .on('postgres_changes' as never, { event: '*', schema: 'public', table, filter } as never, () => undefined)
    .on('system', {}, (p: Record<string, unknown>) => system.push(p))
    .subscribe((status) => statuses.push(status));
  await waitFor(`${JSON.stringify(filter)} to be answered`, () => system.length > 0);
  return { system, statuses };
}

test('a filter value its column type rejects fails the subscription, as the cast in Postgres does', async () => {
  const user = await wechatUser(server);
  const cases: Array<[string, string]> = [
    ['i8=gt.abc', 'invalid input syntax for type bigint: "abc"'],
    ['i8=eq.1.5', 'invalid input syntax for type bigint: "1.5"'],
    ['i8=eq.9223372036854775808', 'value "9223372036854775808" is out of range for type bigint'],
    ['i4=lt.2147483648', 'value "2147483648" is out of range for type integer'],
    ['i2=in.(1,40000)', 'value "40000" is out of range for type smallint'],
    ['num=gt.ten', 'invalid input syntax for type numeric: "ten"'],
    ['flag=eq.maybe', 'invalid input syntax for type boolean: "maybe"'],
    ['u=eq.not-a-uuid', 'invalid input syntax for type uuid: "not-a-uuid"'],
    ['ts=gt.soon', 'invalid input syntax for type timestamp with time zone: "soon"'],
    [`i4=in.(${Array.from({ length: 101 }, (_, i) => i).join(',')})`, 'too many values for `in` filter. Maximum 100'],
    // As upstream's subscription_check_filters refuses them.
    ['txt=is.maybe', 'invalid value for is filter: must be null, true, false, or unknown'],
    ['i8=is.true', 'is true filter requires a boolean column, got bigint'],
    ['i8=like.1%', 'operator like requires a text-compatible column type, got bigint'],
    ['flag=imatch.t', 'operator imatch requires a text-compatible column type, got boolean'],
    ['txt=match.[', 'invalid regular expression for match filter: invalid regular expression: brackets [] not balanced'],
  ];
  for (const [i, [filter, message]] of cases.entries()) {
    const { system } = await answerTo(user, `bad-value:${i}`, 'rt_filters', filter);
    expect([filter, system]).toEqual([
      filter,
      [
        expect.objectContaining({
          status: 'error',
          message: expect.stringMatching(/^Unable to subscribe to changes with given parameters\. An exception happened/),
        }),
      ],
    ]);
    expect(system[0].message).toContain(`Exception: ${message}`);
  }
});

test('a value a domain’s CHECK or a regclass refuses fails the subscription too, not the join', async () => {
  await superuserQuery(
    server.dbUrl,
    `create domain public.positive as int check (value > 0);
     create table public.rt_refusals (id int primary key, p public.positive, r regclass, j json, t text, b bytea);
     alter publication supabase_realtime add table public.rt_refusals;`,
  );
  const user = await wechatUser(server);
  const cases: Array<[string, string]> = [
    ['p=eq.-1', 'value for domain positive violates check constraint "positive_check"'],
    ['r=eq.nosuch', 'relation "nosuch" does not exist'],
    // Filters Postgres cannot judge fail now, not in every delivery after.
    ['j=eq.{}', 'operator does not exist: json = json'],
    ['t=like.abc\\', 'LIKE pattern must not end with escape character'],
    ['b=like.\\x4', 'invalid hexadecimal data: odd number of digits'],
  ];
  for (const [i, [filter, message]] of cases.entries()) {
    const { system, statuses } = await answerTo(user, `refused-value:${i}`, 'rt_refusals', filter);
    expect(system[0]).toMatchObject({ status: 'error', message: expect.stringContaining(`Exception: ${message}`) });
    expect(statuses).not.toContain('CHANNEL_ERROR');
  }
  // Should one still fail when a batch is judged, it is false for its subscriber alone.
  const { rows } = await superuserQuery<{ results: boolean[] }>(
    server.dbUrl,
    `select local_realtime.check_filters(array['json', 'text']::regtype[], array['eq', 'eq'], array['{}', 'a'], array['{}', 'a'], array[false, false]) as results`,
  );
  expect(rows[0].results).toEqual([false, true]);
});

test('a filter is trimmed as upstream trims it: blank is no filter, a blank segment is an error', async () => {
  const user = await wechatUser(server);
  const cases: Array<[string, string]> = [
    ['   ', 'Subscribed to PostgreSQL'],
    [' txt=eq.9 ,  i8=gt.1 ', 'Subscribed to PostgreSQL'],
    ['txt=eq.9,,i8=gt.1', 'filter must not contain empty segments (check for extra commas)'],
    ['txt=eq.9, ', 'filter must not contain empty segments (check for extra commas)'],
  ];
  for (const [i, [filter, message]] of cases.entries()) {
    const { system } = await answerTo(user, `trimmed:${i}`, 'rt_filters', filter);
    expect([filter, system[0].message]).toEqual([filter, message]);
  }
});

test('schema "*" listens to every published table', async () => {
  const user = await wechatUser(server);
  const system: Array<Record<string, unknown>> = [];
  const rows: number[] = [];
  user.sb
    .channel('every-schema')
    .on('postgres_changes' as never, { event: 'INSERT', schema: '*' } as never, (p: { table: string; new: { row_no: number } }) => {
      if (p.table === 'rt_filters') rows.push(p.new.row_no);
    })
    .on('system', {}, (p: Record<string, unknown>) => system.push(p))
    .subscribe();
  await waitFor('the subscription to be answered', () => system.length > 0);
  expect(system[0]).toMatchObject({ status: 'ok' });
  await superuserQuery(server.dbUrl, 'insert into public.rt_filters (row_no) values (1000)');
  await waitFor('the insert', () => rows.length > 0);
  expect(rows).toEqual([1000]);
});
