// `npm run gen:types`: regenerates typings/database.types.ts from the migrations with Supabase's
// own generator, the way `supabase gen types typescript --local` does, without Docker.
// `npm run gen:types -- --check` (CI) fails instead of writing when the committed file is stale.
//
// The Supabase CLI runs the postgres-meta image pinned in its release
// (supabase/cli apps/cli-go/pkg/config/templates/Dockerfile: `supabase/postgres-meta:v0.99.0` in
// 2.117.0) as `node dist/server/server.js` with PG_META_GENERATE_TYPES set
// (supabase/cli apps/cli-go/internal/gen/types/types.go). This runs the same server from the npm
// package at that version, against a local-supabase started on a temporary data directory.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPOSED_SCHEMA } from '../local-supabase/src/rest/schema';
import { startLocalSupabase } from '../local-supabase/src/server';

const ROOT = path.join(__dirname, '..');
export const TYPES_FILE = path.join(ROOT, 'typings', 'database.types.ts');
const GENERATOR = path.join(ROOT, 'node_modules', '@supabase', 'postgres-meta', 'dist', 'server', 'server.js');

/** The TypeScript types of the database at dbUrl, exactly as the CLI prints them. */
export function generateTypes(dbUrl: string): Promise<string> {
  const env = {
    ...process.env,
    PG_META_DB_URL: dbUrl,
    PG_META_GENERATE_TYPES: 'typescript',
    // The CLI passes "public" plus config.toml's [api] schemas: what the API exposes.
    PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS: EXPOSED_SCHEMA,
    PG_META_GENERATE_TYPES_DETECT_ONE_TO_ONE_RELATIONSHIPS: 'true',
  };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [GENERATOR], { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`postgres-meta failed (${error.message.split('\n')[0]}):\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Types of the schema the migrations (and seed) in supabaseDir build, on a throwaway database. */
export async function generateTypesFromMigrations(supabaseDir?: string): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-types-'));
  try {
    const server = await startLocalSupabase({ dataDir, port: 0, fast: true, supabaseDir });
    try {
      return await generateTypes(server.dbUrl);
    } finally {
      await server.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Why the committed types differ from the generated ones (the first differing line), or null. */
export function staleness(committed: string | null, generated: string): string | null {
  if (committed === generated) return null;
  if (committed === null) return `${path.relative(ROOT, TYPES_FILE)} does not exist`;
  const want = generated.split('\n');
  const have = committed.split('\n');
  let at = 0;
  while (want[at] === have[at]) at++;
  return (
    `${path.relative(ROOT, TYPES_FILE)} differs from the schema at line ${at + 1}: ` +
    `expected ${JSON.stringify(want[at] ?? '(end of file)')}, found ${JSON.stringify(have[at] ?? '(end of file)')}`
  );
}

async function main() {
  const check = process.argv.includes('--check');
  const generated = await generateTypesFromMigrations();
  const committed = fs.existsSync(TYPES_FILE) ? fs.readFileSync(TYPES_FILE, 'utf8') : null;
  const problem = staleness(committed, generated);
  if (check) {
    if (problem) {
      console.error(`${problem}\nRun \`npm run gen:types\` and commit the result.`);
      process.exit(1);
    }
    console.log(`${path.relative(ROOT, TYPES_FILE)} matches the migrations.`);
  } else if (problem) {
    fs.writeFileSync(TYPES_FILE, generated);
    console.log(`${path.relative(ROOT, TYPES_FILE)} regenerated.`);
  } else {
    console.log(`${path.relative(ROOT, TYPES_FILE)} already matches the migrations.`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
