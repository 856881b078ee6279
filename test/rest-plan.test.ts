// The planner as a table, [parsed request → plan tree or error]: what a request reads or changes,
// checked against the schema cache, as data (test/rest-render.test.ts holds [tree → SQL]).
import { parseQuery, type Condition } from '../local-supabase/src/rest/parse';
import {
  chooseFunction,
  MAX_ROWS,
  planCall,
  planDelete,
  planInsert,
  planRead,
  planUpdate,
  type Page,
  type Plan,
  type Preferences,
} from '../local-supabase/src/rest/plan';
import type { Column, Relation, RestFunction } from '../local-supabase/src/rest/schema';

const ID: Column = { name: 'id', type: 'bigint', default: "nextval('notes_id_seq'::regclass)" };
const TITLE: Column = { name: 'title', type: 'text', default: null };
const TAGS: Column = { name: 'tags', type: 'text[]', default: "'{}'::text[]" };
const notes: Relation = { name: 'notes', primaryKey: ['id'], columns: new Map([ID, TITLE, TAGS].map((c) => [c.name, c])) };
const table = { schema: 'public', name: 'notes' };
const NONE: Preferences = { representation: false, count: false, missingDefault: false };
const q = (query: string) => parseQuery(new URLSearchParams(query));
const page = (fields: Partial<Page> = {}): Page => ({
  select: [{ column: '*' }],
  where: [],
  order: [],
  limit: MAX_ROWS,
  offset: 0,
  count: false,
  ...fields,
});
const filter = (column: string, op: string, value: unknown) => ({ kind: 'filter', column, negate: false, op, value }) as Condition;
const write = (action: Plan['action']): Plan => ({ action, readOnly: false, offset: 0, result: 'rows' });
const ALL_ROWS = { select: [{ column: '*' }], keys: ['id', 'title', 'tags'] };

