// Every suite starts its own local-supabase on free ports with a temporary data directory,
// and stops it (removing the directory) when the suite ends.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import pg from 'pg';
import WebSocket from 'ws';
import { startLocalSupabase, type LocalSupabase, type LocalSupabaseOptions } from '../../local-supabase/src/server';
import { signInWithWechat } from '../../miniprogram/core/wechat-login';
import { localWechatLogin } from '../../lib/node-client';
import { waitFor } from './wait';
import { trackClient } from './open-clients';

export type TestServer = LocalSupabase;

export function tempDir(prefix = 'local-supabase-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Every client of a suite connects from 127.0.0.1, where a phone has an address of its own: the
 * auth rate limits are raised by configuration (config.toml's [auth.rate_limit]), never bypassed.
 * A suite that tests the limits passes its own.
 */
const MANY_PHONES = { anonymousUsers: 1e6, signInSignUps: 1e6, tokenRefresh: 1e6, tokenVerifications: 1e6 };

export interface TestServerOptions extends Partial<LocalSupabaseOptions> {
  /**
   * Content moderation (private.moderation_settings), on by default in the app. Suites about other
   * things (REST, Realtime, storage mechanics) run it off, as a deployment that does not publish to
   * WeChat would, so a message is visible when inserted; the moderation, e2e and chaos suites run it on.
   */
  moderation?: boolean;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { moderation = false, ...serverOptions } = options;
  const dataDir = options.dataDir ?? tempDir();
  const config = {
    ...options.config,
    auth: { ...options.config?.auth, rateLimits: { ...MANY_PHONES, ...options.config?.auth?.rateLimits } },
  };
  const server = await startLocalSupabase({ port: 0, fast: true, ...serverOptions, config, dataDir });
  await superuserQuery(
    server.dbUrl,
    `do $$ begin
       if to_regclass('private.moderation_settings') is not null then update private.moderation_settings set enabled = ${moderation}; end if;
     end $$`,
  );
  const stop = server.stop;
  return {
    ...server,
    async stop() {
      await stop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let clients = 0;

/**
 * The official client, configured as an app would be (no session persistence across tests).
 * Each gets its own storage key: many clients in one process would otherwise share one and
 * supabase-js warns about every extra instance.
 */
export interface ClientOptions {
  key?: string;
  vsn?: '1.0.0' | '2.0.0';
  /** Extra headers on every request, e.g. a chosen `Authorization` (the apikey stays valid). */
  headers?: Record<string, string>;
  /** The WebSocket class realtime uses (a test may pass a subclass it can reach into). */
  transport?: new (
    url: string,
    protocols?: string | string[],
  ) => WebSocket;
  /** The fetch every request goes through (e.g. fetchFrom: a phone with an address of its own). */
  fetch?: typeof fetch;
}

export function client(server: { url: string; anonKey: string }, options: ClientOptions = {}): SupabaseClient {
  return trackClient(
    createClient(server.url, options.key ?? server.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, storageKey: `sb-test-${++clients}` },
      global: { headers: options.headers ?? {}, ...(options.fetch ? { fetch: options.fetch } : {}) },
      realtime: { transport: (options.transport ?? WebSocket) as never, vsn: options.vsn ?? '2.0.0' } as never,
    }),
  );
}

let people = 0;

/**
 * A person signed in with WeChat the way the app signs in (the wechat-login Edge Function, then
 * verifyOtp), with their own client. The same `person` name is the same person on every login.
 */
export async function wechatUser(server: { url: string; anonKey: string }, options: ClientOptions & { person?: string } = {}) {
  const { person = `person-${++people}`, ...clientOptions } = options;
  const sb = client(server, clientOptions);
  await signInWithWechat(sb, localWechatLogin(server.url, server.anonKey, person));
  const { data, error } = await sb.auth.getSession();
  if (error || !data.session) throw error ?? new Error('no session');
  return { sb, user: data.session.user, session: data.session, id: data.session.user.id, person };
}

/**
 * A signed-in anonymous user (the server must enable anonymous sign-ins): someone who is not a
 * WeChat person, to show what such a user may not do.
 */
export async function anonymousUser(server: { url: string; anonKey: string }, options: ClientOptions = {}) {
  const sb = client(server, options);
  const { data, error } = await sb.auth.signInAnonymously();
  if (error || !data.user || !data.session) throw error ?? new Error('no session');
  return { sb, user: data.user, session: data.session, id: data.user.id };
}

/**
 * fetch from another loopback address (127.0.0.2, 127.0.0.3…): on Linux the whole 127/8 block is
 * the machine itself, so each address is a phone of its own as the server's per-address limits see it.
 */
export function fetchFrom(localAddress: string): typeof fetch {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const body = init.body == null ? undefined : Buffer.from(await new Response(init.body).arrayBuffer());
    return new Promise<Response>((resolve, reject) => {
      const request = http.request(
        url,
        { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)), localAddress },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const content = Buffer.concat(chunks);
            const headers = new Headers();
            for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
            resolve(new Response(content.length ? content : null, { status: res.statusCode, headers }));
          });
          res.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  };
}

/** One statement as the superuser, on a short-lived connection (tests set up and inspect with it). */
export async function superuserQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  dbUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<T>> {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  try {
    return await db.query<T>(text, params);
  } finally {
    await db.end();
  }
}

/**
 * DDL as the superuser, then a wait until /rest/v1 knows the names `probe` uses (a path such as
 * `conformance?limit=0`; whatever it answers, not PGRST202/204/205): the schema cache reloads on
 * the NOTIFY that the event triggers send at commit, a moment later, as on a Supabase project.
 */
export async function changeSchema(server: TestServer, sql: string, probe: string): Promise<void> {
  await superuserQuery(server.dbUrl, sql);
  const headers = { apikey: server.serviceRoleKey, authorization: `Bearer ${server.serviceRoleKey}` };
  await waitFor(`/rest/v1/${probe} after the schema change`, async () => {
    const res = await fetch(`${server.url}/rest/v1/${probe}`, { headers });
    const text = await res.text();
    return res.ok || !/"code":"PGRST20[245]"/.test(text);
  });
}

/** A valid text message row for the room, as the app inserts it; override any column. */
export function textMessage(roomId: number, overrides: Record<string, unknown> = {}) {
  return {
    room_id: roomId,
    username: '楚留香',
    avatar_color: '#e4572e',
    kind: 'text',
    body: '你好',
    client_id: randomUUID(),
    ...overrides,
  };
}
