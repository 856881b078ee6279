// package.json's `engines` says which Node the project runs on, and the README's Node section says
// why. These keep both true: the Node running the suites is one it declares, and every installed
// package accepts every release line it declares, with one documented exception.
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const declared: string = pkg.engines.node;

/** Each release line the range allows, as its own range (">=20.19.0 <21.0.0-0", ...). */
const lines = new semver.Range(declared).set.map((comparators) => comparators.map(String).join(' '));

it('runs on a Node version package.json declares', () => {
  expect(semver.satisfies(process.version, declared)).toBe(true);
});

it('.nvmrc names a release line package.json declares', () => {
  const nvmrc = fs.readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim();
  expect(semver.intersects(`${nvmrc}.x`, declared)).toBe(true);
});

it('every installed package accepts every declared line, except supabase-js, which declares Node 22 and runs on 20', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const refusals: string[] = [];
  for (const dir of Object.keys(lock.packages)) {
    const manifest = path.join(ROOT, dir, 'package.json');
    // Optional packages for other platforms are in the lockfile but not installed.
    if (!dir || !fs.existsSync(manifest)) continue;
    const range: string | undefined = JSON.parse(fs.readFileSync(manifest, 'utf8')).engines?.node;
    if (!range) continue;
    for (const line of lines)
      if (!semver.subset(line, range)) refusals.push(`${dir.replace(/^node_modules\//, '')} (${range}) refuses ${line}`);
  }
  const supabaseJs = ['auth-js', 'functions-js', 'postgrest-js', 'realtime-js', 'storage-js', 'supabase-js'];
  expect(refusals.sort()).toEqual(supabaseJs.map((name) => `@supabase/${name} (>=22.0.0) refuses >=20.19.0 <21.0.0-0`));
});
