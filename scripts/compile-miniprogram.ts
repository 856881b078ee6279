// Compiles the mini program offline with miniprogram-ci, as DevTools would before an upload, and
// reports what the main package holds. No appid or network is needed: the project attributes
// that `project.attr()` would fetch from WeChat are seeded with miniprogram-ci's defaults, and the
// private key (checked for presence only, since nothing is signed or uploaded) is made up here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as MiniprogramCi from 'miniprogram-ci';

const ROOT = path.join(__dirname, '..');

/** The project as miniprogram-ci sees it, for compiling here and for delivering (wechat-deliver.ts). */
export const PROJECT = { type: 'miniProgram', projectPath: ROOT, ignores: ['node_modules/**/*'] } as const;

/** WeChat's limit for the main package (and for each subpackage). */
export const MAIN_PACKAGE_LIMIT = 2 * 1024 * 1024;

export interface CompiledPackage {
  /** Compiled size of every file in the main package, by path. */
  files: Record<string, number>;
  total: number;
}

interface SummerCompilerFactory {
  releaseLastCompiler(): Promise<void>;
  project: unknown;
  createPromise: unknown;
  summerCompiler: unknown;
}

/**
 * miniprogram-ci 2.1.42 keeps its TypeScript compiler in a forked process for the next compile,
 * which would hold a test runner open, and makes an empty cache folder named md5(path|summer) in
 * the working directory. Neither is reachable through its API, so this releases them directly.
 */
export async function releaseCompiler(projectPath: string): Promise<void> {
  // biome-ignore lint/style/noCommonJs: an internal module of miniprogram-ci, loaded only when there is a compiler to release
  const { summerCompilerFactory } = require('miniprogram-ci/dist/modules/createSummer') as { summerCompilerFactory: SummerCompilerFactory };
  await summerCompilerFactory.releaseLastCompiler();
  summerCompilerFactory.project = null;
  summerCompilerFactory.createPromise = null;
  summerCompilerFactory.summerCompiler = null;
  const cacheDir = path.resolve(crypto.createHash('md5').update(`${projectPath}|summer`).digest('hex'));
  fs.rmSync(cacheDir, { recursive: true, force: true });
}

/** miniprogram-ci's progress lines, and its complaints that it cannot reach WeChat (offline on purpose). */
const CI_CHATTER = /servicewechat\.com|\[miniprogram-builder\]|\[summer-compiler\]|^serialize\b|get white ext list/;

async function withoutCiChatter<T>(run: () => Promise<T>): Promise<T> {
  const originals = { log: console.log, info: console.info, warn: console.warn };
  for (const level of ['log', 'info', 'warn'] as const) {
    console[level] = (...args: unknown[]) => {
      if (!args.some((arg) => CI_CHATTER.test(String(arg)))) originals[level](...args);
    };
  }
  try {
    return await run();
  } finally {
    Object.assign(console, originals);
  }
}

export async function compileMiniprogram(): Promise<CompiledPackage> {
  // biome-ignore lint/style/noCommonJs: loaded here, not at import, because loading it already prints service set-up lines
  const ci = await withoutCiChatter(async () => require('miniprogram-ci') as typeof MiniprogramCi);
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const project = new ci.Project({ ...PROJECT, ignores: [...PROJECT.ignores], appid: 'touristappid', privateKey });
  (project as unknown as { _attr: unknown })._attr = ci.DefaultProjectAttr;
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'miniprogram-compiled-'));
  try {
    const compiled = (await withoutCiChatter(() =>
      ci.getCompiledResult({ project, setting: { useProjectConfig: true } } as never, path.join(outDir, 'compiled.zip')),
    )) as Record<string, string | Uint8Array>;
    const files: Record<string, number> = {};
    let total = 0;
    for (const file of Object.keys(compiled).sort()) {
      const content = compiled[file];
      files[file] = typeof content === 'string' ? Buffer.byteLength(content) : content.byteLength;
      total += files[file];
    }
    return { files, total };
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
    await withoutCiChatter(() => releaseCompiler(ROOT));
  }
}
