// The real Supabase CLI (npm `supabase`, pinned in package.json) against a test server's database,
// the way a developer points it at any Postgres with --db-url: its migration history, its seed
// record and its advisors must agree with local-supabase's runner and bootstrap.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { npmStartArgs } from '../bench/server-process';
import { freePort } from '../local-supabase/src/ports';
import { REPO_SUPABASE_DIR } from '../local-supabase/src/server';
import { client, startTestServer, superuserQuery, tempDir, type TestServer } from './support/server';
import { waitFor } from './support/wait';

const REPO = path.join(__dirname, '..');
const CLI = path.join(REPO, 'node_modules', '.bin', 'supabase');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A program in the project folder, `input` on its stdin; no telemetry leaves the machine. */
function run(file: string, args: string[], input: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      [...args, '--workdir', project],
      { cwd: REPO, env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }, timeout: 60000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
    child.stdin!.end(input);
  });
}

/** The CLI itself. */
const supabase = (args: string[], input = '') => run(CLI, args, input);
/** One of package.json's scripts, as a developer runs it: `npm run db:push -- <args>`. */
const script = (name: string, args: string[], input = '') => run('npm', ['run', '--silent', name, '--', ...args], input);

/** The JSON output (--output-format json) of a command that must succeed. */
async function json<T>(pending: Promise<Run>): Promise<T> {
  const done = await pending;
  expect([done.code, done.stderr]).toEqual([0, expect.any(String)]);
  return JSON.parse(done.stdout) as T;
}

interface MigrationList {
  migrations: Array<{ local: string; remote: string }>;
}

let project: string;
let dataDir: string;
let server: TestServer;
const migrationsDir = () => path.join(project, 'supabase', 'migrations');
const versions = () =>
  fs
    .readdirSync(migrationsDir())
    .map((f) => f.split('_')[0])
    .sort();
const query = async <T extends object>(sql: string) => (await superuserQuery<T & Record<string, unknown>>(server.dbUrl, sql)).rows;

beforeAll(async () => {
  project = tempDir('supabase-cli-project-');
  fs.cpSync(REPO_SUPABASE_DIR, path.join(project, 'supabase'), { recursive: true });
  dataDir = tempDir();
  server = await startTestServer({ dataDir, supabaseDir: path.join(project, 'supabase') });
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(project, { recursive: true, force: true });
});

/** `npm start`'s process with `args`; resolves with its banner, or with its exit code and output. */
function startCli(args: string[]): Promise<{ banner?: string; code?: number | null; output: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...npmStartArgs(), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGINT');
    await exited;
  };
  return new Promise((resolve) => {
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Press Ctrl-C to stop.')) resolve({ banner: output, output, stop });
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    void exited.then((code) => resolve({ code, output, stop }));
  });
}

