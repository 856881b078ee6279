// What one client may make the server hold or do, with self-hosted Supabase Realtime's defaults
// (supabase/realtime config/runtime.exs, lib/realtime/api/tenant.ex, lib/realtime_web/endpoint.ex).
// Upstream counts users and events per tenant (project); local-supabase serves one project to
// every client, so events are counted per client socket: one client is bounded without letting
// it lock out the others.

/** endpoint.ex: the websocket's `max_frame_size`. */
export const MAX_FRAME_BYTES = 5_000_000;
/** tenant.ex `max_payload_size_in_kb` (3000), plus tenants.ex's 500-byte `@payload_size_padding`. */
export const MAX_PAYLOAD_BYTES = 3000 * 1000 + 500;
/** TENANT_MAX_CHANNELS_PER_CLIENT. */
export const MAX_CHANNELS_PER_SOCKET = 100;
/** TENANT_MAX_CONCURRENT_USERS: sockets that have joined a channel. */
export const MAX_CONCURRENT_USERS = 200;
/** TENANT_MAX_EVENTS_PER_SECOND, averaged as the RateCounter below averages it. */
export const MAX_EVENTS_PER_SECOND = 100;
/**
 * TENANT_MAX_JOINS_PER_SECOND, averaged the same way: without it a client rejoining in a loop gets
 * a fresh channel (and presence window) each time, and floods every member with presence_diff.
 */
export const MAX_JOINS_PER_SECOND = 100;
/** CLIENT_PRESENCE_MAX_CALLS presence messages per CLIENT_PRESENCE_WINDOW_MS, per channel. */
export const PRESENCE_CALLS_PER_WINDOW = 5;
export const PRESENCE_WINDOW_MS = 30_000;
/**
 * WEBSOCKET_MAX_HEAP_SIZE: upstream kills a socket process whose heap passes it; here, the bytes of
 * the frames a socket has sent and the server has not handled yet.
 */
export const MAX_PENDING_BYTES = 50_000_000;

const TICK_MS = 5000;
const MAX_BUCKETS = 12;

/**
 * Realtime.RateCounter (lib/realtime/rate_counter/rate_counter.ex) as the events counter uses it:
 * events are counted per 5 s tick, each tick takes the average rate over the last 12 ticks, and
 * the limit stays triggered while that average is at or above it. Ticks are settled when an event
 * arrives rather than by a timer.
 */
export class RateCounter {
  private count = 0;
  private buckets: number[] = [];
  private tickStart: number;
  private triggered = false;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tickStart = now();
  }

  /** Counts one event; true while the limit is triggered (as of the last completed tick). */
  add(): boolean {
    const ticks = Math.floor((this.now() - this.tickStart) / TICK_MS);
    if (ticks > 0) {
      const idle = Array<number>(Math.min(ticks - 1, MAX_BUCKETS)).fill(0);
      this.buckets = [...idle, this.count, ...this.buckets].slice(0, MAX_BUCKETS);
      this.count = 0;
      this.tickStart += ticks * TICK_MS;
      const average = this.buckets.reduce((a, b) => a + b, 0) / this.buckets.length / (TICK_MS / 1000);
      this.triggered = average >= this.perSecond;
    }
    this.count++;
    return this.triggered;
  }
}

/**
 * The client presence limit (lib/realtime_web/channels/realtime_channel/presence_handler.ex,
 * limit_client_presence_event): a window opens at a channel's first presence message and admits
 * PRESENCE_CALLS_PER_WINDOW of them until it ends.
 */
export class PresenceWindow {
  private calls = 0;
  private resetAt = -Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one presence message; false when the window is full. */
  allow(): boolean {
    const now = this.now();
    if (now > this.resetAt) {
      this.calls = 1;
      this.resetAt = now + PRESENCE_WINDOW_MS;
      return true;
    }
    if (this.calls >= PRESENCE_CALLS_PER_WINDOW) return false;
    this.calls++;
    return true;
  }
}
