// `npm run configure -- --url https://<ref>.supabase.co --key <anon key>`: points the mini
// program at a backend by rewriting the two constants in miniprogram/config.ts.
import fs from 'node:fs';
import path from 'node:path';

const CONFIG = path.join(__dirname, '..', 'miniprogram', 'config.ts');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Why a URL cannot be the backend's base URL, or null when it can. */
export function urlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not a URL: ${value}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'the URL must start with https:// (or http:// for a local stack)';
  if (url.pathname !== '/' || url.search || url.hash) return 'give the project URL only, without a path (e.g. https://abc.supabase.co)';
  return null;
}

/** The anon key is a JWT whose role is anon, or one of Supabase's newer publishable keys. */
export function keyProblem(key: string): string | null {
  if (key.startsWith('sb_publishable_')) return null;
  if (key.startsWith('sb_secret_')) return 'that is a secret key: never ship it in the mini program; use the anon/publishable key';
  const parts = key.split('.');
  if (parts.length !== 3) return 'the anon key should be a JWT (three dot-separated parts) or an sb_publishable_ key';
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (claims.role === 'service_role') return 'that is the service_role key: it bypasses RLS and must never ship in the app';
    if (claims.role !== 'anon') return `the key's role is ${JSON.stringify(claims.role)}, expected "anon"`;
  } catch {
    return 'the anon key is not a readable JWT';
  }
  return null;
}

export function rewriteConfig(source: string, url: string, key: string): string {
  return source
    .replace(/export const SUPABASE_URL = '[^']*';/, `export const SUPABASE_URL = '${url.replace(/\/$/, '')}';`)
    .replace(/export const SUPABASE_ANON_KEY =\s*'[^']*';/, `export const SUPABASE_ANON_KEY =\n  '${key}';`);
}

function main() {
  const url = option('url');
  const key = option('key');
  if (!url || !key) {
    console.error('usage: npm run configure -- --url https://<ref>.supabase.co --key <anon key>');
    process.exit(2);
  }
  const problem = urlProblem(url) ?? keyProblem(key);
  if (problem) {
    console.error(`not changed: ${problem}`);
    process.exit(1);
  }
  fs.writeFileSync(CONFIG, rewriteConfig(fs.readFileSync(CONFIG, 'utf8'), url, key));
  console.log(`miniprogram/config.ts now points at ${url}. Whitelist its domain for production (see README).`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) main();