/** [what, plan, expected tree] */
const PLANS: Array<[string, () => Plan, Plan]> = [
  [
    'a read without limit stops at db-max-rows',
    () => planRead(notes, q(''), NONE),
    { action: { kind: 'read', table, page: page() }, readOnly: true, offset: 0, result: 'rows' },
  ],
  [
    'a limit over db-max-rows is capped',
    () => planRead(notes, q('limit=5000'), NONE),
    { action: { kind: 'read', table, page: page() }, readOnly: true, offset: 0, result: 'rows' },
  ],
  [
    'a read keeps its filters, order, page and count; the offset also goes to Content-Range',
    () => planRead(notes, q('select=t:title&id=gt.1&order=id.desc&limit=5&offset=7'), { ...NONE, count: true }),
    {
      action: {
        kind: 'read',
        table,
        page: page({
          select: [{ column: 'title', alias: 't' }],
          where: [filter('id', 'gt', '1')],
          order: [{ column: 'id', descending: true }],
          limit: 5,
          offset: 7,
          count: true,
        }),
      },
      readOnly: true,
      offset: 7,
      result: 'rows',
    },
  ],
  [
    'an insert of one object becomes an array of one, without representation',
    () => planInsert(notes, q('select=nope'), NONE, { title: 'x' }, '{"title":"x"}'),
    write({ kind: 'insert', table, columns: [TITLE], rows: '[{"title":"x"}]', missingDefault: false }),
  ],
  [
    'an insert of an array names the columns given by columns=, and hands back every column for *',
    () =>
      planInsert(
        notes,
        q('columns=title,tags'),
        { ...NONE, missingDefault: true, representation: true },
        [{ title: 'x' }],
        '[{"title":"x"}]',
      ),
    write({ kind: 'insert', table, columns: [TITLE, TAGS], rows: '[{"title":"x"}]', missingDefault: true, returning: ALL_ROWS }),
  ],
  [
    'representation hands back the selected columns under their aliases',
    () => planInsert(notes, q('select=n:id,title'), { ...NONE, representation: true }, { title: 'x' }, '{"title":"x"}'),
    write({
      kind: 'insert',
      table,
      columns: [TITLE],
      rows: '[{"title":"x"}]',
      missingDefault: false,
      returning: { select: [{ column: 'id', alias: 'n' }, { column: 'title' }], keys: ['n', 'title'] },
    }),
  ],
  [
    'merge-duplicates overwrites the body columns on the on_conflict target',
    () =>
      planInsert(notes, q('on_conflict=title'), { ...NONE, resolution: 'merge-duplicates' }, { id: 1, title: 'x' }, '{"id":1,"title":"x"}'),
    write({
      kind: 'insert',
      table,
      columns: [ID, TITLE],
      rows: '[{"id":1,"title":"x"}]',
      missingDefault: false,
      onConflict: { target: ['title'], update: ['id', 'title'] },
    }),
  ],
  [
    'ignore-duplicates updates nothing, on the primary key by default',
    () => planInsert(notes, q(''), { ...NONE, resolution: 'ignore-duplicates' }, [{ id: 1 }], '[{"id":1}]'),
    write({ kind: 'insert', table, columns: [ID], rows: '[{"id":1}]', missingDefault: false, onConflict: { target: ['id'], update: [] } }),
  ],
  [
    'an update sets the body keys where the filters match',
    () => planUpdate(notes, q('id=eq.1'), NONE, { title: 'y' }, '{"title":"y"}'),
    write({ kind: 'update', table, columns: [TITLE], row: '{"title":"y"}', where: [filter('id', 'eq', '1')] }),
  ],
  [
    'an update with an empty object sets nothing, whatever its filters name',
    () => planUpdate(notes, q('nope=eq.1'), NONE, {}, '{}'),
    write({ kind: 'update', table, columns: [], row: '{}', where: [filter('nope', 'eq', '1')] }),
  ],
  [
    'a delete returning the rows',
    () => planDelete(notes, q('id=gte.1'), { ...NONE, representation: true }),
    write({ kind: 'delete', table, where: [filter('id', 'gte', '1')], returning: ALL_ROWS }),
  ],
];

describe('request → tree', () => {
  test.each(PLANS)('%s', (_, plan, tree) => {
    expect(plan()).toEqual(tree);
  });
});

const add: RestFunction = {
  name: 'add',
  args: [
    { name: 'a', type: 'integer' },
    { name: 'b', type: 'integer' },
  ],
  required: 1,
  volatile: false,
  returnsSet: false,
  returns: 'scalar',
};
const log: RestFunction = {
  name: 'log',
  args: [{ name: 'msg', type: 'text' }],
  required: 1,
  volatile: true,
  returnsSet: false,
  returns: 'void',
};
const echo: RestFunction = {
  name: 'echo',
  args: [{ name: '', type: 'json' }],
  required: 1,
  volatile: false,
  returnsSet: false,
  returns: 'composite',
};
const rows: RestFunction = { name: 'rows', args: [], required: 0, volatile: false, returnsSet: true, returns: 'composite' };
const SCALAR = [{ column: 'pgrst_scalar' }];

