// One websocket connection and the channels joined on it.
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { MAX_EVENTS_PER_SECOND, MAX_JOINS_PER_SECOND, PresenceWindow, RateCounter } from './limits';
import type { ChangeListener } from './postgres-changes';
import { encodeMessage, type Message, type Vsn } from './protocol';
import type { VerifiedClaims } from './token';

/** A subscriber that stops reading must not make the server buffer without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export class ClientSocket {
  readonly channels = new Map<string, Channel>();
  /** Frames of one socket are handled in order, each after the previous one's database work. */
  queue: Promise<void> = Promise.resolve();
  /** Frames received and not yet handled, and their bytes. */
  pending = 0;
  pendingBytes = 0;
  lastSeen = Date.now();
  /** Counted among the concurrent users: it has joined a channel. */
  isUser = false;
  /** The client's broadcasts and other channel events. */
  readonly events = new RateCounter(MAX_EVENTS_PER_SECOND);
  readonly joins = new RateCounter(MAX_JOINS_PER_SECOND);

  constructor(
    readonly ws: WebSocket,
    /** The connection under `ws`. */
    private readonly stream: Duplex,
    readonly vsn: Vsn,
    /** The handshake's apikey: the token of a join that brings none. */
    readonly apikey: string,
  ) {}

  send(frame: string | Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ws.terminate();
      return;
    }
    this.ws.send(frame);
  }

  /**
   * Holds what is sent until uncork: frames sent in between leave in one write (one system call)
   * instead of one each. Nested corks count, as on any Node stream.
   */
  cork(): void {
    this.stream.cork();
  }

  uncork(): void {
    this.stream.uncork();
  }

  reply(to: Message, status: 'ok' | 'error', response: unknown): void {
    this.send(
      encodeMessage(this.vsn, { joinRef: to.joinRef, ref: to.ref, topic: to.topic, event: 'phx_reply', payload: { status, response } }),
    );
  }
}

export interface ChannelOptions {
  topic: string;
  joinRef: string | null;
  token: string;
  claims: VerifiedClaims;
  broadcastSelf: boolean;
  broadcastAck: boolean;
  presenceKey: string;
}

export class Channel implements ChangeListener {
  readonly topic: string;
  readonly joinRef: string | null;
  readonly broadcastSelf: boolean;
  readonly broadcastAck: boolean;
  readonly presenceKey: string;
  token: string;
  claims: VerifiedClaims;
  expiryTimer: NodeJS.Timeout | undefined;
  readonly presenceCalls = new PresenceWindow();

  constructor(
    readonly socket: ClientSocket,
    options: ChannelOptions,
  ) {
    this.topic = options.topic;
    this.joinRef = options.joinRef;
    this.token = options.token;
    this.claims = options.claims;
    this.broadcastSelf = options.broadcastSelf;
    this.broadcastAck = options.broadcastAck;
    this.presenceKey = options.presenceKey;
  }

  get vsn(): Vsn {
    return this.socket.vsn;
  }

  /** The topic without `realtime:`, as system messages name the channel. */
  get subtopic(): string {
    return this.topic.slice('realtime:'.length);
  }

  send(frame: string | Buffer): void {
    this.socket.send(frame);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  /** A message of this channel (carries its join_ref, so a rejoined client drops stale ones). */
  push(event: string, payload: unknown): void {
    this.send(encodeMessage(this.vsn, { joinRef: this.joinRef, ref: null, topic: this.topic, event, payload }));
  }
}
