// The renderer as a table, [plan tree → SQL], in the manner of PostgREST's doctests: each action
// becomes one statement whose values are all bound parameters, numbered in the order they appear.
// The trees are written out by hand, so this table holds whatever the planner does; integration
// suites run the statements against Postgres, here the text itself is the contract.
import type { Condition, SelectItem } from '../local-supabase/src/rest/parse';
import type { Action, Page, Returning } from '../local-supabase/src/rest/plan';
import { ident, literal, render } from '../local-supabase/src/rest/render';
import type { Column } from '../local-supabase/src/rest/schema';

const notes = { schema: 'public', name: 'notes' };
const ID: Column = { name: 'id', type: 'bigint', default: "nextval('notes_id_seq'::regclass)" };
const TITLE: Column = { name: 'title', type: 'text', default: null };
const TAGS: Column = { name: 'tags', type: 'text[]', default: "'{}'::text[]" };
const ALL: SelectItem[] = [{ column: '*' }];
const ALL_ROWS: Returning = { select: ALL, keys: ['id', 'title', 'tags'] };

const page = (fields: Partial<Page> = {}): Page => ({ select: ALL, where: [], order: [], limit: 1000, offset: 0, count: false, ...fields });
const filter = (column: string, op: string, value: unknown, negate = false) => ({ kind: 'filter', column, negate, op, value }) as Condition;
const group = (joiner: 'and' | 'or', items: Condition[], negate = false): Condition => ({ kind: 'group', negate, joiner, items });

const READ_OUTER = (inner: string, total = 'NULL::bigint', element = 't') =>
  `SELECT count(t) AS page_total, ${total} AS total, NULL::bigint AS inserted, coalesce(json_agg(${element}), '[]')::text AS body FROM (${inner}) t`;
const WRITE_OUTER = (statement: string, body = 'NULL::text', inserted = 'NULL::bigint') =>
  `WITH pgrst_source AS (${statement}) SELECT count(*) AS page_total, NULL::bigint AS total, ${inserted} AS inserted, ${body} AS body FROM pgrst_source`;
const BODY_OF_ALL_ROWS = `(SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT "id", "title", "tags" FROM pgrst_source) t)`;
const UPSERTED = [', (pgrst_t.xmax = 0) AS pgrst_inserted', 'count(*) FILTER (WHERE pgrst_inserted)'];

