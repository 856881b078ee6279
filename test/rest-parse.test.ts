// The query-string grammar as a table, [query string → tree or error], in the manner of the
// doctests of PostgREST's src/library/PostgREST/ApiRequest/QueryParams.hs. No server: the parser
// knows neither SQL nor the schema.
import { MAX_LOGIC_DEPTH, parseQuery, splitTopLevel, type Condition, type QueryParams } from '../local-supabase/src/rest/parse';

const DEFAULTS: QueryParams = { select: [{ column: '*' }], where: [], order: [], args: {} };

const filter = (column: string, op: string, value: unknown, negate = false) => ({ kind: 'filter', column, negate, op, value }) as Condition;
const group = (joiner: 'and' | 'or', items: Condition[], negate = false): Condition => ({ kind: 'group', negate, joiner, items });

/** [query string, the parsed tree's fields that differ from the defaults] */
const TREES: Array<[string, Partial<QueryParams>]> = [
  ['', {}],
  ['select=', {}],
  ['select=id,name', { select: [{ column: 'id' }, { column: 'name' }] }],
  ['select=*,n:name', { select: [{ column: '*' }, { column: 'name', alias: 'n' }] }],
  [
    'select=id::text,total:amount::numeric[]',
    {
      select: [
        { column: 'id', cast: 'text' },
        { column: 'amount', alias: 'total', cast: 'numeric[]' },
      ],
    },
  ],
  ['select="a,b","x\\"y":"c:d"', { select: [{ column: 'a,b' }, { column: 'c:d', alias: 'x"y' }] }],
  ['order=id.desc', { order: [{ column: 'id', descending: true }] }],
  [
    'order=id.desc.nullslast,name,at.asc.nullsfirst',
    {
      order: [
        { column: 'id', descending: true, nulls: 'last' },
        { column: 'name', descending: false },
        { column: 'at', descending: false, nulls: 'first' },
      ],
    },
  ],
  ['order=', {}],
  ['limit=0&offset=15', { limit: 0, offset: 15 }],
  // A negative limit is PostgREST's 416 (NegativeLimit), decided with the Range header, not a parse error.
  ['limit=-1', { limit: -1 }],
  ['columns=a,"b,c"&on_conflict=a', { columns: ['a', 'b,c'], onConflict: ['a'] }],
  // Repeated: the first select, columns and on_conflict count (PostgREST's lookupParam); the last order and limit.
  [
    'select=id&select=name,(&columns=a&columns=b&on_conflict=a&on_conflict=b&order=id&order=name.desc&limit=5&limit=7',
    { select: [{ column: 'id' }], columns: ['a'], onConflict: ['a'], order: [{ column: 'name', descending: true }], limit: 7 },
  ],
  ['id=eq.5', { where: [filter('id', 'eq', '5')] }],
  ['id=not.gte.5', { where: [filter('id', 'gte', '5', true)] }],
  ['name=eq.a.b.c', { where: [filter('name', 'eq', 'a.b.c')] }],
  ['name=eq."quoted"', { where: [filter('name', 'eq', '"quoted"')] }],
  ['name=like.a*b*', { where: [filter('name', 'like', 'a%b%')] }],
  ['name=ilike.*X', { where: [filter('name', 'ilike', '%X')] }],
  ['name=eq.a*b', { where: [filter('name', 'eq', 'a*b')] }],
  ['id=in.(1,2,"3,4","a\\"b")', { where: [filter('id', 'in', ['1', '2', '3,4', 'a"b'])] }],
  ['id=in.()', { where: [filter('id', 'in', [])] }],
  ['id=not.in.(1)', { where: [filter('id', 'in', ['1'], true)] }],
  ['flag=is.TRUE&note=is.not_null', { where: [filter('flag', 'is', 'true'), filter('note', 'is', 'not_null')] }],
  ['id=gt.1&id=lt.9', { where: [filter('id', 'gt', '1'), filter('id', 'lt', '9')] }],
  ['or=(id.eq.1,name.eq."a,b")', { where: [group('or', [filter('id', 'eq', '1'), filter('name', 'eq', 'a,b')])] }],
  [
    'not.and=(id.gt.1,or(id.lt.0,name.is.null),not.or(a.eq.1))',
    {
      where: [
        group(
          'and',
          [
            filter('id', 'gt', '1'),
            group('or', [filter('id', 'lt', '0'), filter('name', 'is', 'null')]),
            group('or', [filter('a', 'eq', '1')], true),
          ],
          true,
        ),
      ],
    },
  ],
  ['not.or=(id.eq.1,id.eq.2)', { where: [group('or', [filter('id', 'eq', '1'), filter('id', 'eq', '2')], true)] }],
  ['and=(id.eq.1)&or=(id.eq.2)', { where: [group('and', [filter('id', 'eq', '1')]), group('or', [filter('id', 'eq', '2')])] }],
  ['or=("a.b".eq.1,c.like.*x)', { where: [group('or', [filter('a.b', 'eq', '1'), filter('c', 'like', '%x')])] }],
  // Whitespace around names is dropped, as PostgREST's pIdentifier and lexeme drop it (postgrest-js
  // passes .or('id.eq.1, name.eq.x') and onConflict through as written); a value keeps its own.
  [
    'select=id,%20name,%09n%20:%20at%20,%20"a b"',
    { select: [{ column: 'id' }, { column: 'name' }, { column: 'at', alias: 'n' }, { column: 'a b' }] },
  ],
  [
    'order=score.desc,%20id',
    {
      order: [
        { column: 'score', descending: true },
        { column: 'id', descending: false },
      ],
    },
  ],
  ['columns=a,%20b&on_conflict=a,%09b', { columns: ['a', 'b'], onConflict: ['a', 'b'] }],
  [
    'or=(id.eq.1,%20name.eq.a b%20,%09and(%20id.gt.2))',
    { where: [group('or', [filter('id', 'eq', '1'), filter('name', 'eq', 'a b '), group('and', [filter('id', 'gt', '2')])])] },
  ],
];