test("npm start's banner gives, on the --db-port asked for, a database URL the CLI connects with", async () => {
  const dbPort = await freePort();
  const data = tempDir();
  const started = await startCli(['--data', data, '--port', '0', '--db-port', String(dbPort), '--wechat-port', '0']);
  try {
    const url = /database\s+(\S+)/.exec(started.banner ?? '')?.[1] ?? '';
    expect(url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${dbPort}/postgres\\?sslmode=disable$`));
    const listed = await json<MigrationList>(supabase(['migration', 'list', '--db-url', url, '--output-format', 'json']));
    expect(listed.migrations.map((m) => m.remote)).toEqual(versions());
  } finally {
    await started.stop();
    fs.rmSync(data, { recursive: true, force: true });
  }
}, 60000);

const BAD_PORTS = ['--db-port', '--wechat-port'].flatMap((option) => ['abc', '-1', '70000', ''].map((port) => [option, port]));

test.each(BAD_PORTS)('%s %p is refused with the usage line', async (option, port) => {
  const started = await startCli([option, port]);
  expect([started.code, started.output]).toEqual([
    2,
    expect.stringContaining(`${option} must be a port number from 0 to 65535, not "${port}"`),
  ]);
});

test('migration list: every migration the runner applied is in the history the CLI reads', async () => {
  const listed = await json<MigrationList>(supabase(['migration', 'list', '--db-url', server.dbUrl, '--output-format', 'json']));
  expect(listed.migrations).toEqual(versions().map((v) => ({ local: v, remote: v, time: expect.any(String) })));
});

test('the seed is recorded as the CLI records it: db push --include-seed finds nothing to do', async () => {
  const seed = fs.readFileSync(path.join(project, 'supabase', 'seed.sql'));
  expect(await query('select path, hash from supabase_migrations.seed_files')).toEqual([
    { path: 'supabase/seed.sql', hash: createHash('sha256').update(seed).digest('hex') },
  ]);
  const push = await json<{ upToDate: boolean; seeds: unknown[] }>(
    script('db:push', ['--db-url', server.dbUrl, '--include-seed', '--yes', '--output-format', 'json']),
  );
  expect(push).toMatchObject({ upToDate: true, seeds: [] });
  expect(await query('select slug from public.rooms')).toEqual([{ slug: 'lobby' }]);
});

test('db push applies a new migration: REST serves it at once, and the runner applies nothing after a restart', async () => {
  // `migration new` writes what it reads on stdin into the new file.
  const created = await script('migration:new', ['add_room_note'], 'alter table public.rooms add column note text;\n');
  expect(created.code).toBe(0);
  const [file] = fs.readdirSync(migrationsDir()).filter((f) => f.endsWith('_add_room_note.sql'));
  expect(fs.readFileSync(path.join(migrationsDir(), file), 'utf8')).toBe('alter table public.rooms add column note text;\n');

  const push = await script('db:push', ['--db-url', server.dbUrl, '--yes']);
  expect([push.code, push.stderr]).toEqual([0, expect.stringContaining(`Applying migration ${file}...`)]);
  const [version, name] = [file.split('_')[0], 'add_room_note'];
  expect(await query(`select version, name from supabase_migrations.schema_migrations order by version`)).toEqual(
    versions().map((v) => (v === version ? { version, name } : { version: v, name: expect.any(String) })),
  );
  // The event triggers told the schema cache: no restart needed.
  const sb = client(server, { key: server.serviceRoleKey });
  await waitFor('rooms.note through REST', async () => (await sb.from('rooms').select('note')).status === 200);
  expect((await sb.from('rooms').select('slug, note')).data).toEqual([{ slug: 'lobby', note: null }]);

  // A migration only local-supabase applies, next to the one only the CLI applied.
  fs.writeFileSync(
    path.join(migrationsDir(), '29990101000000_index_room_titles.sql'),
    'create index rooms_title_idx on public.rooms (title);\n',
  );
  await server.stop();
  server = await startTestServer({ dataDir, supabaseDir: path.join(project, 'supabase') });
  expect(server.migrations).toEqual({ applied: ['29990101000000_index_room_titles.sql'], seeded: false, bootstrapped: false });

  const listed = await json<MigrationList>(supabase(['migration', 'list', '--db-url', server.dbUrl, '--output-format', 'json']));
  expect(listed.migrations.map((m) => [m.local, m.remote])).toEqual(versions().map((v) => [v, v]));
  expect(
    await json(supabase(['db', 'push', '--db-url', server.dbUrl, '--include-seed', '--dry-run', '--yes', '--output-format', 'json'])),
  ).toMatchObject({
    upToDate: true,
  });
}, 60000);

test("extensions has what a Supabase project's has (and the pg_net the app's migrations add), pg_stat_statements loaded", async () => {
  expect(
    await query(
      `select e.extname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where n.nspname = 'extensions' order by 1`,
    ),
  ).toEqual([{ extname: 'pg_net' }, { extname: 'pg_stat_statements' }, { extname: 'pgcrypto' }, { extname: 'uuid-ossp' }]);
  expect(
    await query(
      `select extensions.uuid_generate_v4() is not null as uuid, (select count(*) from extensions.pg_stat_statements) > 0 as stats`,
    ),
  ).toEqual([{ uuid: true, stats: true }]);
});

describe('db advisors', () => {
  // The lints for exposed schemas read pgrst.db_schemas; a session of the CLI's stack has none, so
  // it is passed here to let them check public too.
  const advisorsUrl = () => `${server.dbUrl}&options=-c%20pgrst.db_schemas%3Dpublic`;
  interface Lint {
    name: string;
    level: string;
    detail: string;
  }

  test('find nothing at WARN or above in local-supabase and the app', async () => {
    const done = await script('db:advisors', ['--db-url', advisorsUrl(), '--level', 'warn', '--output-format', 'json']);
    expect([done.code, JSON.parse(done.stdout).results]).toEqual([0, []]);
  });

  test('do flag a function with a mutable search_path and a table without RLS', async () => {
    await superuserQuery(
      server.dbUrl,
      `create function public.loose() returns int language sql as 'select 1'; create table public.open_table (id int primary key);`,
    );
    try {
      const done = await script('db:advisors', ['--db-url', advisorsUrl(), '--level', 'warn', '--output-format', 'json']);
      const lints: Lint[] = JSON.parse(done.stdout).results;
      // The script fails on a warning, so a deploy stops on one.
      expect(done.code).not.toBe(0);
      expect(lints.map((l) => [l.name, l.detail]).sort()).toEqual([
        ['function_search_path_mutable', 'Function `public.loose` has a role mutable search_path'],
        ['rls_disabled_in_public', 'Table `public.open_table` is public, but RLS has not been enabled.'],
      ]);
    } finally {
      await superuserQuery(server.dbUrl, `drop function public.loose(); drop table public.open_table;`);
    }
  });
});
