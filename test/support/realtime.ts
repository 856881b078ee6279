// Helpers for the realtime suites: channels joined through the official client, raw Phoenix
// sockets for what the client never sends, and waits that fail loudly.
import { randomUUID } from 'node:crypto';
import type { RealtimeChannel, SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { superuserQuery, textMessage, type TestServer } from './server';
import { sleep, waitFor } from './wait';

export type Vsn = '1.0.0' | '2.0.0';
export const VSNS: Vsn[] = ['1.0.0', '2.0.0'];

// The suites take their waits from here too.
export { sleep, waitFor };

/** How long to keep listening for duplicates or leaks after the expected events arrived. */
export const QUIET_MS = 600;

export interface ChangeEvent {
  eventType: string;
  schema: string;
  table: string;
  commit_timestamp: string;
  new: Record<string, unknown>;
  old: Record<string, unknown>;
  errors: unknown;
}

export interface Subscription {
  channel: RealtimeChannel;
  changes: ChangeEvent[];
  system: Array<Record<string, unknown>>;
  statuses: string[];
}

export interface Binding {
  event: '*' | 'INSERT' | 'UPDATE' | 'DELETE';
  schema?: string;
  table?: string;
  filter?: string;
}

/** Joins `topic` with postgres_changes bindings and waits until the server reported on them. */
export async function subscribeChanges(
  sb: SupabaseClient,
  topic: string,
  bindings: Binding[],
  config: Record<string, unknown> = {},
): Promise<Subscription> {
  const sub: Subscription = { channel: sb.channel(topic, { config }), changes: [], system: [], statuses: [] };
  for (const b of bindings) {
    sub.channel.on('postgres_changes' as never, { schema: 'public', ...b } as never, (p: ChangeEvent) => sub.changes.push(p));
  }
  sub.channel.on('system', {}, (p: Record<string, unknown>) => sub.system.push(p));
  sub.channel.subscribe((status) => sub.statuses.push(status));
  await waitFor(`${topic} to be joined`, () => sub.statuses.includes('SUBSCRIBED') || sub.statuses.includes('CHANNEL_ERROR'));
  if (bindings.length > 0) await waitFor(`${topic} system message`, () => sub.system.length > 0);
  return sub;
}

/** Resolves with the first `count` changes, then makes sure no more arrive. */
export async function exactly(sub: Subscription, count: number): Promise<ChangeEvent[]> {
  await waitFor(`${count} change(s)`, () => sub.changes.length >= count);
  await sleep(QUIET_MS);
  expect(sub.changes).toHaveLength(count);
  return sub.changes;
}

export function message(roomId: number, body = `hello ${randomUUID()}`) {
  return textMessage(roomId, { body });
}

export async function createRoom(server: TestServer, slug: string): Promise<number> {
  const { rows } = await superuserQuery<{ id: number }>(
    server.dbUrl,
    `insert into public.rooms (slug, title) values ($1, $1) returning id`,
    [slug],
  );
  return Number(rows[0].id);
}

/** A bare Phoenix socket, for frames and failures the official client never produces. */
export class RawSocket {
  readonly frames: unknown[] = [];
  closed: { code: number; reason: string } | undefined;
  private ref = 0;

  private constructor(
    readonly ws: WebSocket,
    readonly vsn: Vsn,
  ) {
    ws.on('message', (data: Buffer, isBinary) => this.frames.push(isBinary ? data : JSON.parse(data.toString())));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static open(server: TestServer, vsn: Vsn, apikey = server.anonKey): Promise<RawSocket> {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${apikey}&vsn=${vsn}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawSocket(ws, vsn)));
      ws.once('error', reject);
    });
  }

  /** Sends a message and returns its ref. */
  push(topic: string, event: string, payload: unknown, joinRef: string | null = null): string {
    const ref = String(++this.ref);
    this.ws.send(
      JSON.stringify(this.vsn === '2.0.0' ? [joinRef, ref, topic, event, payload] : { join_ref: joinRef, ref, topic, event, payload }),
    );
    return ref;
  }

  /** The reply to `ref` as {status, response}. */
  reply(ref: string): Promise<{ status: string; response: Record<string, unknown> }> {
    return waitFor(`reply to ${ref}`, () => {
      for (const f of this.frames) {
        const m = this.normalise(f);
        if (m && m.ref === ref && m.event === 'phx_reply') return m.payload as { status: string; response: Record<string, unknown> };
      }
      return undefined;
    });
  }

  messages(event: string): Array<{ topic: string; payload: unknown; join_ref: unknown }> {
    return this.frames.map((f) => this.normalise(f)).filter((m): m is NonNullable<typeof m> => m !== undefined && m.event === event);
  }

  private normalise(f: unknown) {
    if (Buffer.isBuffer(f)) return undefined;
    if (Array.isArray(f)) return { join_ref: f[0], ref: f[1], topic: f[2], event: f[3], payload: f[4] };
    return f as { join_ref: unknown; ref: unknown; topic: string; event: string; payload: unknown };
  }
}

/**
 * Pushes one frame per item, waiting for a reply every 50: local-supabase closes a socket with more
 * than 100 frames waiting to be handled, and frames sent at once may all be waiting. Returns the refs.
 */
export async function pushAll(
  socket: RawSocket,
  count: number,
  frame: (i: number) => [topic: string, event: string, payload: unknown, joinRef: string],
): Promise<string[]> {
  const refs: string[] = [];
  for (let i = 0; i < count; i++) {
    refs.push(socket.push(...frame(i)));
    if (i % 50 === 49 || i === count - 1) await socket.reply(refs[i]);
  }
  return refs;
}
