// One HTTP server (default 127.0.0.1:54321) that routes /auth/v1, /rest/v1, /storage/v1 and
// /realtime/v1 like Supabase's gateway, over an embedded PostgreSQL it starts and stops itself.
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { WechatApp } from '../../supabase/functions/_shared/wechat';
import { createAuth } from './auth';
import { BatchClient } from './batch';
import { apiKeys, DEFAULT_JWT_SECRET } from './config';
import type { Context, Product } from './context';
import { createFunctions } from './functions';
import { DEFAULT_DENO_DIR } from './functions/deno';
import { startCronScheduler, startNetWorker, storeProjectSecrets } from './extensions';
import { endSocket, sendJson, sendPreflight } from './http';
import { migrate, type MigrationResult } from './migrate';
import { freePort } from './ports';
import { startPostgres } from './postgres';
import { createRealtime } from './realtime';
import { createRest } from './rest';
import { loadProjectConfig, type ProjectConfigOverrides } from './project-config';
import { createStorage } from './storage';
import { startFakeWechat, type FakeWechat } from './wechat/fake-api';

// Postgres returns bigint/numeric as strings to keep precision; the server builds JSON in SQL,
// so the only values parsed in JS are its own counters, which fit.
pg.types.setTypeParser(20, (v) => Number(v));

export interface LocalSupabaseOptions {
  /** Holds the Postgres cluster (`pg/`) and stored objects (`storage/`). */
  dataDir: string;
  /** HTTP port; 0 picks a free one. Default 54321. */
  port?: number;
  /** Postgres port; 0 (default) picks a free one. */
  dbPort?: number;
  /** The Supabase project folder (migrations, seed.sql). Default: the repository's supabase/. */
  supabaseDir?: string;
  jwtSecret?: string;
  /** Overrides of supabase/config.toml's settings (auth rate limits and switches, functions' verify_jwt). */
  config?: ProjectConfigOverrides;
  /**
   * WeChat's server API and the mini program's credentials. Default: a fake of the API, started
   * with the server on `wechatPort`, that the functions reach through WECHAT_API_BASE.
   */
  wechat?: WechatApp;
  /** Port of the fake WeChat API; 0 (default) picks a free one. */
  wechatPort?: number;
  /** Deno's module cache for the functions. Default: node_modules/.cache/local-supabase-deno. */
  denoDir?: string;
  /** How long a function may take to start, and a request to start being answered. */
  functionTimeouts?: { bootMs?: number; requestMs?: number };
  maxBodyBytes?: number;
  /** Durability off for speed (tests). */
  fast?: boolean;
  log?: (line: string) => void;
}

export interface LocalSupabase {
  url: string;
  port: number;
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
  /** Superuser connection string, for tests and tools. */
  dbUrl: string;
  dataDir: string;
  storageDir: string;
  migrations: MigrationResult;
  /** The fake WeChat API, when the server started one (no `wechat` option). */
  wechat: FakeWechat | null;
  stop(): Promise<void>;
}

export const REPO_SUPABASE_DIR = path.join(__dirname, '..', '..', 'supabase');
/** The local mini program's AppID and AppSecret as the fake WeChat API knows them. */
export const LOCAL_WECHAT_APP = { appid: 'wx00000000000000a1', secret: 'local-supabase-wechat-secret' };
/** The message-push settings (消息推送配置) of the local mini program: its Token and EncodingAESKey. */
export const LOCAL_WECHAT_PUSH = { token: 'local-supabase-push-token', aesKey: 'bG9jYWwtc3VwYWJhc2UtZW5jb2RpbmctYWVzLWtleSE' };
/** Where WeChat pushes content-security verdicts: the project's wechat-push function. */
export const PUSH_FUNCTION = 'wechat-push';

