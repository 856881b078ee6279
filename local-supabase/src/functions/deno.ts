// Deno from the npm `deno` package, as local-supabase runs, caches and type-checks the project's
// Edge Functions.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const FUNCTION_HOST = path.join(__dirname, '..', '..', 'deno', 'function-host.ts');
/** Deno's module cache for the functions' npm: packages, kept with the other installed packages. */
export const DEFAULT_DENO_DIR = path.join(__dirname, '..', '..', '..', 'node_modules', '.cache', 'local-supabase-deno');

/** Flags every Deno run over the functions uses (workers, the cache warm-up, type checks). */
export const DENO_RUN_FLAGS = [
  // A package.json above the function would switch Deno to node_modules resolution; Edge
  // Functions resolve their npm: specifiers themselves, as on the hosted runtime.
  '--node-modules-dir=none',
  '--no-lock',
];

/** The Deno executable of the npm `deno` package, found with that package's own installer API. */
export function denoPath(): string {
  const installer = createRequire(__filename)('deno/install_api.cjs') as { runInstall(): string };
  return installer.runInstall();
}

/** The entrypoints of a project's functions: functions/<name>/index.ts, `_shared` and the like excluded. */
export function functionEntrypoints(supabaseDir: string): string[] {
  const dir = path.join(supabaseDir, 'functions');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => !name.startsWith('_') && !name.startsWith('.'))
    .map((name) => path.join(dir, name, 'index.ts'))
    .filter((file) => fs.existsSync(file));
}

/**
 * `deno cache` (download every npm: package once, before parallel workers race for it) or
 * `deno check` (type-check) over the functions and the host that runs them. Throws with Deno's output.
 */
export function denoOnFunctions(command: 'cache' | 'check', supabaseDir: string, denoDir = DEFAULT_DENO_DIR): void {
  const result = spawnSync(denoPath(), [command, ...DENO_RUN_FLAGS, FUNCTION_HOST, ...functionEntrypoints(supabaseDir)], {
    env: { ...process.env, DENO_DIR: denoDir, NO_COLOR: '1' },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`deno ${command} failed:\n${result.stderr || result.error}`);
}
