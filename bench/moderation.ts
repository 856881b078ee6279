// Moderation benchmark: from one person's send (the app's insert through PostgREST) until a second
// person's client receives the message as visible by Realtime, with content moderation on and the
// fake WeChat API answering every call in 50 ms (delayAnswers), then the same with moderation off,
// and the difference: what checking every message with msgSecCheck costs. The path with moderation
// on: insert → trigger → pg_net (after commit) → the moderate Edge Function under Deno →
// msg_sec_check → the verdict RPC → a Realtime UPDATE. Probes go one at a time on a quiet server;
// authors take turns so that none reaches the rate limit (10 messages in 10 s).
// local-supabase runs in this process with durable Postgres (fsync and synchronous_commit on).
//   npx tsx bench/moderation.ts [--quick]
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { startTestServer, superuserQuery, textMessage, wechatUser, type TestServer } from '../test/support/server';
import { runIfMain } from './report';
import { atLeast, atMost, percentile, type Bench, type Figure } from './types';

/** How long the fake WeChat takes to answer msgSecCheck (and every other call). */
const WECHAT_ANSWER_MS = 50;
const AUTHORS = 10;
/**
 * Each author sends at most 8 in 10 s (the database allows 10): the server stamps the time, so a
 * little jitter must not push a window over.
 */
const AUTHOR_SPACING_MS = 1250;
/** Between probes, so each one meets a quiet server. */
const PROBE_GAP_MS = 50;
/** A probe not visible by then counts as not delivered. */
const PROBE_TIMEOUT_MS = 30000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Reader {
  /** Resolves with the time the message with this body arrived as visible. */
  visible(body: string): Promise<number>;
  close(): Promise<void>;
}

/** The second client: the room's INSERTs and UPDATEs as the app subscribes to them (vsn 1.0.0). */
async function subscribeReader(sb: SupabaseClient, roomId: number): Promise<Reader> {
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  const onRow = (row: { status: string; body: string }) => {
    if (row.status !== 'visible' || arrived.has(row.body)) return;
    const at = performance.now();
    arrived.set(row.body, at);
    waiting.get(row.body)?.(at);
  };
  const filter = `room_id=eq.${roomId}`;
  const channel = sb
    .channel(`bench-${randomUUID()}`)
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages', filter }, (p) => onRow(p.new as never))
    .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'messages', filter }, (p) => onRow(p.new as never));
  await new Promise<void>((resolve, reject) =>
    channel.subscribe((status, error) => {
      if (status === 'SUBSCRIBED') resolve();
      else if (status !== 'CLOSED') reject(error ?? new Error(status));
    }),
  );
  return {
    visible: (body) =>
      new Promise((resolve, reject) => {
        const known = arrived.get(body);
        if (known !== undefined) return resolve(known);
        const timer = setTimeout(() => reject(new Error(`${body} not visible within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
        waiting.set(body, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      }),
    close: () => sb.removeChannel(channel).then(() => undefined),
  };
}

/** A person who sends probes, and when they last did. */
interface Author {
  sb: SupabaseClient;
  lastSent: number;
}

interface Probes {
  /** Send → visible on the reader, ms, sorted. */
  latencies: number[];
  /** Probes that never became visible on the reader. */
  missing: number;
}

async function probe(authors: Author[], reader: Reader, roomId: number, count: number, label: string): Promise<Probes> {
  const latencies: number[] = [];
  let missing = 0;
  for (let n = 0; n < count; n++) {
    const author = authors[n % authors.length];
    await sleep(author.lastSent + AUTHOR_SPACING_MS - performance.now());
    const body = `${label} ${n} ${randomUUID()}`;
    const sent = performance.now();
    author.lastSent = sent;
    const { error } = await author.sb.from('messages').insert(textMessage(roomId, { body })).select();
    if (error) throw new Error(`probe ${n}: ${error.code}: ${error.message}`);
    try {
      latencies.push((await reader.visible(body)) - sent);
    } catch {
      missing++;
    }
    await sleep(PROBE_GAP_MS);
  }
  return { latencies: latencies.sort((a, b) => a - b), missing };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

async function setModeration(server: TestServer, enabled: boolean): Promise<void> {
  await superuserQuery(server.dbUrl, 'update private.moderation_settings set enabled = $1', [enabled]);
}

export const run: Bench = async ({ quick }) => {
  const count = quick ? 30 : 200;
  // Durable, as `npm start` runs it; moderation on, as the app ships.
  const server = await startTestServer({ fast: false, moderation: true });
  server.wechat!.delayAnswers(WECHAT_ANSWER_MS);
  try {
    const roomId = Number(
      (await superuserQuery<{ id: number }>(server.dbUrl, `select id from public.rooms where slug = 'lobby'`)).rows[0].id,
    );
    const people = await Promise.all(
      Array.from({ length: AUTHORS }, (_, i) => wechatUser(server, { person: `测速作者${i}`, vsn: '1.0.0' })),
    );
    const authors: Author[] = people.map(({ sb }) => ({ sb, lastSent: -Infinity }));
    const readerPerson = await wechatUser(server, { person: '测速读者', vsn: '1.0.0' });
    const reader = await subscribeReader(readerPerson.sb, roomId);
    try {
      // The first check starts the moderate function's Deno worker and fetches an access token.
      const cold = await probe(authors.slice(0, 1), reader, roomId, 1, 'cold');
      const on = await probe(authors, reader, roomId, count, 'on');
      await setModeration(server, false);
      const off = await probe(authors, reader, roomId, count, 'off');
      const p50 = (p: Probes) => round(percentile(p.latencies, 50));
      const p99 = (p: Probes) => round(percentile(p.latencies, 99));
      const onLabel = `moderation on, WeChat answers in ${WECHAT_ANSWER_MS} ms`;
      const figures: Figure[] = [
        atMost(`send → visible on a second client, p50 (${onLabel})`, p50(on), 'ms', 120),
        { metric: `send → visible on a second client, p99 (${onLabel})`, value: p99(on), unit: 'ms' },
        { metric: 'send → visible on a second client, p50 (moderation off)', value: p50(off), unit: 'ms' },
        { metric: 'send → visible on a second client, p99 (moderation off)', value: p99(off), unit: 'ms' },
        { metric: 'cost of moderation, p50 (on − off)', value: round(p50(on) - p50(off)), unit: 'ms' },
        { metric: 'cost of moderation, p99 (on − off)', value: round(p99(on) - p99(off)), unit: 'ms' },
        atLeast('visible on the second client, moderation on', on.latencies.length, 'messages', count),
        atLeast('visible on the second client, moderation off', off.latencies.length, 'messages', count),
        { metric: 'first message after start (Deno worker boots)', value: round(cold.latencies[0] ?? NaN), unit: 'ms' },
      ];
      return { name: 'moderation', figures, notes: { probes: count, authors: AUTHORS, missing: { on: on.missing, off: off.missing } } };
    } finally {
      await reader.close();
    }
  } finally {
    await server.stop();
  }
};

runIfMain(__filename, 'moderation', run);
