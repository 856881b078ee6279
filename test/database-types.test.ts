// The generated database types (typings/database.types.ts, `npm run gen:types`): postgres-meta
// follows the schema, a stale file is reported at its first wrong line, and the kinds the core
// narrows `messages.kind` to are exactly those the database's CHECK allows.
import { generateTypes, staleness } from '../scripts/gen-types';
import type { MessageKind } from '../miniprogram/core/types';
import { startTestServer, superuserQuery, type TestServer } from './support/server';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.stop();
});

it('MessageKind lists exactly the kinds the messages table accepts', async () => {
  // A record over the union: adding or removing a kind in the type breaks this line at typecheck.
  const kinds: Record<MessageKind, true> = { text: true, action: true, ooc: true, roll: true, image: true };
  const { rows } = await superuserQuery<{ definition: string }>(
    server.dbUrl,
    `select pg_get_constraintdef(c.oid) as definition
       from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      where c.conrelid = 'public.messages'::regclass and c.contype = 'c'
        and cardinality(c.conkey) = 1 and a.attname = 'kind'`,
  );
  expect(rows).toHaveLength(1);
  const allowed = [...rows[0].definition.matchAll(/'([^']*)'::text/g)].map((match) => match[1]);
  expect(allowed.sort()).toEqual(Object.keys(kinds).sort());
});

it('regenerates from the live schema, and a changed schema makes the old file stale at the changed line', async () => {
  const before = await generateTypes(server.dbUrl);
  expect(before).toContain('export type Database = {');
  expect(staleness(before, before)).toBeNull();

  await superuserQuery(server.dbUrl, 'alter table public.rooms add column mood text');
  const after = await generateTypes(server.dbUrl);
  const moodLine = after.split('\n').indexOf('          mood: string | null') + 1;
  expect(moodLine).toBeGreaterThan(0);
  expect(staleness(before, after)).toBe(
    `typings/database.types.ts differs from the schema at line ${moodLine}: ` +
      `expected "          mood: string | null", found ${JSON.stringify(before.split('\n')[moodLine - 1])}`,
  );
  expect(staleness(null, after)).toBe('typings/database.types.ts does not exist');
}, 60000);

it("fails with the generator's own error when the database cannot be reached", async () => {
  await expect(generateTypes('postgres://postgres:wrong@127.0.0.1:1/postgres')).rejects.toThrow(/postgres-meta failed[\s\S]*ECONNREFUSED/);
}, 60000);