describe('function calls', () => {
  test.each<[string, () => Plan, Plan]>([
    [
      'a scalar is read through one column, unfiltered: its one value is the body',
      () => planCall(add, q('select=x&x=eq.1&order=x'), NONE, { a: 1 }, '{"a":1}', false),
      {
        action: {
          kind: 'call',
          fn: { schema: 'public', name: 'add' },
          args: { kind: 'named', args: [add.args[0]], json: '{"a":1}' },
          returns: 'scalar',
          page: page({ select: SCALAR }),
        },
        readOnly: true,
        offset: 0,
        result: 'value',
      },
    ],
    [
      'a volatile void function called by POST writes',
      () => planCall(log, q(''), NONE, { msg: 'hi' }, '{"msg":"hi"}', false),
      {
        action: {
          kind: 'call',
          fn: { schema: 'public', name: 'log' },
          args: { kind: 'named', args: log.args, json: '{"msg":"hi"}' },
          returns: 'void',
          page: page({ select: SCALAR }),
        },
        readOnly: false,
        offset: 0,
        result: 'void',
      },
    ],
    [
      'the same function called by GET runs read-only',
      () => planCall(log, q(''), NONE, { msg: 'hi' }, '{"msg":"hi"}', true),
      {
        action: {
          kind: 'call',
          fn: { schema: 'public', name: 'log' },
          args: { kind: 'named', args: log.args, json: '{"msg":"hi"}' },
          returns: 'void',
          page: page({ select: SCALAR }),
        },
        readOnly: true,
        offset: 0,
        result: 'void',
      },
    ],
    [
      'one unnamed json parameter takes the whole body; a composite result keeps the page',
      () => planCall(echo, q('select=k&k=eq.1'), NONE, { k: 1 }, '{"k":1}', false),
      {
        action: {
          kind: 'call',
          fn: { schema: 'public', name: 'echo' },
          args: { kind: 'body', type: 'json', json: '{"k":1}' },
          returns: 'composite',
          page: page({ select: [{ column: 'k' }], where: [filter('k', 'eq', '1')] }),
        },
        readOnly: true,
        offset: 0,
        result: 'value',
      },
    ],
    [
      'a set of rows, ordered and paged after the call',
      () => planCall(rows, q('order=id.desc&limit=2&offset=4'), NONE, {}, '{}', true),
      {
        action: {
          kind: 'call',
          fn: { schema: 'public', name: 'rows' },
          args: { kind: 'named', args: [], json: '{}' },
          returns: 'composite',
          page: page({ order: [{ column: 'id', descending: true }], limit: 2, offset: 4 }),
        },
        readOnly: true,
        offset: 4,
        result: 'rows',
      },
    ],
  ])('%s', (_, plan, tree) => {
    expect(plan()).toEqual(tree);
  });

  test.each<[string, string[], boolean, string]>([
    ['both arguments', ['a', 'b'], false, 'add'],
    ['the required argument only', ['a'], false, 'add'],
    ['a whole body', ['anything'], true, 'echo'],
  ])('chooses by argument names: %s', (_, keys, hasBody, name) => {
    expect(chooseFunction('f', [add, echo], keys, hasBody).name).toBe(name);
  });
});

