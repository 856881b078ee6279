// The Backend over an official SupabaseClient. The client is injected: the mini program takes it
// from the vendor bundle (wired to wx.request and wx.connectSocket), the terminal client from npm.
// Only GET, POST and the realtime socket are used: wx.request does not document PATCH, so every
// change to a stored row is a database function (POST /rpc).
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '../../typings/database.types';
import {
  BackendFailure,
  type Backend,
  type ChannelStatus,
  type ImageUploader,
  type KeyValueStore,
  type NewMessage,
  type RoomChannelHandlers,
  type Subscription,
  type UploadTask,
} from './ports';
import { ROOM_COLUMNS, type HiddenRollRow, type MessageRow, type PickedImage, type ReportReason, type RoomRow } from './types';
import type { Tables } from '../../typings/database.types';
import { authFailure, signInWithWechat, type WechatLogin } from './wechat-login';

export const IMAGES_BUCKET = 'images';

/** The parts of a PostgREST or Auth answer that say what went wrong. */
export interface ErrorAnswer {
  error: { code?: string; message: string } | null;
  status?: number;
}

/** A postgrest-js query as the backend runs it. */
export interface RestQuery extends PromiseLike<{ data: unknown; error: ErrorAnswer['error']; status: number }> {
  retry(enabled: boolean): RestQuery;
}

export function failureOf({ error, status }: ErrorAnswer): BackendFailure {
  const message = error ? error.message : 'no data';
  return new BackendFailure(status || 0, error?.code || '', message);
}

/** Storage errors carry Storage's own statusCode; a 409 means the object already exists. */
export function storageFailure(error: { message: string; status?: number; statusCode?: string; code?: string }): BackendFailure {
  const status = Number(error.statusCode) || error.status || 0;
  return new BackendFailure(status, status === 409 ? 'Duplicate' : error.code || error.statusCode || '', error.message);
}

export class SupabaseBackend implements Backend {
  /** Each subscription gets its own topic, so a new one never reuses a channel still leaving. */
  private channelCount = 0;

  constructor(
    private readonly client: SupabaseClient<Database>,
    private readonly uploader: ImageUploader,
    private readonly login: WechatLogin,
  ) {}

  async userId(): Promise<string> {
    const current = await this.client.auth.getSession();
    if (current.error) throw authFailure(current.error);
    if (current.data.session) return current.data.session.user.id;
    await signInWithWechat(this.client, this.login);
    const signedIn = await this.client.auth.getSession();
    if (signedIn.error) throw authFailure(signedIn.error);
    if (!signedIn.data.session) throw new BackendFailure(500, '', 'WeChat login left no session');
    return signedIn.data.session.user.id;
  }

  async findRoom(slug: string): Promise<RoomRow> {
    const rows = await this.rows<RoomRow>(this.client.from('rooms').select(ROOM_COLUMNS.join(',')).eq('slug', slug).limit(1));
    if (!rows.length) throw new BackendFailure(404, 'room_not_found', `no room with slug ${slug}`);
    return rows[0];
  }

  async newestMessages(roomId: number, limit: number): Promise<MessageRow[]> {
    const rows = await this.rows<MessageRow>(this.messages(roomId).order('id', { ascending: false }).limit(limit));
    return rows.reverse();
  }

  async messagesBefore(roomId: number, beforeId: number, limit: number): Promise<MessageRow[]> {
    const rows = await this.rows<MessageRow>(this.messages(roomId).lt('id', beforeId).order('id', { ascending: false }).limit(limit));
    return rows.reverse();
  }

  messagesAfter(roomId: number, afterId: number, limit: number): Promise<MessageRow[]> {
    return this.rows<MessageRow>(this.messages(roomId).gt('id', afterId).order('id', { ascending: true }).limit(limit));
  }

  async messageByClientId(clientId: string): Promise<MessageRow | null> {
    const rows = await this.rows<MessageRow>(this.client.from('messages').select('*').eq('client_id', clientId).limit(1));
    return rows[0] || null;
  }

  async insertMessage(message: NewMessage): Promise<MessageRow> {
    const rows = await this.rows<MessageRow>(this.client.from('messages').insert(message).select());
    if (!rows.length) throw new BackendFailure(500, '', 'insert returned no row');
    return rows[0];
  }

  uploadImage(storagePath: string, image: PickedImage, onProgress: (percent: number) => void): UploadTask {
    return this.uploader.upload(storagePath, image, onProgress);
  }

  releaseImage(image: PickedImage): void {
    if (this.uploader.release) this.uploader.release(image);
  }

