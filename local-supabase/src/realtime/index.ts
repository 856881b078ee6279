// /realtime/v1/websocket: Supabase Realtime's Phoenix channels (vsn 1.0.0 and 2.0.0) with
// postgres_changes from logical replication under RLS, broadcast and presence.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import type { Context } from '../context';
import { endSocket } from '../http';
import { Channel, ClientSocket } from './channel';
import { MAX_CHANNELS_PER_SOCKET, MAX_CONCURRENT_USERS, MAX_FRAME_BYTES, MAX_PAYLOAD_BYTES, MAX_PENDING_BYTES } from './limits';
import { PostgresChanges, PUBLICATION, SubscribeError, bindingId } from './postgres-changes';
import { Presence, type PresenceDiff } from './presence';
import {
  decodeFrame,
  encodeBroadcast,
  encodeMessage,
  FrameError,
  isUserBroadcast,
  VSNS,
  type BroadcastBody,
  type Message,
  type Vsn,
} from './protocol';
import { ReplicationFeed } from './replication';
import { confirmToken, TokenError, type VerifiedClaims } from './token';

export interface Realtime {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  close(): Promise<void>;
}

/** The client heartbeats every 25 s; a socket silent for longer than two beats is gone. */
const IDLE_TIMEOUT_MS = 60_000;
/** Upstream re-checks a channel's token at expiry, and at least this often. */
const MAX_TOKEN_RECHECK_MS = 5 * 60_000;
const MAX_PENDING_FRAMES = 100;
const MAX_BINDINGS_PER_JOIN = 100;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/**
 * A join's flags as upstream casts them (lib/realtime_web/channels/payloads/flexible_boolean.ex):
 * true, or "true" in any case; anything else is the default, false.
 */
const flag = (v: unknown): boolean => v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

export async function createRealtime(ctx: Context): Promise<Realtime> {
  const changes = await PostgresChanges.create(ctx.admin, ctx.log);
  const feed = new ReplicationFeed({
    connectionString: ctx.adminConnectionString,
    publication: PUBLICATION,
    wants: (relation) => changes.listensTo(relation),
    onTransaction: (rows) => changes.push(rows),
    // Changes committed while the feed was down are gone from the new slot. Closing every socket
    // makes each client rejoin, and a rejoin is when an app catches up on what it missed.
    onResumed: () => server.closeSockets(1012, 'service restart: changes may have been missed'),
    log: ctx.log,
  });
  await feed.start();
  const server = new RealtimeServer(ctx, changes);
  return {
    upgrade: (req, socket, head, url) => server.upgrade(req, socket, head, url),
    async close() {
      server.close();
      await changes.close();
      await feed.close();
    },
  };
}

class RealtimeServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly sockets = new Set<ClientSocket>();
  private readonly topics = new Map<string, Set<Channel>>();
  private readonly presence = new Presence<Channel>();
  private readonly idleSweep: NodeJS.Timeout;
  /** Sockets that have joined a channel (ClientSocket.isUser). */
  private users = 0;

  constructor(
    private readonly ctx: Context,
    private readonly changes: PostgresChanges,
  ) {
    this.idleSweep = setInterval(() => {
      for (const s of this.sockets) if (Date.now() - s.lastSeen > IDLE_TIMEOUT_MS) s.ws.terminate();
    }, IDLE_TIMEOUT_MS / 2);
    this.idleSweep.unref();
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const vsn = (url.searchParams.get('vsn') ?? '1.0.0') as Vsn;
    if (!VSNS.includes(vsn)) return rejectHandshake(socket, 400, `Unsupported protocol version ${vsn}`);
    const header = req.headers['x-api-key'] ?? req.headers.apikey;
    const apikey = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('apikey');
    if (!apikey) return rejectHandshake(socket, 401, 'API key is missing');
    try {
      confirmToken(apikey, this.ctx.jwtSecret);
    } catch (err) {
      if (err instanceof TokenError) return rejectHandshake(socket, 401, err.message);
      throw err;
    }
    // RealtimeWeb.UserSocket.connect via TenantRateLimiters.check_tenant.
    if (this.users >= MAX_CONCURRENT_USERS) return rejectHandshake(socket, 429, 'Too many connected users');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket, vsn, apikey));
  }

  close(): void {
    clearInterval(this.idleSweep);
    // 1001 "going away": the client reconnects, as it should when the server restarts.
    this.closeSockets(1001, 'server shutting down');
    this.wss.close();
  }

  closeSockets(code: number, reason: string): void {
    for (const s of this.sockets) {
      this.dropSocket(s);
      s.ws.close(code, reason);
    }
  }

  private accept(ws: WebSocket, stream: Duplex, vsn: Vsn, apikey: string): void {
    const socket = new ClientSocket(ws, stream, vsn, apikey);
    this.sockets.add(socket);
    // Oversized or malformed websocket frames end here; ws closes the socket itself afterwards.
    ws.on('error', (err) => this.ctx.log(`realtime: socket error: ${err.message}`));
    ws.on('close', () => this.dropSocket(socket));
    ws.on('message', (data: Buffer, isBinary) => {
      socket.lastSeen = Date.now();
      let message: Message;
      try {
        message = decodeFrame(data, isBinary, vsn);
      } catch (err) {
        // Phoenix cannot answer a frame it cannot read (no topic, no ref): close cleanly.
        ws.close(1007, err instanceof FrameError ? err.message : 'malformed frame');
        return;
      }
      // Frames are handled in order, some waiting on the database; a client that sends faster
      // than that is closed rather than allowed to queue without bound.
      socket.pendingBytes += data.length;
      if (++socket.pending > MAX_PENDING_FRAMES || socket.pendingBytes > MAX_PENDING_BYTES) {
        ws.close(1008, 'too many frames in flight');
        return;
      }
      socket.queue = socket.queue
        .then(() => this.handle(socket, message))
        .catch((err: Error) => {
          this.ctx.log(`realtime: ${message.event} on ${message.topic} failed: ${err.stack}`);
          socket.reply(message, 'error', { reason: 'internal error' });
        })
        .finally(() => {
          socket.pending--;
          socket.pendingBytes -= data.length;
        });
    });
  }

  private dropSocket(socket: ClientSocket): void {
    if (!this.sockets.delete(socket)) return;
    if (socket.isUser) this.users--;
    for (const channel of socket.channels.values()) this.removeChannel(channel);
  }

  private async handle(socket: ClientSocket, m: Message): Promise<void> {
    if (!this.sockets.has(socket)) return;
    if (m.topic === 'phoenix') {
      if (m.event === 'heartbeat') socket.reply(m, 'ok', {});
      else socket.reply(m, 'error', { reason: 'unknown event' });
      return;
    }
    if (m.event === 'phx_join') return this.join(socket, m);
    const channel = socket.channels.get(m.topic);
    if (!channel) return socket.reply(m, 'error', { reason: 'unmatched topic' });
    switch (m.event) {
      case 'phx_leave':
        socket.reply(m, 'ok', {});
        channel.push('phx_close', {});
        return this.removeChannel(channel);
      case 'access_token':
        return this.refreshToken(channel, m);
      case 'presence':
        return this.trackPresence(channel, m);
    }
    // RealtimeChannel counts broadcasts and unknown events against the events limit, and ends a
    // channel with this message once it is reached.
    if (socket.events.add()) return this.shutdown(channel, 'Too many messages per second');
    if (m.event === 'broadcast') return this.broadcast(channel, m);
    socket.reply(m, 'error', { reason: `unknown event ${m.event}` });
  }

  private async join(socket: ClientSocket, m: Message): Promise<void> {
    if (!m.topic.startsWith('realtime:')) return socket.reply(m, 'error', { reason: 'unmatched topic' });
    if (m.topic === 'realtime:') return socket.reply(m, 'error', { reason: 'You must provide a topic name' });
    if (socket.joins.add()) {
      // realtime_channel.ex: the join is refused and the transport told to disconnect.
      socket.reply(m, 'error', { reason: 'ClientJoinRateLimitReached: Too many joins per second' });
      socket.ws.close(1000, 'Too many joins per second');
      return;
    }
    const payload = isObject(m.payload) ? m.payload : {};
    const config = isObject(payload.config) ? payload.config : {};
    if (flag(config.private)) {
      return socket.reply(m, 'error', { reason: 'Private channels are not supported by local-supabase' });
    }
    const previous = socket.channels.get(m.topic);
    if (!previous && socket.channels.size >= MAX_CHANNELS_PER_SOCKET) {
      return socket.reply(m, 'error', { reason: 'ChannelRateLimitReached: Too many channels' });
    }
    const given = typeof payload.access_token === 'string' ? payload.access_token : payload.user_token;
    // Publishable keys (sb_…) are not JWTs: such a join runs with the socket's key.
    const token = typeof given === 'string' && !given.startsWith('sb_') ? given : socket.apikey;
    let claims: VerifiedClaims;
    try {
      claims = confirmToken(token, this.ctx.jwtSecret);
    } catch (err) {
      if (err instanceof TokenError) return socket.reply(m, 'error', { reason: err.message });
      throw err;
    }
    const params = config.postgres_changes ?? [];
    if (!Array.isArray(params) || !params.every(isObject)) {
      return socket.reply(m, 'error', { reason: 'config.postgres_changes must be a list of objects' });
    }
    if (params.length > MAX_BINDINGS_PER_JOIN) {
      return socket.reply(m, 'error', { reason: `at most ${MAX_BINDINGS_PER_JOIN} postgres_changes bindings per channel` });
    }

    if (previous) this.removeChannel(previous); // Phoenix: a duplicate join replaces the channel.
    const broadcast = isObject(config.broadcast) ? config.broadcast : {};
    const presence = isObject(config.presence) ? config.presence : {};
    const channel = new Channel(socket, {
      topic: m.topic,
      joinRef: m.joinRef,
      token,
      claims,
      broadcastSelf: flag(broadcast.self),
      broadcastAck: flag(broadcast.ack),
      presenceKey: typeof presence.key === 'string' && presence.key !== '' ? presence.key : randomUUID(),
    });

    // Validate and register before replying: a client that inserts as soon as it sees SUBSCRIBED
    // must get that change.
    let subscribeError: string | undefined;
    if (params.length > 0) {
      try {
        this.changes.subscribe(channel, await this.changes.prepare(params, claims));
      } catch (err) {
        if (!(err instanceof SubscribeError)) throw err;
        subscribeError = err.message;
      }
    }
    if (!this.sockets.has(socket)) return this.changes.unsubscribe(channel);
    // Counted when the join completes, so concurrent joins cannot pass the limit together.
    if (!socket.isUser) {
      if (this.users >= MAX_CONCURRENT_USERS) {
        this.changes.unsubscribe(channel);
        return socket.reply(m, 'error', { reason: 'ConnectionRateLimitReached: Too many connected users' });
      }
      socket.isUser = true;
      this.users++;
    }
    socket.channels.set(m.topic, channel);
    const members = this.topics.get(m.topic) ?? new Set<Channel>();
    members.add(channel);
    this.topics.set(m.topic, members);
    this.watchExpiry(channel);

    socket.reply(m, 'ok', { postgres_changes: params.map((p) => ({ ...p, id: bindingId(p) })) });
    if (params.length > 0) {
      channel.push('system', {
        extension: 'postgres_changes',
        status: subscribeError ? 'error' : 'ok',
        message: subscribeError ?? 'Subscribed to PostgreSQL',
        channel: channel.subtopic,
      });
    }
    if (flag(presence.enabled)) channel.push('presence_state', this.presence.state(m.topic));
  }

  private removeChannel(channel: Channel): void {
    const { socket, topic } = channel;
    if (socket.channels.get(topic) !== channel) return;
    socket.channels.delete(topic);
    clearTimeout(channel.expiryTimer);
    this.changes.unsubscribe(channel);
    const members = this.topics.get(topic);
    members?.delete(channel);
    if (members?.size === 0) this.topics.delete(topic);
    this.sendPresenceDiff(topic, this.presence.untrack(topic, channel));
  }

  /** Ends a channel the way upstream's shutdown_response does: a system error, then phx_close. */
  private shutdown(channel: Channel, reason: string): void {
    channel.push('system', { extension: 'system', status: 'error', message: reason, channel: channel.subtopic });
    channel.push('phx_close', {});
    this.removeChannel(channel);
  }

  private refreshToken(channel: Channel, m: Message): void {
    const token = isObject(m.payload) ? m.payload.access_token : undefined;
    // Upstream ignores a missing or unchanged token, and never replies.
    if (typeof token !== 'string' || token === channel.token) return;
    try {
      channel.claims = confirmToken(token, this.ctx.jwtSecret);
      channel.token = token;
      this.watchExpiry(channel);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      this.shutdown(channel, err.message);
    }
  }

  private watchExpiry(channel: Channel): void {
    clearTimeout(channel.expiryTimer);
    const delay = Math.max(0, Math.min(MAX_TOKEN_RECHECK_MS, channel.claims.exp * 1000 - Date.now()));
    channel.expiryTimer = setTimeout(() => {
      try {
        confirmToken(channel.token, this.ctx.jwtSecret);
        this.watchExpiry(channel);
      } catch (err) {
        this.shutdown(channel, (err as Error).message);
      }
    }, delay);
    channel.expiryTimer.unref();
  }

  private broadcast(channel: Channel, m: Message): void {
    let event: unknown;
    let content: BroadcastBody;
    if (isUserBroadcast(m.payload)) {
      ({ event, content } = m.payload);
    } else {
      const payload = isObject(m.payload) ? m.payload : {};
      event = payload.event;
      content = { json: payload.payload ?? {} };
    }
    if (typeof event !== 'string') return channel.socket.reply(m, 'error', { reason: 'broadcast needs an event name' });
    // BroadcastHandler: an oversized broadcast is dropped, and only an acknowledging sender hears of it.
    if (broadcastBytes(m.payload) > MAX_PAYLOAD_BYTES) {
      if (channel.broadcastAck) channel.socket.reply(m, 'error', 'payload_size_exceeded');
      return;
    }
    const frames = new Map<Vsn, string | Buffer | undefined>();
    for (const member of this.topics.get(channel.topic) ?? []) {
      if (member === channel && !channel.broadcastSelf) continue;
      if (!frames.has(member.vsn)) frames.set(member.vsn, encodeBroadcast(member.vsn, member.topic, event, content));
      const frame = frames.get(member.vsn);
      if (frame !== undefined) member.send(frame);
    }
    if (channel.broadcastAck) channel.socket.reply(m, 'ok', {});
  }

  private trackPresence(channel: Channel, m: Message): void {
    const payload = isObject(m.payload) ? m.payload : {};
    // PresenceHandler.handle: every presence message counts against the channel's window first.
    if (!channel.presenceCalls.allow()) return this.shutdown(channel, 'Client presence rate limit exceeded');
    const event = typeof payload.event === 'string' ? payload.event.toLowerCase() : payload.event;
    if (event === 'track') {
      if (!isObject(payload.payload)) {
        return channel.socket.reply(m, 'error', { reason: 'Presence track payload must be a map' });
      }
      if (jsonBytes(payload.payload) > MAX_PAYLOAD_BYTES) return this.shutdown(channel, 'Track message size exceeded');
      this.sendPresenceDiff(channel.topic, this.presence.track(channel.topic, channel, channel.presenceKey, payload.payload));
    } else if (event === 'untrack') {
      this.sendPresenceDiff(channel.topic, this.presence.untrack(channel.topic, channel));
    } else {
      return channel.socket.reply(m, 'error', { reason: `unknown presence event ${String(payload.event)}` });
    }
    channel.socket.reply(m, 'ok', {});
  }

  private sendPresenceDiff(topic: string, diff: PresenceDiff | undefined): void {
    if (!diff) return;
    for (const member of this.topics.get(topic) ?? []) {
      // Fan-out messages carry no refs (Phoenix fastlane).
      member.send(encodeMessage(member.vsn, { joinRef: null, ref: null, topic, event: 'presence_diff', payload: diff }));
    }
  }
}

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** A broadcast's size as upstream weighs it (Tenants.validate_payload_size): its payload as sent. */
function broadcastBytes(payload: unknown): number {
  if (!isUserBroadcast(payload)) return jsonBytes(payload);
  const { event, content } = payload;
  return Buffer.byteLength(event) + ('bytes' in content ? content.bytes.length : jsonBytes(content.json));
}

function rejectHandshake(socket: Duplex, status: number, message: string): void {
  endSocket(socket, status, { error: message });
}
