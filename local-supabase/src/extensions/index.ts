// pg_net, pg_cron and Supabase Vault, which every hosted Supabase project offers, with their own
// SQL API, so one set of migrations runs unchanged there and here. Each is an extension whose
// control file and script (local-supabase/sql/extensions) are installed into the embedded
// PostgreSQL's extension directory at every start; pg_net's worker and pg_cron's scheduler run in
// this process.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client, Pool } from 'pg';

export { startCronScheduler } from './pg-cron';
export { startNetWorker } from './pg-net';

const SOURCE_DIR = path.join(__dirname, '..', '..', 'sql', 'extensions');

/**
 * Makes pg_net and pg_cron available to CREATE EXTENSION, and creates Vault, which a Supabase
 * project has before any migration runs. Runs after bootstrap.sql (Vault grants to its roles).
 */
export async function installExtensions(db: Client): Promise<void> {
  const { rows } = await db.query<{ setting: string }>(`select setting from pg_config where name = 'SHAREDIR'`);
  const target = path.join(rows[0].setting, 'extension');
  for (const file of fs.readdirSync(SOURCE_DIR)) {
    try {
      installFile(path.join(SOURCE_DIR, file), path.join(target, file));
    } catch (err) {
      throw new Error(`cannot install ${file} into PostgreSQL's extension directory ${target}: ${(err as Error).message}`);
    }
  }
  await db.query('create extension if not exists supabase_vault');
}

/**
 * Servers starting at once share the directory: each writes a file of its own and renames it into
 * place, so CREATE EXTENSION never reads a half-written file.
 */
function installFile(from: string, to: string): void {
  const content = fs.readFileSync(from);
  if (fs.existsSync(to) && fs.readFileSync(to).equals(content)) return;
  const temporary = `${to}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, content, { mode: 0o644 });
  fs.renameSync(temporary, to);
}

/**
 * The operator of a hosted project stores its URL and service role key in Vault once (the pattern
 * of supabase/supabase apps/docs/content/guides/functions/schedule-functions.mdx);
 * local-supabase stores its own at every start, because its port may change. Locally a secret is
 * the plaintext (see supabase_vault--0.3.1.sql), so the row is written directly.
 */
export async function storeProjectSecrets(db: Pool, url: string, serviceRoleKey: string): Promise<void> {
  await db.query(
    `insert into vault.secrets (name, secret, description)
     values ('project_url', $1, 'local-supabase: this server''s URL'),
            ('service_role_key', $2, 'local-supabase: this server''s service role key')
     on conflict (name) where name is not null do update set secret = excluded.secret, updated_at = now()`,
    [url, serviceRoleKey],
  );
}