/** [what, plan that must fail, status, code, message] */
const REFUSED: Array<[string, () => Plan, number, string, string]> = [
  ['an unknown column in select', () => planRead(notes, q('select=nope'), NONE), 400, '42703', 'column notes.nope does not exist'],
  ['an unknown column in a filter', () => planRead(notes, q('nope=eq.1'), NONE), 400, '42703', 'column notes.nope does not exist'],
  [
    'an unknown column in a nested filter',
    () => planRead(notes, q('or=(id.eq.1,and(nope.eq.2))'), NONE),
    400,
    '42703',
    'column notes.nope does not exist',
  ],
  ['an unknown column in order', () => planRead(notes, q('order=nope'), NONE), 400, '42703', 'column notes.nope does not exist'],
  [
    'filters are checked before the select list',
    () => planRead(notes, q('select=one&two=eq.1'), NONE),
    400,
    '42703',
    'column notes.two does not exist',
  ],
  [
    'an unknown column in the returned rows',
    () => planInsert(notes, q('select=nope'), { ...NONE, representation: true }, { id: 1 }, '{"id":1}'),
    400,
    '42703',
    'column notes.nope does not exist',
  ],
  [
    'an unknown column in an update filter',
    () => planUpdate(notes, q('nope=eq.1'), NONE, { id: 1 }, '{"id":1}'),
    400,
    '42703',
    'column notes.nope does not exist',
  ],
  ['an unknown column in a delete filter', () => planDelete(notes, q('nope=eq.1'), NONE), 400, '42703', 'column notes.nope does not exist'],
  [
    'an unknown body key',
    () => planInsert(notes, q(''), NONE, { nope: 1 }, '{"nope":1}'),
    400,
    'PGRST204',
    "Could not find the 'nope' column of 'notes' in the schema cache",
  ],
  [
    'an unknown columns= name',
    () => planInsert(notes, q('columns=nope'), NONE, {}, '{}'),
    400,
    'PGRST204',
    "Could not find the 'nope' column of 'notes' in the schema cache",
  ],
  [
    'an unknown on_conflict column',
    () => planInsert(notes, q('on_conflict=nope'), { ...NONE, resolution: 'merge-duplicates' }, { id: 1 }, '{"id":1}'),
    400,
    'PGRST204',
    "Could not find the 'nope' column of 'notes' in the schema cache",
  ],
  [
    'an unknown update key',
    () => planUpdate(notes, q(''), NONE, { nope: 1 }, '{"nope":1}'),
    400,
    'PGRST204',
    "Could not find the 'nope' column of 'notes' in the schema cache",
  ],
  [
    'objects with different keys',
    () => planInsert(notes, q(''), NONE, [{ id: 1 }, { title: 'x' }], '[{"id":1},{"title":"x"}]'),
    400,
    'PGRST102',
    'All object keys must match',
  ],
  ['a body that is not an object', () => planInsert(notes, q(''), NONE, [1], '[1]'), 400, 'PGRST102', 'Empty or invalid json'],
  [
    'an update body that is an array',
    () => planUpdate(notes, q(''), NONE, [{ id: 1 }], '[{"id":1}]'),
    400,
    'PGRST102',
    'Empty or invalid json',
  ],
  [
    'a limited update',
    () => planUpdate(notes, q('limit=1'), NONE, { title: 'x' }, '{"title":"x"}'),
    400,
    'PGRST100',
    'limit and offset are not supported on PATCH and DELETE by local-supabase',
  ],
  [
    'a delete with an offset',
    () => planDelete(notes, q('offset=1'), NONE),
    400,
    'PGRST100',
    'limit and offset are not supported on PATCH and DELETE by local-supabase',
  ],
  [
    'a required argument is missing',
    () => planCall(chooseFunction('add', [add], ['b'], false), q(''), NONE, {}, '{}', false),
    404,
    'PGRST202',
    'Could not find the function public.add(b) in the schema cache',
  ],
  [
    'no overload takes these arguments',
    () => planCall(chooseFunction('add', [add], ['z'], true), q(''), NONE, {}, '{}', false),
    404,
    'PGRST202',
    'Could not find the function public.add(z) in the schema cache',
  ],
  [
    'two overloads take them',
    () => planCall(chooseFunction('add', [add, { ...add, args: [add.args[0]] }], ['a'], false), q(''), NONE, {}, '{}', false),
    300,
    'PGRST203',
    'Could not choose the best candidate function between: public.add(a => integer, b => integer), public.add(a => integer)',
  ],
];

describe('request → error', () => {
  test.each(REFUSED)('%s', (_, plan, status, code, message) => {
    expect(plan).toThrow(expect.objectContaining({ status, code, message }));
  });

  test('a function not found says what was searched for, as PostgREST does', () => {
    expect(() => chooseFunction('f', [], ['b', 'a'], true)).toThrow(
      expect.objectContaining({
        message: 'Could not find the function public.f(a, b) in the schema cache',
        details:
          'Searched for the function public.f with parameters a, b or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.',
      }),
    );
    expect(() => chooseFunction('f', [], [], false)).toThrow(
      expect.objectContaining({
        message: 'Could not find the function public.f without parameters in the schema cache',
        details: 'Searched for the function public.f without parameters, but no matches were found in the schema cache.',
      }),
    );
  });
});
