// The planner as a table, [tree → SQL], in the manner of PostgREST's doctests: each parsed request
// becomes one statement whose values are all bound parameters. Integration suites run these
// statements against Postgres; here the text itself is the contract.
import { parseQuery } from '../local-supabase/src/rest/parse';
import {
  chooseFunction,
  ident,
  literal,
  planCall,
  planDelete,
  planInsert,
  planRead,
  planUpdate,
  type Plan,
  type Preferences,
} from '../local-supabase/src/rest/plan';
import type { Relation, RestFunction } from '../local-supabase/src/rest/schema';

const notes: Relation = {
  name: 'notes',
  primaryKey: ['id'],
  columns: new Map([
    ['id', { name: 'id', type: 'bigint', default: "nextval('notes_id_seq'::regclass)" }],
    ['title', { name: 'title', type: 'text', default: null }],
    ['tags', { name: 'tags', type: 'text[]', default: "'{}'::text[]" }],
  ]),
};
const NONE: Preferences = { representation: false, count: false, missingDefault: false };
const q = (query: string) => parseQuery(new URLSearchParams(query));

const READ_OUTER = (inner: string, total = 'NULL::bigint') =>
  `SELECT count(t) AS page_total, ${total} AS total, NULL::bigint AS inserted, coalesce(json_agg(t), '[]')::text AS body FROM (${inner}) t`;
const WRITE_OUTER = (statement: string, body = 'NULL::text', inserted = 'NULL::bigint') =>
  `WITH pgrst_source AS (${statement}) SELECT count(*) AS page_total, NULL::bigint AS total, ${inserted} AS inserted, ${body} AS body FROM pgrst_source`;
const ALL_ROWS = `(SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT "id", "title", "tags" FROM pgrst_source) t)`;

