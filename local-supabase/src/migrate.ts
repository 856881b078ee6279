// Applies supabase/migrations/*.sql in order, each in its own transaction, recording applied
// versions in supabase_migrations.schema_migrations as the Supabase CLI does; seed.sql runs once,
// right after the first migrations of a fresh database, and is recorded in
// supabase_migrations.seed_files as the CLI records it (supabase/cli apps/cli-go/pkg/migration:
// history.go and file.go NewSeedFile), so `supabase db push --include-seed` knows it ran.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { installExtensions } from './extensions';

export interface MigrationResult {
  applied: string[];
  seeded: boolean;
  bootstrapped: boolean;
}

export class MigrationError extends Error {}

const BOOTSTRAP_SQL = path.join(__dirname, '..', 'sql', 'bootstrap.sql');
const MIGRATION_NAME = /^(\d+)_(.+)\.sql$/;

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export async function migrate(db: Client, supabaseDir: string, rolePassword: string): Promise<MigrationResult> {
  const bootstrapped = !(await db.query(`select 1 from pg_namespace where nspname = 'supabase_migrations'`)).rowCount;
  if (bootstrapped) {
    const sql = fs.readFileSync(BOOTSTRAP_SQL, 'utf8').replaceAll(":'password'", literal(rolePassword));
    await inTransaction(db, sql, 'local-supabase bootstrap');
  }
  await installExtensions(db);

  const dir = path.join(supabaseDir, 'migrations');
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.sql'))
        .sort()
    : [];
  const done = new Set(
    (await db.query<{ version: string }>('select version from supabase_migrations.schema_migrations')).rows.map((r) => r.version),
  );
  const fresh = done.size === 0;
  const applied: string[] = [];
  for (const file of files) {
    const match = MIGRATION_NAME.exec(file);
    if (!match) throw new MigrationError(`migration ${file}: the name must be <timestamp>_<name>.sql`);
    const [, version, name] = match;
    if (done.has(version)) continue;
    const sql = fs.readFileSync(path.join(dir, file), 'utf8');
    await inTransaction(
      db,
      `${sql}\n;insert into supabase_migrations.schema_migrations (version, name, statements) values (${literal(version)}, ${literal(name)}, array[${literal(sql)}]);`,
      `migration ${file}`,
    );
    applied.push(file);
  }

  const seedFile = path.join(supabaseDir, 'seed.sql');
  const seeded = fresh && applied.length > 0 && fs.existsSync(seedFile);
  if (seeded) {
    const seed = fs.readFileSync(seedFile);
    // The CLI's key: the path from the project root with its fixed `supabase` folder, and the
    // SHA-256 of the file's bytes in hex.
    const hash = createHash('sha256').update(seed).digest('hex');
    await inTransaction(
      db,
      `${seed.toString('utf8')}\n;${SEED_TABLE_SQL};insert into supabase_migrations.seed_files (path, hash) values (${literal(SEED_PATH)}, ${literal(hash)})`,
      'seed.sql',
    );
  }
  return { applied, seeded, bootstrapped };
}

const SEED_PATH = 'supabase/seed.sql';
/** The CLI's own statement: databases bootstrapped before seeds were recorded lack the table. */
const SEED_TABLE_SQL = 'create table if not exists supabase_migrations.seed_files (path text not null primary key, hash text not null)';

async function inTransaction(db: Client, sql: string, what: string): Promise<void> {
  await db.query('begin');
  try {
    await db.query(sql);
    await db.query('commit');
  } catch (err) {
    await db.query('rollback');
    const e = err as { message: string; code?: string; position?: string };
    const where = e.position ? ` (at character ${e.position})` : '';
    throw new MigrationError(`${what} failed: ${e.message}${e.code ? ` [SQLSTATE ${e.code}]` : ''}${where}`);
  }
}
