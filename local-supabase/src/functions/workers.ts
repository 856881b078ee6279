// One Deno process per Edge Function, started on its first request, replaced after it dies,
// stopped with the server: what Supabase's edge runtime does with user workers, with Deno from
// the npm `deno` package instead of the edge-runtime image.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { freePort } from '../ports';
import { DENO_RUN_FLAGS, denoPath, FUNCTION_HOST } from './deno';

/** Printed by deno/function-host.ts once the function listens. */
const READY = 'local-supabase: function ready';
/**
 * What a worker inherits from the server's environment (nothing else: a function sees only its own
 * variables, as on the hosted runtime), so Deno reaches the npm registry the way npm does here:
 * through the same proxy and registry, trusting the same certificate authorities.
 */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'NPM_CONFIG_REGISTRY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
  'DENO_CERT',
  'DENO_TLS_CA_STORE',
];
const STOP_GRACE_MS = 2000;

export class BootError extends Error {}

export interface WorkerOptions {
  /** Absolute path of the function's index.ts. */
  entrypoint: string;
  env: Record<string, string>;
  /** Deno's module cache, shared by every worker, so npm: packages are downloaded once. */
  denoDir: string;
  bootTimeoutMs: number;
  log: (line: string) => void;
}

export interface Worker {
  /** Resolves with the port once the function listens; rejects with a BootError. */
  ready: Promise<number>;
  alive(): boolean;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** `deno run` of the function host serving one function's entrypoint on a loopback port. */
export function workerArgs(entrypoint: string, port: number): string[] {
  return ['run', '--allow-net', '--allow-env', '--allow-read', '--no-prompt', ...DENO_RUN_FLAGS, FUNCTION_HOST, entrypoint, String(port)];
}

export function startWorker(name: string, options: WorkerOptions): Worker {
  const log = (line: string) => options.log(`[functions/${name}] ${line}`);
  let child: ChildProcess | null = null;
  let exited = false;
  let markExited!: () => void;
  const exit = new Promise<void>((resolve) => (markExited = resolve));
  const onExit = (why: string) => {
    if (exited) return;
    exited = true;
    log(why);
    markExited();
  };

  const ready = freePort().then((port) => {
    const inherited = Object.fromEntries(PASSED_THROUGH.filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
    const deno = spawn(denoPath(), workerArgs(options.entrypoint, port), {
      cwd: path.dirname(options.entrypoint),
      env: { ...inherited, DENO_DIR: options.denoDir, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = deno;
    deno.on('exit', (code, signal) => onExit(`exited (${signal ?? `code ${code}`})`));
    deno.on('error', (err) => onExit(`could not start Deno: ${err.message}`));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new BootError(`did not listen within ${options.bootTimeoutMs} ms`)), options.bootTimeoutMs);
      void exit.then(() => {
        clearTimeout(timer);
        reject(new BootError('exited before it listened'));
      });
      for (const stream of [deno.stdout, deno.stderr]) {
        readline.createInterface({ input: stream }).on('line', (line) => {
          if (line !== READY) return log(line);
          clearTimeout(timer);
          resolve(port);
        });
      }
    });
  });
  // The request waiting for a boot hears of its failure; nobody else must see it as unhandled.
  ready.catch(() => undefined);

  return {
    ready,
    alive: () => !exited,
    exited: exit,
    async stop() {
      const deno = child;
      if (!deno || exited) return;
      deno.kill('SIGTERM');
      const killer = setTimeout(() => deno.kill('SIGKILL'), STOP_GRACE_MS);
      await exit;
      clearTimeout(killer);
    },
  };
}