/** [what, plan, expected sql, expected values] */
const PLANS: Array<[string, () => Plan, string, unknown[]]> = [
  [
    'read everything, capped at db-max-rows',
    () => planRead(notes, q(''), NONE),
    READ_OUTER(`SELECT pgrst_t.* FROM "public"."notes" pgrst_t LIMIT 1000 OFFSET 0`),
    [],
  ],
  [
    'read with every comparison operator',
    () => planRead(notes, q('select=id&id=eq.1&id=neq.2&id=gt.3&id=gte.4&id=lt.5&id=lte.6&title=like.a*&title=ilike.*b'), NONE),
    READ_OUTER(
      `SELECT pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t WHERE pgrst_t."id" = $1 AND pgrst_t."id" <> $2 AND pgrst_t."id" > $3 AND pgrst_t."id" >= $4 AND pgrst_t."id" < $5 AND pgrst_t."id" <= $6 AND pgrst_t."title" LIKE $7 AND pgrst_t."title" ILIKE $8 LIMIT 1000 OFFSET 0`,
    ),
    ['1', '2', '3', '4', '5', '6', 'a%', '%b'],
  ],
  [
    'read with is, in, negation and a nested logic tree',
    () => planRead(notes, q('select=id&tags=is.null&title=not.is.true&or=(id.lt.3,not.and(tags.is.not_null,id.in.(7,8)))'), NONE),
    READ_OUTER(
      `SELECT pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t WHERE pgrst_t."tags" IS NULL AND NOT (pgrst_t."title" IS TRUE) AND (pgrst_t."id" < $1 OR NOT ((pgrst_t."tags" IS NOT NULL AND pgrst_t."id" = ANY($2)))) LIMIT 1000 OFFSET 0`,
    ),
    ['3', ['7', '8']],
  ],
  [
    'read with alias, cast, order, a limit over the cap and an offset',
    () => planRead(notes, q('select=t:title::text,id&order=id.desc.nullslast,title&limit=5000&offset=2'), NONE),
    READ_OUTER(
      `SELECT pgrst_t."title"::text AS "t", pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t ORDER BY pgrst_t."id" DESC NULLS LAST, pgrst_t."title" ASC LIMIT 1000 OFFSET 2`,
    ),
    [],
  ],
  [
    'read with an exact count over the same filters',
    () => planRead(notes, q('select=id&id=gt.1&limit=10'), { ...NONE, count: true }),
    READ_OUTER(
      `SELECT pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t WHERE pgrst_t."id" > $1 LIMIT 10 OFFSET 0`,
      `(SELECT count(*) FROM "public"."notes" pgrst_t WHERE pgrst_t."id" > $1)`,
    ),
    ['1'],
  ],
  [
    'insert one object, returning nothing',
    () => planInsert(notes, q(''), NONE, { title: 'x' }, '{"title":"x"}'),
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("title") SELECT pgrst_body."title" FROM json_to_recordset($1::json) AS pgrst_body("title" text) RETURNING 1`,
    ),
    ['[{"title":"x"}]'],
  ],
  [
    'insert an array with missing=default and columns=, returning the rows',
    () =>
      planInsert(
        notes,
        q('columns=title,tags'),
        { ...NONE, missingDefault: true, representation: true },
        [{ title: 'x' }],
        '[{"title":"x"}]',
      ),
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("title", "tags") SELECT CASE WHEN pgrst_row.obj -> 'title' IS NULL THEN NULL ELSE pgrst_body."title" END, CASE WHEN pgrst_row.obj -> 'tags' IS NULL THEN '{}'::text[] ELSE pgrst_body."tags" END FROM json_array_elements($1::json) AS pgrst_row(obj), json_to_record(pgrst_row.obj) AS pgrst_body("title" text, "tags" text[]) RETURNING pgrst_t.*`,
      ALL_ROWS,
    ),
    ['[{"title":"x"}]'],
  ],
  [
    'upsert merging on on_conflict',
    () =>
      planInsert(notes, q('on_conflict=title'), { ...NONE, resolution: 'merge-duplicates' }, { id: 1, title: 'x' }, '{"id":1,"title":"x"}'),
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("id", "title") SELECT pgrst_body."id", pgrst_body."title" FROM json_to_recordset($1::json) AS pgrst_body("id" bigint, "title" text) ON CONFLICT ("title") DO UPDATE SET "id" = EXCLUDED."id", "title" = EXCLUDED."title" RETURNING 1, (pgrst_t.xmax = 0) AS pgrst_inserted`,
      'NULL::text',
      'count(*) FILTER (WHERE pgrst_inserted)',
    ),
    ['[{"id":1,"title":"x"}]'],
  ],
  [
    'upsert ignoring duplicates of the primary key',
    () => planInsert(notes, q(''), { ...NONE, resolution: 'ignore-duplicates' }, [{ id: 1 }], '[{"id":1}]'),
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("id") SELECT pgrst_body."id" FROM json_to_recordset($1::json) AS pgrst_body("id" bigint) ON CONFLICT ("id") DO NOTHING RETURNING 1, (pgrst_t.xmax = 0) AS pgrst_inserted`,
      'NULL::text',
      'count(*) FILTER (WHERE pgrst_inserted)',
    ),
    ['[{"id":1}]'],
  ],
  [
    'update with a filter',
    () => planUpdate(notes, q('id=eq.1'), NONE, { title: 'y' }, '{"title":"y"}'),
    WRITE_OUTER(
      `UPDATE "public"."notes" AS pgrst_t SET "title" = pgrst_body."title" FROM json_to_record($1::json) AS pgrst_body("title" text) WHERE pgrst_t."id" = $2 RETURNING 1`,
    ),
    ['{"title":"y"}', '1'],
  ],
  [
    'update with an empty object touches nothing',
    () => planUpdate(notes, q('id=eq.1'), NONE, {}, '{}'),
    WRITE_OUTER(`SELECT 1 FROM "public"."notes" AS pgrst_t WHERE false`),
    [],
  ],
  [
    'delete returning the rows',
    () => planDelete(notes, q('id=gte.1'), { ...NONE, representation: true }),
    WRITE_OUTER(`DELETE FROM "public"."notes" AS pgrst_t WHERE pgrst_t."id" >= $1 RETURNING pgrst_t.*`, ALL_ROWS),
    ['1'],
  ],
];

