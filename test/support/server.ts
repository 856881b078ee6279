// Every suite starts its own local-supabase on free ports with a temporary data directory,
// and stops it (removing the directory) when the suite ends.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import pg from 'pg';
import WebSocket from 'ws';
import { startLocalSupabase, type LocalSupabase, type LocalSupabaseOptions } from '../../local-supabase/src/server';
import { trackClient } from './open-clients';

export type TestServer = LocalSupabase;

export function tempDir(prefix = 'local-supabase-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestServer(options: Partial<LocalSupabaseOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const server = await startLocalSupabase({ port: 0, fast: true, ...options, dataDir });
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
  transport?: new (url: string, protocols?: string | string[]) => WebSocket;
}

export function client(server: { url: string; anonKey: string }, options: ClientOptions = {}): SupabaseClient {
  return trackClient(
    createClient(server.url, options.key ?? server.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false, storageKey: `sb-test-${++clients}` },
      global: { headers: options.headers ?? {} },
      realtime: { transport: (options.transport ?? WebSocket) as never, vsn: options.vsn ?? '2.0.0' } as never,
    }),
  );
}

/** A signed-in anonymous user with its own client. */
export async function anonymousUser(server: { url: string; anonKey: string }, options: ClientOptions = {}) {
  const sb = client(server, options);
  const { data, error } = await sb.auth.signInAnonymously();
  if (error || !data.user || !data.session) throw error ?? new Error('no session');
  return { sb, user: data.user, session: data.session, id: data.user.id };
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

/** A valid text message row for the room, as the app inserts it; override any column. */
export function textMessage(roomId: number, overrides: Record<string, unknown> = {}) {
  return { room_id: roomId, username: '楚留香', avatar_color: '#e4572e', kind: 'text', body: '你好', client_id: randomUUID(), ...overrides };
}
