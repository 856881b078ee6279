// /functions/v1/<name>: the project's Edge Functions (supabase/functions/<name>/index.ts), served
// as `supabase functions serve` serves them: the same environment (SUPABASE_URL, the two keys,
// SUPABASE_DB_URL, secrets from supabase/functions/.env), the same JWT check and its
// `[functions.<name>] verify_jwt` switch, and the path the function sees starts with its name
// (supabase/cli apps/cli-go/internal/functions/serve/templates/main.ts). Gateway failures are
// JSON errors with the hosted runtime's codes (BOOT_ERROR, WORKER_ERROR, IDLE_TIMEOUT), never a hang.
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Context, Product } from '../context';
import { bearer, sendJson } from '../http';
import { JwtError, verifyJwt } from '../jwt';
import { functionConfig, type ProjectConfig } from '../project-config';
import { BootError, startWorker, type Worker } from './workers';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Headers that describe one hop, not the request (RFC 9110 §7.6.1). */
/** How long a broken request waits for its worker's exit to be reported before answering. */
const CRASH_SETTLE_MS = 1000;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

export interface FunctionsOptions {
  /** The project folder holding functions/<name>/index.ts and functions/.env. */
  supabaseDir: string;
  config: ProjectConfig;
  /** Variables every function gets before the .env file's (e.g. the fake WeChat API's address). */
  env: Record<string, string>;
  denoDir: string;
  /** How long a function may take to start listening (the first start downloads npm packages). */
  bootTimeoutMs: number;
  /** How long a request may wait for the response to begin (hosted: 150 s). */
  requestTimeoutMs: number;
}

/** `KEY=value` lines of a dotenv file; `#` comments, optional quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const value = match[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    out[match[1]] = quoted ? quoted[2] : value.replace(/\s+#.*$/, '');
  }
  return out;
}

export function createFunctions(ctx: Context, options: FunctionsOptions): Product {
  const functionsDir = path.join(options.supabaseDir, 'functions');
  const workers = new Map<string, Worker>();
  let closed = false;

  /** The environment of a worker, read at each start so an edited .env applies after a restart. */
  function environment(): Record<string, string> {
    const envFile = path.join(functionsDir, '.env');
    const secrets = fs.existsSync(envFile) ? parseDotenv(fs.readFileSync(envFile, 'utf8')) : {};
    for (const key of Object.keys(secrets)) {
      // As `supabase secrets set` does: the platform's own variables cannot be overridden.
      if (key.startsWith('SUPABASE_')) {
        ctx.log(`functions/.env: ${key} skipped (names starting with SUPABASE_ are reserved)`);
        delete secrets[key];
      }
    }
    return {
      ...options.env,
      ...secrets,
      SUPABASE_URL: ctx.url,
      SUPABASE_ANON_KEY: ctx.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: ctx.serviceRoleKey,
      SUPABASE_DB_URL: ctx.adminConnectionString,
    };
  }

  function workerFor(name: string, entrypoint: string): Worker {
    const running = workers.get(name);
    if (running?.alive()) return running;
    const worker = startWorker(name, {
      entrypoint,
      env: environment(),
      denoDir: options.denoDir,
      bootTimeoutMs: options.bootTimeoutMs,
      log: ctx.log,
    });
    workers.set(name, worker);
    return worker;
  }

  function forward(req: IncomingMessage, res: ServerResponse, worker: Worker, port: number, target: string): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(key)) headers[key] = value;
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['x-forwarded-proto'] = 'http';
    return new Promise((resolve) => {
      const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: target, headers });
      const timer = setTimeout(() => {
        upstream.destroy();
        fail(504, 'IDLE_TIMEOUT', `Function did not respond within ${options.requestTimeoutMs / 1000} s`);
      }, options.requestTimeoutMs);
      const fail = (status: number, code: string, message: string) => {
        clearTimeout(timer);
        if (!res.headersSent) sendJson(res, status, { code, message });
        else res.destroy();
        resolve();
      };
      // The socket usually breaks before the process's exit is reported: the answer waits for the
      // exit (briefly), so the caller's next request finds the worker gone and gets a fresh one.
      const crashed = () => {
        clearTimeout(timer);
        const settled = new Promise((done) => setTimeout(done, CRASH_SETTLE_MS).unref());
        void Promise.race([worker.exited, settled]).then(() =>
          fail(500, 'WORKER_ERROR', 'Function exited due to an error (please check logs)'),
        );
      };
      upstream.on('response', (answer) => {
        clearTimeout(timer);
        const out: Record<string, string | string[]> = {};
        for (const [key, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('end', () => resolve());
        answer.on('error', crashed);
      });
      upstream.on('error', crashed);
      // The caller went away before the answer ended: the function's request is aborted too
      // (its body ends in an error) instead of holding a worker until the timeout.
      res.on('close', () => {
        if (res.writableFinished) return;
        clearTimeout(timer);
        upstream.destroy();
        resolve();
      });
      req.pipe(upstream);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, rest: string, url: URL): Promise<void> {
    const name = rest.split('/')[1] ?? '';
    const entrypoint = path.join(functionsDir, name, 'index.ts');
    if (!NAME.test(name) || !fs.existsSync(entrypoint)) {
      return sendJson(res, 404, { code: 'NOT_FOUND', message: 'Requested function was not found' });
    }
    if (!METHODS.has(req.method ?? '')) return sendJson(res, 405, { code: 'METHOD_NOT_ALLOWED', message: 'Method not allowed' });
    // Preflights reach the function, which answers them with its CORS headers.
    if (req.method !== 'OPTIONS' && functionConfig(options.config, name).verifyJwt) {
      const token = bearer(req);
      if (!token) return sendJson(res, 401, { msg: 'Error: Missing authorization header' });
      try {
        verifyJwt(token, ctx.jwtSecret);
      } catch (err) {
        if (!(err instanceof JwtError)) throw err;
        return sendJson(res, 401, { msg: 'Invalid JWT' });
      }
    }
    if (closed) return sendJson(res, 503, { code: 'BOOT_ERROR', message: 'Server is stopping' });
    const worker = workerFor(name, entrypoint);
    let port: number;
    try {
      port = await worker.ready;
    } catch (err) {
      if (!(err instanceof BootError)) throw err;
      ctx.log(`[functions/${name}] boot failed: ${err.message}`);
      await worker.stop();
      if (workers.get(name) === worker) workers.delete(name);
      return sendJson(res, 503, { code: 'BOOT_ERROR', message: 'Function failed to start (please check logs)' });
    }
    await forward(req, res, worker, port, `${rest}${url.search}`);
  }

  return {
    handle,
    async close() {
      closed = true;
      await Promise.all([...workers.values()].map((w) => w.stop()));
      workers.clear();
    },
  };
}