describe('tree → SQL', () => {
  test.each(PLANS)('%s', (_, plan, sql, values) => {
    const planned = plan();
    expect(planned.sql).toBe(sql);
    expect(planned.values).toEqual(values);
  });

  test('reads are read-only and start where the offset says; writes are read-write from 0', () => {
    expect(planRead(notes, q('offset=7'), NONE)).toMatchObject({ readOnly: true, offset: 7, result: 'rows' });
    expect(planDelete(notes, q(''), NONE)).toMatchObject({ readOnly: false, offset: 0, result: 'rows' });
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

describe('function calls', () => {
  test.each<[string, () => Plan, string, unknown[], Partial<Plan>]>([
    [
      'a scalar with named arguments',
      () => planCall(add, q(''), NONE, { a: 1 }, '{"a":1}', false),
      `WITH pgrst_source AS (SELECT pgrst_t AS pgrst_scalar FROM json_to_record($1::json) AS pgrst_args("a" integer), "public"."add"("a" := pgrst_args."a") pgrst_t) ` +
        READ_OUTER(`SELECT pgrst_t."pgrst_scalar" AS "pgrst_scalar" FROM pgrst_source pgrst_t LIMIT 1000 OFFSET 0`).replace(
          'json_agg(t)',
          'json_agg(t.pgrst_scalar)',
        ),
      ['{"a":1}'],
      { readOnly: true, result: 'value' },
    ],
    [
      'a volatile void function, by POST',
      () => planCall(log, q(''), NONE, { msg: 'hi' }, '{"msg":"hi"}', false),
      `WITH pgrst_source AS (SELECT NULL::json AS pgrst_scalar FROM json_to_record($1::json) AS pgrst_args("msg" text), "public"."log"("msg" := pgrst_args."msg") pgrst_t) ` +
        READ_OUTER(`SELECT pgrst_t."pgrst_scalar" AS "pgrst_scalar" FROM pgrst_source pgrst_t LIMIT 1000 OFFSET 0`).replace(
          'json_agg(t)',
          'json_agg(t.pgrst_scalar)',
        ),
      ['{"msg":"hi"}'],
      { readOnly: false, result: 'void' },
    ],
    [
      'one unnamed json parameter takes the whole body',
      () => planCall(echo, q('select=k&k=eq.1'), NONE, { k: 1 }, '{"k":1}', false),
      `WITH pgrst_source AS (SELECT pgrst_t.* FROM "public"."echo"($1::json) pgrst_t) ` +
        READ_OUTER(`SELECT pgrst_t."k" AS "k" FROM pgrst_source pgrst_t WHERE pgrst_t."k" = $2 LIMIT 1000 OFFSET 0`),
      ['{"k":1}', '1'],
      { result: 'value' },
    ],
    [
      'a set of rows, filtered, ordered and paged after the call',
      () => planCall(rows, q('id=gt.1&order=id.desc&limit=2'), NONE, {}, '{}', true),
      `WITH pgrst_source AS (SELECT pgrst_t.* FROM "public"."rows"() pgrst_t) ` +
        READ_OUTER(`SELECT pgrst_t.* FROM pgrst_source pgrst_t WHERE pgrst_t."id" > $1 ORDER BY pgrst_t."id" DESC LIMIT 2 OFFSET 0`),
      ['1'],
      { result: 'rows' },
    ],
  ])('%s', (_, plan, sql, values, fields) => {
    const planned = plan();
    expect(planned.sql).toBe(sql);
    expect(planned.values).toEqual(values);
    expect(planned).toMatchObject(fields);
  });

  test('a volatile function called by GET runs read-only', () => {
    expect(planCall(log, q(''), NONE, { msg: 'hi' }, '{"msg":"hi"}', true)).toMatchObject({ readOnly: true, result: 'void' });
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
    'a NUL in a column name',
    () => planRead({ ...notes, columns: new Map([['a\0b', { name: 'a\0b', type: 'text', default: null }]]) }, q('select=a%00b'), NONE),
    400,
    'PGRST100',
    'identifiers may not contain NUL characters',
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

describe('tree → error', () => {
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

describe('quoting', () => {
  test.each([
    ['plain', '"plain"'],
    ['with "quotes"', '"with ""quotes"""'],
    ['名字', '"名字"'],
  ])('ident(%s)', (name, sql) => expect(ident(name)).toBe(sql));

  test.each([
    ["it's", "'it''s'"],
    ['\\n', "'\\n'"],
  ])('literal(%s)', (value, sql) => expect(literal(value)).toBe(sql));

  test('a NUL byte cannot reach a literal', () => {
    expect(() => literal('a\0b')).toThrow(expect.objectContaining({ code: 'PGRST100' }));
  });
});
