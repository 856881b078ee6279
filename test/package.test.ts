// The mini program compiles offline with miniprogram-ci, the vendor bundle included, and its main
// package stays within WeChat's 2 MB limit. The size is printed for the record (bench/size.ts
// tracks it against the tighter 400 KB target).
import fs from 'node:fs';
import path from 'node:path';
import { compileMiniprogram, MAIN_PACKAGE_LIMIT, type CompiledPackage } from '../scripts/compile-miniprogram';

const APP_JSON = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'miniprogram', 'app.json'), 'utf8')) as { pages: string[] };

let compiled: CompiledPackage;

beforeAll(async () => {
  compiled = await compileMiniprogram();
  process.stdout.write(
    `compiled main package: ${compiled.total} bytes in ${Object.keys(compiled.files).length} files ` +
      `(vendor/supabase.js ${compiled.files['vendor/supabase.js']} bytes)\n`,
  );
}, 120000);

it('compiles every page of app.json to JavaScript, WXML and WXSS', () => {
  expect(compiled.files['app.js']).toBeGreaterThan(0);
  for (const page of APP_JSON.pages) {
    for (const ext of ['js', 'wxml', 'wxss', 'json'])
      expect([`${page}.${ext}`, compiled.files[`${page}.${ext}`] > 0]).toEqual([`${page}.${ext}`, true]);
  }
});

it('ships the platform layer and the vendor bundle, and nothing from node_modules', () => {
  expect(compiled.files['platform/supabase.js']).toBeGreaterThan(0);
  expect(compiled.files['vendor/supabase.js']).toBeGreaterThan(100 * 1024);
  expect(Object.keys(compiled.files).filter((file) => file.startsWith('node_modules/'))).toEqual([]);
});

it("stays under WeChat's 2 MB main package limit", () => {
  expect(compiled.total).toBeLessThan(MAIN_PACKAGE_LIMIT);
});