describe('query string → tree', () => {
  test.each(TREES)('%s', (query, fields) => {
    expect(parseQuery(new URLSearchParams(query))).toEqual({ ...DEFAULTS, ...fields });
  });

  test('RPC arguments are taken out of the filters when the function names them', () => {
    const isArg = (key: string) => key === 'a' || key === 'b';
    expect(parseQuery(new URLSearchParams('a=1&b=eq.2&c=eq.3&select=x'), isArg)).toEqual({
      ...DEFAULTS,
      select: [{ column: 'x' }],
      where: [filter('c', 'eq', '3')],
      args: { a: '1', b: 'eq.2' },
    });
  });

  test(`and/or groups nest ${MAX_LOGIC_DEPTH} deep`, () => {
    let tree = 'id.eq.1';
    for (let depth = 2; depth <= MAX_LOGIC_DEPTH; depth++) tree = `${depth % 2 ? 'or' : 'not.and'}(${tree})`;
    let parsed = parseQuery(new URLSearchParams({ or: `(${tree})` })).where[0];
    let depth = 1;
    while (parsed.kind === 'group') {
      parsed = parsed.items[0];
      depth++;
    }
    expect([depth - 1, parsed]).toEqual([MAX_LOGIC_DEPTH, filter('id', 'eq', '1')]);
  });
});

