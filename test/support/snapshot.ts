// A fingerprint of everything a request could change: table rows (as checksums) and the bytes
// under the storage directory. Equal fingerprints mean a request left no trace.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const TABLES = ['public.rooms', 'public.messages', 'storage.buckets', 'storage.objects', 'auth.users', 'auth.sessions'];

export async function databaseFingerprint(dbUrl: string): Promise<Record<string, string>> {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  try {
    const out: Record<string, string> = {};
    for (const table of TABLES) {
      const { rows } = await db.query<{ n: number; sum: string | null }>(
        `select count(*)::int as n, md5(string_agg(t::text, '|' order by t::text)) as sum from ${table} t`,
      );
      out[table] = `${rows[0].n}:${rows[0].sum}`;
    }
    return out;
  } finally {
    await db.end();
  }
}

export function directoryFingerprint(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const full = path.join(d, entry.name);
      hash.update(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
      else hash.update(fs.readFileSync(full));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return hash.digest('hex');
}
