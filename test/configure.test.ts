import fs from 'node:fs';
import path from 'node:path';
import { apiKeys } from '../local-supabase/src/config';
import { keyProblem, rewriteConfig, urlProblem } from '../scripts/configure';

const keys = apiKeys('some-project-secret-some-project-secret');

test('accepts a project URL and an anon key, and rewrites only the two constants', () => {
  expect(urlProblem('https://abc.supabase.co')).toBeNull();
  expect(keyProblem(keys.anonKey)).toBeNull();
  expect(keyProblem('sb_publishable_abc123')).toBeNull();
  const source = fs.readFileSync(path.join(__dirname, '..', 'miniprogram', 'config.ts'), 'utf8');
  const out = rewriteConfig(source, 'https://abc.supabase.co/', keys.anonKey);
  expect(out).toContain("export const SUPABASE_URL = 'https://abc.supabase.co';");
  expect(out).toContain(`  '${keys.anonKey}';`);
  expect(out.replace(/SUPABASE_(URL|ANON_KEY) =[^;]*;/g, '')).toBe(source.replace(/SUPABASE_(URL|ANON_KEY) =[^;]*;/g, ''));
});

test.each([
  ['ftp://abc.supabase.co', 'https://'],
  ['https://abc.supabase.co/rest/v1', 'without a path'],
  ['abc.supabase.co', 'not a URL'],
])('refuses the URL %s', (url, reason) => {
  expect(urlProblem(url)).toContain(reason);
});

test('refuses the service_role key, secret keys and non-keys', () => {
  expect(keyProblem(keys.serviceRoleKey)).toContain('service_role');
  expect(keyProblem('sb_secret_abc')).toContain('secret key');
  expect(keyProblem('hello')).toContain('JWT');
});
