// The migration runner and Postgres lifecycle: restarts apply nothing new, a broken migration
// stops start-up with its file name and the Postgres error, a crashed run is recovered.
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { startServerProcess } from '../bench/server-process';
import { REPO_SUPABASE_DIR } from '../local-supabase/src/server';
import { startTestServer, superuserQuery, tempDir } from './support/server';

function copySupabaseDir(): string {
  const dir = tempDir('supabase-project-');
  fs.cpSync(REPO_SUPABASE_DIR, dir, { recursive: true });
  return dir;
}

async function query<T extends pg.QueryResultRow>(dbUrl: string, sql: string): Promise<T[]> {
  return (await superuserQuery<T>(dbUrl, sql)).rows;
}

test('every migration is named for a moment already past, so `supabase migration new` sorts after it', () => {
  // A future-dated file makes every migration created before that date "inserted before the last
  // migration on remote", which `supabase db push` refuses without --include-all.
  const now = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const files = fs.readdirSync(path.join(REPO_SUPABASE_DIR, 'migrations')).filter((file) => file.endsWith('.sql'));
  expect(files.length).toBeGreaterThan(0);
  expect(files.filter((file) => !/^\d{14}_\w+\.sql$/.test(file) || file.slice(0, 14) > now)).toEqual([]);
});

test('a second start on the same data directory applies nothing new and keeps the data', async () => {
  const dataDir = tempDir();
  try {
    const first = await startTestServer({ dataDir });
    expect(first.migrations.applied).toEqual(fs.readdirSync(path.join(REPO_SUPABASE_DIR, 'migrations')).sort());
    expect(first.migrations.seeded).toBe(true);
    await query(first.dbUrl, `insert into public.rooms (slug, title) values ('kept', '留下')`);
    await first.stop();

    const second = await startTestServer({ dataDir });
    expect(second.migrations).toEqual({ applied: [], seeded: false, bootstrapped: false });
    const rooms = await query<{ slug: string }>(second.dbUrl, 'select slug from public.rooms order by id');
    expect(rooms.map((r) => r.slug)).toEqual(['lobby', 'kept']);
    const versions = await query<{ version: string }>(second.dbUrl, 'select version from supabase_migrations.schema_migrations');
    expect(versions).toHaveLength(first.migrations.applied.length);
    await second.stop();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a new migration added later is applied on the next start, and only it', async () => {
  const dataDir = tempDir();
  const supabaseDir = copySupabaseDir();
  try {
    const first = await startTestServer({ dataDir, supabaseDir });
    await first.stop();
    fs.writeFileSync(path.join(supabaseDir, 'migrations', '29990101000000_add_note.sql'), 'alter table public.rooms add column note text;');
    const second = await startTestServer({ dataDir, supabaseDir });
    expect(second.migrations.applied).toEqual(['29990101000000_add_note.sql']);
    const cols = await query<{ column_name: string }>(
      second.dbUrl,
      `select column_name from information_schema.columns where table_name = 'rooms' and column_name = 'note'`,
    );
    expect(cols).toHaveLength(1);
    await second.stop();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(supabaseDir, { recursive: true, force: true });
  }
});

test('a broken migration stops start-up with the file name and the Postgres error', async () => {
  const supabaseDir = copySupabaseDir();
  fs.writeFileSync(
    path.join(supabaseDir, 'migrations', '29990101000000_broken.sql'),
    'create table public.half_done (id int);\nalter table public.no_such_table add column x int;',
  );
  const dataDir = tempDir();
  try {
    await expect(startTestServer({ dataDir, supabaseDir })).rejects.toThrow(
      /migration 29990101000000_broken\.sql failed: relation "public\.no_such_table" does not exist \[SQLSTATE 42P01\]/,
    );
    // The failed migration's own transaction was rolled back, and Postgres was stopped.
    fs.rmSync(path.join(supabaseDir, 'migrations', '29990101000000_broken.sql'));
    const server = await startTestServer({ dataDir, supabaseDir });
    expect(server.migrations.applied).toEqual([]);
    const tables = await query(server.dbUrl, `select 1 from pg_tables where tablename = 'half_done'`);
    expect(tables).toHaveLength(0);
    await server.stop();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(supabaseDir, { recursive: true, force: true });
  }
});

test('a run killed with SIGKILL leaves nothing that stops the next start', async () => {
  const dataDir = tempDir();
  try {
    // npm start's own process: Node itself, so the SIGKILL below hits the server, not a wrapper.
    const started = await startServerProcess(dataDir);
    const pidFile = path.join(dataDir, 'pg', 'data', 'postmaster.pid');
    expect(fs.existsSync(pidFile)).toBe(true);
    const exited = new Promise((r) => started.child.once('exit', r));
    started.child.kill('SIGKILL');
    await exited;
    // The orphaned postmaster (or its lock file) is still there; the next start must cope.
    expect(fs.existsSync(pidFile)).toBe(true);

    const server = await startTestServer({ dataDir });
    expect(server.migrations.applied).toEqual([]);
    const rows = await query<{ n: number }>(server.dbUrl, 'select count(*)::int as n from public.rooms');
    expect(rows[0].n).toBe(1);
    await server.stop();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 60000);