  messagesChangedSince(roomId: number, since: string, throughId: number, limit: number): Promise<MessageRow[]> {
    return this.rows<MessageRow>(
      this.messages(roomId).gte('changed_at', since).lte('id', throughId).order('changed_at', { ascending: true }).limit(limit),
    );
  }

  hiddenRolls(messageIds: number[]): Promise<HiddenRollRow[]> {
    return this.rows<HiddenRollRow>(this.client.from('hidden_rolls').select('*').in('message_id', messageIds));
  }

  recallMessage(id: number): Promise<void> {
    return this.done(this.client.rpc('recall_message', { message: id }));
  }

  reportMessage(id: number, reason: ReportReason): Promise<void> {
    return this.done(this.client.from('reports').insert({ message_id: id, reason }));
  }

  markRead(roomId: number, messageId: number): Promise<void> {
    return this.done(this.client.rpc('mark_read', { scene: roomId, message: messageId }));
  }

  async messageById(id: number): Promise<MessageRow | null> {
    const rows = await this.rows<MessageRow>(this.client.from('messages').select('*').eq('id', id).limit(1));
    return rows[0] ?? null;
  }

  pinMessage(roomId: number, messageId: number | null): Promise<void> {
    return this.done(this.client.rpc('pin_message', { scene: roomId, message: messageId as number }));
  }

  subscribe(roomId: number, handlers: RoomChannelHandlers): Subscription {
    const filter = `room_id=eq.${roomId}`;
    const channel = this.client
      .channel(`room-${roomId}-${++this.channelCount}`)
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages', filter }, (payload) =>
        handlers.row(payload.new as MessageRow),
      )
      // A message turning visible reaches everyone else as an UPDATE: its INSERT was theirs to not see.
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'messages', filter }, (payload) =>
        handlers.row(payload.new as MessageRow),
      )
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'hidden_rolls', filter }, (payload) =>
        handlers.hiddenRoll(payload.new as HiddenRollRow),
      )
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'rooms', filter: `id=eq.${roomId}` }, (payload) =>
        // Realtime sends the whole row; the room keeps the columns it shows.
        handlers.room(roomRowOf(payload.new as Tables<'rooms'>)),
      )
      .subscribe(channelStatus(handlers.status));
    return {
      unsubscribe: () => {
        void this.client.removeChannel(channel);
      },
    };
  }

  publicImageUrl(storagePath: string): string {
    return this.client.storage.from(IMAGES_BUCKET).getPublicUrl(storagePath).data.publicUrl;
  }

  private messages(roomId: number) {
    return this.client.from('messages').select('*').eq('room_id', roomId);
  }

  private rows<T>(query: RestQuery): Promise<T[]> {
    return restRows<T>(query);
  }

  /** A write or call whose answer is only whether it worked. */
  private async done(query: PromiseLike<ErrorAnswer>): Promise<void> {
    const answer = await query;
    if (answer.error) throw failureOf(answer);
  }
}

/** A channel's subscribe callback that reports realtime-js's states as the core's ChannelStatus. */
/** A scene's row narrowed to what the room shows. */
export function roomRowOf(row: Pick<Tables<'rooms'>, (typeof ROOM_COLUMNS)[number]>): RoomRow {
  const shown: Partial<Record<(typeof ROOM_COLUMNS)[number], unknown>> = {};
  for (const column of ROOM_COLUMNS) shown[column] = row[column];
  return shown as RoomRow;
}

export function channelStatus(onStatus: (status: ChannelStatus, detail?: string) => void) {
  return (status: string, error?: Error) => {
    const detail = error ? error.message : undefined;
    if (status === 'SUBSCRIBED') onStatus('subscribed');
    else if (status === 'CLOSED') onStatus('closed', detail);
    else onStatus('error', detail || status);
  };
}

/** The rows a query answers, or its failure as a BackendFailure. */
export async function restRows<T>(query: RestQuery): Promise<T[]> {
  // The core retries by itself (the outbox, the gap-fill's backoff) and at once when the network
  // returns; postgrest-js's own retries of GETs (1, 2, 4 s: supabase/supabase-js,
  // packages/core/postgrest-js/src/fetchWithRetry.ts) would keep that catch-up waiting behind them.
  const answer = await query.retry(false);
  if (answer.error || !Array.isArray(answer.data)) throw failureOf(answer);
  return answer.data as T[];
}

/** supabase-js `auth.storage` over a KeyValueStore, so the session lives where the outbox does. */
export function supabaseAuthStorage(store: KeyValueStore) {
  return {
    getItem: (key: string) => Promise.resolve(store.get<string>(`auth:${key}`)),
    setItem: (key: string, value: string) => Promise.resolve(store.set(`auth:${key}`, value)),
    removeItem: (key: string) => Promise.resolve(store.remove(`auth:${key}`)),
  };
}