/** [what, tree, expected sql, expected values] */
const STATEMENTS: Array<[string, Action, string, unknown[]]> = [
  [
    'read a page',
    { kind: 'read', table: notes, page: page() },
    READ_OUTER(`SELECT pgrst_t.* FROM "public"."notes" pgrst_t LIMIT 1000 OFFSET 0`),
    [],
  ],
  [
    'read with every comparison operator',
    {
      kind: 'read',
      table: notes,
      page: page({
        select: [{ column: 'id' }],
        where: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte']
          .map((op, i) => filter('id', op, String(i + 1)))
          .concat(filter('title', 'like', 'a%'), filter('title', 'ilike', '%b')),
      }),
    },
    READ_OUTER(
      `SELECT pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t WHERE pgrst_t."id" = $1 AND pgrst_t."id" <> $2 AND pgrst_t."id" > $3 AND pgrst_t."id" >= $4 AND pgrst_t."id" < $5 AND pgrst_t."id" <= $6 AND pgrst_t."title" LIKE $7 AND pgrst_t."title" ILIKE $8 LIMIT 1000 OFFSET 0`,
    ),
    ['1', '2', '3', '4', '5', '6', 'a%', '%b'],
  ],
  [
    'read with is, in, negation and a nested logic tree',
    {
      kind: 'read',
      table: notes,
      page: page({
        select: [{ column: 'id' }],
        where: [
          filter('tags', 'is', 'null'),
          filter('title', 'is', 'true', true),
          group('or', [filter('id', 'lt', '3'), group('and', [filter('tags', 'is', 'not_null'), filter('id', 'in', ['7', '8'])], true)]),
        ],
      }),
    },
    READ_OUTER(
      `SELECT pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t WHERE pgrst_t."tags" IS NULL AND NOT (pgrst_t."title" IS TRUE) AND (pgrst_t."id" < $1 OR NOT ((pgrst_t."tags" IS NOT NULL AND pgrst_t."id" = ANY($2)))) LIMIT 1000 OFFSET 0`,
    ),
    ['3', '{"7","8"}'],
  ],
  [
    'an in list is one text[] literal with every element quoted',
    {
      kind: 'read',
      table: notes,
      page: page({ where: [filter('title', 'in', ['a"b', 'c\\d', 'e,f', '', 'NULL']), filter('id', 'in', [])] }),
    },
    READ_OUTER(
      `SELECT pgrst_t.* FROM "public"."notes" pgrst_t WHERE pgrst_t."title" = ANY($1) AND pgrst_t."id" = ANY($2) LIMIT 1000 OFFSET 0`,
    ),
    ['{"a\\"b","c\\\\d","e,f","","NULL"}', '{}'],
  ],
  [
    'read with alias, cast, order with nulls, limit and offset',
    {
      kind: 'read',
      table: notes,
      page: page({
        select: [{ column: 'title', alias: 't', cast: 'text' }, { column: 'id' }],
        order: [
          { column: 'id', descending: true, nulls: 'last' },
          { column: 'title', descending: false },
        ],
        limit: 5,
        offset: 2,
      }),
    },
    READ_OUTER(
      `SELECT pgrst_t."title"::text AS "t", pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t ORDER BY pgrst_t."id" DESC NULLS LAST, pgrst_t."title" ASC LIMIT 5 OFFSET 2`,
    ),
    [],
  ],
  [
    'read with a count over the same filters, sharing their parameters',
    { kind: 'read', table: notes, page: page({ select: [{ column: 'id' }], where: [filter('id', 'gt', '1')], limit: 10, count: true }) },
    READ_OUTER(
      `SELECT pgrst_t."id" AS "id" FROM "public"."notes" pgrst_t WHERE pgrst_t."id" > $1 LIMIT 10 OFFSET 0`,
      `(SELECT count(*) FROM "public"."notes" pgrst_t WHERE pgrst_t."id" > $1)`,
    ),
    ['1'],
  ],
  [
    'insert, returning nothing',
    { kind: 'insert', table: notes, columns: [TITLE], rows: '[{"title":"x"}]', missingDefault: false },
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("title") SELECT pgrst_body."title" FROM json_to_recordset($1::json) AS pgrst_body("title" text) RETURNING 1`,
    ),
    ['[{"title":"x"}]'],
  ],
  [
    'insert with missing keys taking the defaults, returning the rows',
    { kind: 'insert', table: notes, columns: [TITLE, TAGS], rows: '[{"title":"x"}]', missingDefault: true, returning: ALL_ROWS },
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("title", "tags") SELECT CASE WHEN pgrst_row.obj -> 'title' IS NULL THEN NULL ELSE pgrst_body."title" END, CASE WHEN pgrst_row.obj -> 'tags' IS NULL THEN '{}'::text[] ELSE pgrst_body."tags" END FROM json_array_elements($1::json) AS pgrst_row(obj), json_to_record(pgrst_row.obj) AS pgrst_body("title" text, "tags" text[]) RETURNING pgrst_t.*`,
      BODY_OF_ALL_ROWS,
    ),
    ['[{"title":"x"}]'],
  ],
  [
    'insert returning chosen columns under their aliases',
    {
      kind: 'insert',
      table: notes,
      columns: [TITLE],
      rows: '[{"title":"x"}]',
      missingDefault: false,
      returning: { select: [{ column: 'id', alias: 'n' }], keys: ['n'] },
    },
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("title") SELECT pgrst_body."title" FROM json_to_recordset($1::json) AS pgrst_body("title" text) RETURNING pgrst_t."id" AS "n"`,
      `(SELECT coalesce(json_agg(t), '[]')::text FROM (SELECT "n" FROM pgrst_source) t)`,
    ),
    ['[{"title":"x"}]'],
  ],
  [
    'upsert overwriting on a conflict target',
    {
      kind: 'insert',
      table: notes,
      columns: [ID, TITLE],
      rows: '[{"id":1,"title":"x"}]',
      missingDefault: false,
      onConflict: { target: ['title'], update: ['id', 'title'] },
    },
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("id", "title") SELECT pgrst_body."id", pgrst_body."title" FROM json_to_recordset($1::json) AS pgrst_body("id" bigint, "title" text) ON CONFLICT ("title") DO UPDATE SET "id" = EXCLUDED."id", "title" = EXCLUDED."title" RETURNING 1${UPSERTED[0]}`,
      'NULL::text',
      UPSERTED[1],
    ),
    ['[{"id":1,"title":"x"}]'],
  ],
  [
    'upsert ignoring duplicates, on any conflict when there is no target',
    { kind: 'insert', table: notes, columns: [ID], rows: '[{"id":1}]', missingDefault: false, onConflict: { target: [], update: [] } },
    WRITE_OUTER(
      `INSERT INTO "public"."notes" AS pgrst_t ("id") SELECT pgrst_body."id" FROM json_to_recordset($1::json) AS pgrst_body("id" bigint) ON CONFLICT DO NOTHING RETURNING 1${UPSERTED[0]}`,
      'NULL::text',
      UPSERTED[1],
    ),
    ['[{"id":1}]'],
  ],
  [
    'update with a filter: the body is the first parameter',
    { kind: 'update', table: notes, columns: [TITLE], row: '{"title":"y"}', where: [filter('id', 'eq', '1')] },
    WRITE_OUTER(
      `UPDATE "public"."notes" AS pgrst_t SET "title" = pgrst_body."title" FROM json_to_record($1::json) AS pgrst_body("title" text) WHERE pgrst_t."id" = $2 RETURNING 1`,
    ),
    ['{"title":"y"}', '1'],
  ],
  [
    'update of no column touches nothing',
    { kind: 'update', table: notes, columns: [], row: '{}', where: [filter('id', 'eq', '1')], returning: ALL_ROWS },
    WRITE_OUTER(`SELECT pgrst_t.* FROM "public"."notes" AS pgrst_t WHERE false`, BODY_OF_ALL_ROWS),
    [],
  ],
  [
    'delete returning the rows',
    { kind: 'delete', table: notes, where: [filter('id', 'gte', '1')], returning: ALL_ROWS },
    WRITE_OUTER(`DELETE FROM "public"."notes" AS pgrst_t WHERE pgrst_t."id" >= $1 RETURNING pgrst_t.*`, BODY_OF_ALL_ROWS),
    ['1'],
  ],
  [
    'a scalar function with named arguments: the values themselves are collected',
    {
      kind: 'call',
      fn: { schema: 'public', name: 'add' },
      args: { kind: 'named', args: [{ name: 'a', type: 'integer' }], json: '{"a":1}' },
      returns: 'scalar',
      page: page({ select: [{ column: 'pgrst_scalar' }] }),
    },
    `WITH pgrst_source AS (SELECT pgrst_t AS pgrst_scalar FROM json_to_record($1::json) AS pgrst_args("a" integer), "public"."add"("a" := pgrst_args."a") pgrst_t) ` +
      READ_OUTER(
        `SELECT pgrst_t."pgrst_scalar" AS "pgrst_scalar" FROM pgrst_source pgrst_t LIMIT 1000 OFFSET 0`,
        'NULL::bigint',
        't.pgrst_scalar',
      ),
    ['{"a":1}'],
  ],
  [
    'a void function without arguments',
    {
      kind: 'call',
      fn: { schema: 'public', name: 'tick' },
      args: { kind: 'named', args: [], json: '{}' },
      returns: 'void',
      page: page({ select: [{ column: 'pgrst_scalar' }] }),
    },
    `WITH pgrst_source AS (SELECT NULL::json AS pgrst_scalar FROM "public"."tick"() pgrst_t) ` +
      READ_OUTER(
        `SELECT pgrst_t."pgrst_scalar" AS "pgrst_scalar" FROM pgrst_source pgrst_t LIMIT 1000 OFFSET 0`,
        'NULL::bigint',
        't.pgrst_scalar',
      ),
    [],
  ],
  [
    'the whole body as the one json argument, then filtered, ordered, paged and counted',
    {
      kind: 'call',
      fn: { schema: 'public', name: 'echo' },
      args: { kind: 'body', type: 'jsonb', json: '{"k":1}' },
      returns: 'composite',
      page: page({
        select: [{ column: 'k' }],
        where: [filter('k', 'eq', '1')],
        order: [{ column: 'k', descending: true }],
        limit: 2,
        count: true,
      }),
    },
    `WITH pgrst_source AS (SELECT pgrst_t.* FROM "public"."echo"($1::jsonb) pgrst_t) ` +
      READ_OUTER(
        `SELECT pgrst_t."k" AS "k" FROM pgrst_source pgrst_t WHERE pgrst_t."k" = $2 ORDER BY pgrst_t."k" DESC LIMIT 2 OFFSET 0`,
        `(SELECT count(*) FROM pgrst_source pgrst_t WHERE pgrst_t."k" = $2)`,
      ),
    ['{"k":1}', '1'],
  ],
];

describe('tree → SQL', () => {
  test.each(STATEMENTS)('%s', (_, action, text, values) => {
    expect(render(action)).toEqual({ text, values });
  });

  test.each<[string, Action]>([
    ['a column', { kind: 'read', table: notes, page: page({ select: [{ column: 'a\0b' }] }) }],
    ['a table', { kind: 'delete', table: { schema: 'public', name: 'a\0b' }, where: [] }],
  ])('a NUL in %s name is refused, not sent', (_, action) => {
    expect(() => render(action)).toThrow(
      expect.objectContaining({ status: 400, code: 'PGRST100', message: 'identifiers may not contain NUL characters' }),
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