/** [query string, code, message] of the PostgREST error the parser raises (all 400). */
const ERRORS: Array<[string, string, string]> = [
  ['select=id,(', 'PGRST100', '"failed to parse select (id,()" (line 1, column 1)'],
  ['select=a(b)', 'PGRST100', '"failed to parse select (a(b))" (line 1, column 1)'],
  ['select=n:*', 'PGRST100', '"failed to parse select (n:*)" (line 1, column 1)'],
  ['select=*::text', 'PGRST100', '"failed to parse select (*::text)" (line 1, column 1)'],
  ['select=a:b:c', 'PGRST100', '"failed to parse select (a:b:c)" (line 1, column 1)'],
  ['select=id::bad-type', 'PGRST100', '"failed to parse select (id::bad-type)" (line 1, column 1)'],
  ['order=id.sideways', 'PGRST100', '"failed to parse order (id.sideways)" (line 1, column 1)'],
  ['order=id.nullslast.desc', 'PGRST100', '"failed to parse order (id.nullslast.desc)" (line 1, column 1)'],
  ['order="id', 'PGRST100', '"failed to parse order ("id)" (line 1, column 1)'],
  ['limit=ten', 'PGRST100', '"failed to parse limit parameter (ten)" (line 1, column 1)'],
  ['offset=1e3', 'PGRST100', '"failed to parse offset parameter (1e3)" (line 1, column 1)'],
  ['limit=1234567890123456', 'PGRST100', '"failed to parse limit parameter (1234567890123456)" (line 1, column 1)'],
  ['columns=a,,b', 'PGRST100', '"failed to parse columns (a,,b)" (line 1, column 1)'],
  ['on_conflict=', 'PGRST100', '"failed to parse on_conflict ()" (line 1, column 1)'],
  ['id=noop.1', 'PGRST100', '"failed to parse filter (noop.1)" (line 1, column 1)'],
  ['id=eq', 'PGRST100', '"failed to parse filter (eq)" (line 1, column 1)'],
  ['id=not.eq', 'PGRST100', '"failed to parse filter (not.eq)" (line 1, column 1)'],
  ['id=is.maybe', 'PGRST100', '"failed to parse filter (is.maybe)" (line 1, column 1)'],
  ['id=in.1,2', 'PGRST100', '"failed to parse filter (in.1,2)" (line 1, column 1)'],
  ['id=in.(1,"2)', 'PGRST100', '"failed to parse filter (in.(1,"2))" (line 1, column 1)'],
  ['or=id.eq.1', 'PGRST100', '"failed to parse logic tree (or=id.eq.1)" (line 1, column 1)'],
  ['or=(id.eq.1', 'PGRST100', '"failed to parse logic tree (or=(id.eq.1)" (line 1, column 1)'],
  ['or=(id.eq.1,)', 'PGRST100', '"failed to parse logic tree (or=(id.eq.1,))" (line 1, column 1)'],
  ['and=(nodot)', 'PGRST100', '"failed to parse logic tree (nodot)" (line 1, column 1)'],
  ['or=(and(id.eq.1,))', 'PGRST100', '"failed to parse logic tree (and=(id.eq.1,))" (line 1, column 1)'],
  ['or=(id.eq.1,x.nope.2)', 'PGRST100', '"failed to parse filter (nope.2)" (line 1, column 1)'],
];

describe('query string → error', () => {
  test.each(ERRORS)('%s', (query, code, message) => {
    expect(() => parseQuery(new URLSearchParams(query))).toThrow(expect.objectContaining({ status: 400, code, message }));
  });

  test.each([
    ['alternating and/or', (d: number) => (d % 2 ? 'or' : 'and')],
    ['the same joiner', () => 'or'],
    ['negated groups', () => 'not.and'],
  ])(`a logic tree nested deeper than ${MAX_LOGIC_DEPTH} (%s) is refused, however deep`, (_, joiner) => {
    for (const extra of [1, 2, 3000]) {
      let tree = 'id.eq.1';
      for (let depth = 2; depth <= MAX_LOGIC_DEPTH + extra; depth++) tree = `${joiner(depth)}(${tree})`;
      expect(() => parseQuery(new URLSearchParams({ or: `(${tree})` }))).toThrow(
        expect.objectContaining({ status: 400, code: 'PGRST100', details: `and/or groups nest at most ${MAX_LOGIC_DEPTH} deep` }),
      );
    }
  });
});

describe('splitTopLevel', () => {
  test.each([
    ['a,b', ['a', 'b']],
    ['a,(b,c),d', ['a', '(b,c)', 'd']],
    ['"a,b",c', ['"a,b"', 'c']],
    ['"a\\",b",c', ['"a\\",b"', 'c']],
    ['', ['']],
    ['a,', ['a', '']],
    ['(a', undefined],
    ['a)', undefined],
    ['"a', undefined],
    [')(', undefined],
  ])('%s', (text, parts) => {
    expect(splitTopLevel(text)).toEqual(parts);
  });
});