export async function startLocalSupabase(options: LocalSupabaseOptions): Promise<LocalSupabase> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const supabaseDir = options.supabaseDir ?? REPO_SUPABASE_DIR;
  const config = loadProjectConfig(supabaseDir, options.config);
  const jwtSecret = options.jwtSecret ?? DEFAULT_JWT_SECRET;
  const keys = apiKeys(jwtSecret);
  const dbPort = options.dbPort || (await freePort());
  const postgres = await startPostgres({ dir: path.join(dataDir, 'pg'), port: dbPort, fast: options.fast, log });
  const stops: Array<() => Promise<unknown>> = [() => postgres.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => log(`stop: ${err}`));
  };

  try {
    const setup = new pg.Client({ connectionString: postgres.connectionString() });
    await setup.connect();
    let migrations: MigrationResult;
    try {
      migrations = await migrate(setup, supabaseDir, postgres.password);
    } finally {
      await setup.end();
    }

    const admin = new pg.Pool({ connectionString: postgres.connectionString(), max: 10 });
    const api = new pg.Pool({ connectionString: postgres.connectionString('authenticator'), max: 20, Client: BatchClient });
    // A connection that dies (Postgres restarted, a backend terminated) must not crash the server.
    // The pools listen only while a client is idle; a checked-out client needs its own listener.
    for (const [name, pool] of [
      ['admin', admin],
      ['api', api],
    ] as const) {
      pool.on('error', (err) => log(`${name} pool: ${err.message}`));
      pool.on('connect', (client) => client.on('error', (err) => log(`${name} connection: ${err.message}`)));
    }
    stops.push(
      () => admin.end(),
      () => api.end(),
    );

    const storageDir = path.join(dataDir, 'storage');
    fs.mkdirSync(storageDir, { recursive: true });
    const server = http.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 54321, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
    const sockets = new Set<net.Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    // Registered as soon as the port is bound, so a failure further on still frees it.
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        }),
    );
    const url = `http://127.0.0.1:${port}`;
    let fakeWechat: FakeWechat | null = null;
    if (!options.wechat) {
      const push = { url: `${url}/functions/v1/${PUSH_FUNCTION}`, ...LOCAL_WECHAT_PUSH };
      const fake = await startFakeWechat({ ...LOCAL_WECHAT_APP, port: options.wechatPort ?? 0, push, log });
      stops.push(() => fake.stop());
      fakeWechat = fake;
    }
    const wechat = options.wechat ?? { ...LOCAL_WECHAT_APP, apiBase: fakeWechat!.url };
    const ctx: Context = {
      url,
      jwtSecret,
      ...keys,
      auth: config.auth,
      wechat,
      admin,
      api,
      adminConnectionString: postgres.connectionString(),
      storageDir,
      maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
      log,
    };

    const products: Record<string, Product> = {
      auth: await createAuth(ctx),
      rest: await createRest(ctx),
      storage: createStorage(ctx),
      functions: createFunctions(ctx, {
        supabaseDir,
        config,
        env: {
          WECHAT_APPID: wechat.appid,
          WECHAT_SECRET: wechat.secret,
          WECHAT_API_BASE: wechat.apiBase,
          WECHAT_PUSH_TOKEN: LOCAL_WECHAT_PUSH.token,
          WECHAT_PUSH_AES_KEY: LOCAL_WECHAT_PUSH.aesKey,
        },
        denoDir: options.denoDir ?? DEFAULT_DENO_DIR,
        bootTimeoutMs: options.functionTimeouts?.bootMs ?? 60000,
        requestTimeoutMs: options.functionTimeouts?.requestMs ?? 150000,
      }),
    };
    const realtime = await createRealtime(ctx);
    stops.push(() => realtime.close());
    await storeProjectSecrets(admin, url, keys.serviceRoleKey);
    const netWorker = startNetWorker(ctx.adminConnectionString, log);
    const cronScheduler = startCronScheduler(ctx.adminConnectionString, log);
    stops.push(
      () => netWorker.stop(),
      () => cronScheduler.stop(),
    );
    for (const product of Object.values(products)) if (product.close) stops.push(() => product.close!());

    server.on('request', (req, res) => {
      route(ctx, products, req, res).catch((err) => {
        log(`unhandled ${req.method} ${req.url}: ${(err as Error).stack}`);
        if (!res.headersSent) sendJson(res, 500, { message: 'internal error' });
        else res.destroy();
      });
    });
    server.on('upgrade', (req, socket, head) => {
      // Node drops its own socket error handler before 'upgrade': a peer resetting while we
      // answer would otherwise be an uncaught exception.
      socket.on('error', () => socket.destroy());
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        endSocket(socket, 400, { message: 'invalid request target' });
        return;
      }
      if (url.pathname === '/realtime/v1/websocket') realtime.upgrade(req, socket, head, url);
      else endSocket(socket, 404, { message: 'no Route matched with those values' });
    });
    // Node rejects oversized headers and malformed requests before any handler runs; answer
    // those with a JSON error too, like every other refusal.
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const overflow = err.code === 'HPE_HEADER_OVERFLOW';
      endSocket(socket, overflow ? 431 : 400, { message: overflow ? 'request headers too large' : 'malformed HTTP request' });
    });

    return {
      url,
      port,
      ...keys,
      jwtSecret,
      dbUrl: postgres.connectionString(),
      dataDir,
      storageDir,
      migrations,
      wechat: fakeWechat,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

const PRODUCTS: Array<[prefix: string, name: string, needsKey: boolean]> = [
  ['/auth/v1', 'auth', true],
  ['/rest/v1', 'rest', true],
  // Supabase's gateway has no key check on storage: <image src> requests carry no headers.
  ['/storage/v1', 'storage', false],
  // Functions check JWTs themselves (verify_jwt); a function may serve callers without a key.
  ['/functions/v1', 'functions', false],
];

/**
 * Routes Supabase's gateway serves without a key (docker/volumes/api/kong.yml, auth-v1-open…): a
 * link opened from an e-mail, and the public keys clients verify tokens with.
 */
const OPEN_ROUTES = new Set(['/auth/v1/verify', '/auth/v1/.well-known/jwks.json']);

async function route(ctx: Context, products: Record<string, Product>, req: IncomingMessage, res: ServerResponse) {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return sendJson(res, 400, { message: 'invalid request target' });
  }
  // A function answers its own preflights, as on the hosted runtime.
  if (req.method === 'OPTIONS' && !url.pathname.startsWith('/functions/v1/')) return sendPreflight(req, res);
  if (url.pathname === '/' || url.pathname === '/health') {
    return sendJson(res, 200, { name: 'local-supabase', status: 'ok' });
  }
  for (const [prefix, name, needsKey] of PRODUCTS) {
    if (url.pathname !== prefix && !url.pathname.startsWith(prefix + '/')) continue;
    if (needsKey && !OPEN_ROUTES.has(url.pathname)) {
      const key = req.headers.apikey ?? url.searchParams.get('apikey');
      if (!key) return sendJson(res, 401, { message: 'No API key found in request' });
      if (key !== ctx.anonKey && key !== ctx.serviceRoleKey) {
        return sendJson(res, 401, { message: 'Invalid authentication credentials' });
      }
    }
    return products[name].handle(req, res, url.pathname.slice(prefix.length) || '/', url);
  }
  sendJson(res, 404, { message: 'no Route matched with those values' });
}
