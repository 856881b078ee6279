// A JavaScript realm shaped like WeChat's logic layer, for running the mini program's own code in
// Node: a fresh vm context holding only ECMAScript built-ins, timers, `console` and a `wx`, with
// `globalThis` removed as on older base libraries. Files are compiled one by one (TypeScript to
// CommonJS at the mini program's es2017 target) and each is wrapped the way WeChat wraps a module,
// with window, self, WebSocket, fetch and friends as parameters that are undefined.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { transformSync } from 'esbuild';
import type * as PlatformModule from '../../miniprogram/platform/index';
import { SYNTAX_TARGET } from '../../scripts/build-vendor';
import { createNodeWx, type NodeWx, type NodeWxOptions } from './wx-node';

export const MINIPROGRAM_ROOT = path.join(__dirname, '..', '..', 'miniprogram');

/**
 * Names WeChat's module factory shadows: it wraps every file in
 * `define(path, function (require, module, exports, window, document, …) { … })` and passes undefined for them.
 */
// biome-ignore format: a word list, laid out in rows
const SHADOWED = [
  'window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history',
  'Caches', 'screen', 'alert', 'confirm', 'prompt', 'XMLHttpRequest', 'WebSocket', 'Reporter',
  'webkit', 'WeixinJSCore', 'fetch',
];

/** Host APIs that must not exist in the realm: the code has to work without every one of them. */
// biome-ignore format: a word list, laid out in rows
export const ABSENT_GLOBALS = [
  'fetch', 'WebSocket', 'URL', 'URLSearchParams', 'Headers', 'Request', 'Response', 'FormData', 'Blob',
  'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'globalThis', 'window', 'self',
  'document', 'navigator', 'localStorage', 'process', 'Buffer', 'require', 'module', 'crypto',
  'queueMicrotask', 'structuredClone', 'setImmediate', 'atob', 'btoa',
];

/** Where an import points: the bundle stands in for the npm package, as in the mini program. */
const ALIASES: Record<string, string> = {
  '@supabase/supabase-js': path.join(MINIPROGRAM_ROOT, 'vendor', 'supabase.js'),
};

const compiled = new Map<string, string>();

/** TypeScript compiled once per process (every realm shares it), JavaScript taken as it is. */
function compile(file: string): string {
  let code = compiled.get(file);
  if (code === undefined) {
    const source = fs.readFileSync(file, 'utf8');
    code = file.endsWith('.ts')
      ? transformSync(source, { loader: 'ts', format: 'cjs', target: SYNTAX_TARGET, sourcefile: file }).code
      : source;
    compiled.set(file, code);
  }
  return code;
}

function resolveFile(from: string, request: string): string {
  if (ALIASES[request]) return ALIASES[request];
  if (!request.startsWith('.')) throw new Error(`module "${request}" is not part of the mini program (from ${from})`);
  const target = path.resolve(path.dirname(from), request);
  for (const candidate of [target, `${target}.ts`, `${target}.js`, path.join(target, 'index.ts'), path.join(target, 'index.js')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`cannot resolve "${request}" from ${from}`);
}

export interface WechatRealm {
  /** Loads a mini program file (path relative to miniprogram/) and returns its exports. */
  require<T = Record<string, unknown>>(file: string): T;
  /** Evaluates an expression inside the realm. */
  evaluate<T = unknown>(code: string): T;
  /** Clears every timer the realm's code left behind (auto-refresh, heartbeats, backoff). */
  dispose(): void;
}

export function createWechatRealm(wx: unknown): WechatRealm {
  const timers = new Map<number, NodeJS.Timeout>();
  let nextTimer = 1;
  // WeChat's timers return numbers; so do these, and they are all tracked for dispose().
  const startTimer =
    (repeat: boolean) =>
    (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const id = nextTimer++;
      const run = () => {
        if (!repeat) timers.delete(id);
        callback(...args);
      };
      timers.set(id, repeat ? setInterval(run, ms) : setTimeout(run, ms));
      return id;
    };
  const stopTimer = (id: number) => {
    const handle = timers.get(id);
    if (handle) clearTimeout(handle);
    timers.delete(id);
  };
  const context = vm.createContext({
    console,
    setTimeout: startTimer(false),
    setInterval: startTimer(true),
    clearTimeout: stopTimer,
    clearInterval: stopTimer,
    wx,
  });
  vm.runInContext('delete globalThis.globalThis', context);

  const cache = new Map<string, { exports: unknown }>();
  const load = (file: string): unknown => {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    cache.set(file, module);
    const factory = vm.runInContext(`(function (require, module, exports, ${SHADOWED.join(', ')}) {${compile(file)}\n})`, context, {
      filename: file,
    }) as (...args: unknown[]) => void;
    factory((request: string) => load(resolveFile(file, request)), module, module.exports);
    return module.exports;
  };

  return {
    require: <T>(file: string) => load(resolveFile(path.join(MINIPROGRAM_ROOT, 'app.ts'), `./${file}`)) as T,
    evaluate: <T>(code: string) => vm.runInContext(code, context) as T,
    dispose() {
      for (const handle of timers.values()) clearTimeout(handle);
      timers.clear();
    },
  };
}

/** The app as a phone runs it: its own wx (real loopback I/O), the code in a WeChat realm, and the
 * platform pointed at a server. close() stops what the platform started. */
export interface WechatApp {
  nodeWx: NodeWx;
  realm: WechatRealm;
  platform: PlatformModule.WechatPlatform;
  close(): Promise<void>;
}

let phones = 0;

/**
 * A phone signed into its own WeChat account (`options.wechat` picks one; by default a new person
 * of the server's fake WeChat API).
 */
export function launchWechatApp(
  server: { url: string; anonKey: string; wechat?: { url: string } | null },
  options: NodeWxOptions = {},
): WechatApp {
  const account = server.wechat ? { apiBase: server.wechat.url, person: `phone-${++phones}` } : undefined;
  const nodeWx = createNodeWx({ wechat: account, ...options });
  const realm = createWechatRealm(nodeWx.wx);
  const { createPlatform } = realm.require<typeof PlatformModule>('platform/index');
  const platform = createPlatform({ url: server.url, anonKey: server.anonKey });
  return {
    nodeWx,
    realm,
    platform,
    async close() {
      platform.app.stop();
      await platform.supabase.removeAllChannels();
      await platform.supabase.auth.stopAutoRefresh();
      realm.dispose();
      nodeWx.close();
    },
  };
}
