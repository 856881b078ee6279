// The moderation desk's and the block list's ports over an official SupabaseClient: the tables
// and database functions of supabase/migrations/20261206140000_moderation.sql, through PostgREST.
// Each call signs in first (the room's Backend.userId: a stored session, or WeChat login), as a
// page may be the first thing the app opens.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { BlockPort, BlockRow } from './blocks';
import type { BanRow, MessageStatus, ModerationPort, QueueRow } from './moderation-desk';
import type { Backend } from './ports';
import { failureOf, type ErrorAnswer } from './supabase-backend';

/** What the ports need of the room's backend. */
export type SessionSource = Pick<Backend, 'userId' | 'publicImageUrl'>;

/** A postgrest-js query or RPC, as the ports run it. */
interface RestCall extends PromiseLike<ErrorAnswer & { data: unknown }> {
  retry(enabled: boolean): RestCall;
}

/**
 * The call's data, or its failure as a BackendFailure. postgrest-js's own retries of GETs are off:
 * a moderator who tapped a button hears of a failure at once and taps again.
 */
async function run<T>(call: RestCall): Promise<T> {
  const answer = await call.retry(false);
  if (answer.error) throw failureOf(answer);
  return answer.data as T;
}

export function supabaseModerationPort(client: SupabaseClient, session: SessionSource): ModerationPort {
  return {
    async isModerator() {
      const userId = await session.userId();
      // RLS shows a moderator their own row and nobody anything else.
      const rows = await run<unknown[]>(client.from('moderators').select('user_id').eq('user_id', userId).limit(1));
      return rows.length > 0;
    },
    async queue(beforeId, pageSize) {
      await session.userId();
      return run<QueueRow[]>(client.rpc('moderation_queue', { before_id: beforeId, page_size: pageSize }));
    },
    async moderate(messageId, action) {
      await session.userId();
      return run<MessageStatus>(client.rpc('moderate_message', { message: messageId, action }));
    },
    async banAuthor(messageId, reason) {
      await session.userId();
      return run<string>(client.rpc('ban_author', { message: messageId, reason }));
    },
    async unban(openid) {
      await session.userId();
      await run<null>(client.rpc('unban', { person: openid }));
    },
    async bans() {
      await session.userId();
      return run<BanRow[]>(client.from('bans').select('openid,reason,created_at').order('created_at', { ascending: false }));
    },
    imageUrl: (storagePath) => session.publicImageUrl(storagePath),
  };
}

export function supabaseBlockPort(client: SupabaseClient, session: SessionSource): BlockPort {
  return {
    async list() {
      await session.userId();
      return run<BlockRow[]>(client.from('blocks').select('blocked,blocked_name,created_at').order('created_at', { ascending: false }));
    },
    async block(userId, name) {
      await session.userId();
      await run<null>(client.from('blocks').insert({ blocked: userId, blocked_name: name }));
    },
    async unblock(userId) {
      await session.userId();
      // RLS keeps the delete to the caller's own blocks.
      await run<null>(client.from('blocks').delete().eq('blocked', userId));
    },
  };
}
