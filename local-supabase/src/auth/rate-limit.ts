// GoTrue's per-client limits (supabase/auth internal/api/apilimiter/apilimiter.go): a token bucket
// per client address and endpoint group, refilled at `limit` per window with a burst of 30 (the
// anonymous sign-in bucket's burst is its whole hourly limit). Hosted projects key it by the caller's
// address; so does local-supabase, by the connection's address.
import type { IncomingMessage } from 'node:http';
import type { AuthRateLimits } from '../project-config';

export type LimitedAction = keyof AuthRateLimits;

const WINDOW_S: Record<LimitedAction, number> = {
  anonymousUsers: 3600,
  signInSignUps: 300,
  tokenRefresh: 300,
  tokenVerifications: 300,
};
const BURST = 30;
/** Past this many tracked clients, buckets that have refilled are dropped. */
const SWEEP_AT = 10000;

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiter {
  /** Takes one request's token; false when the client is over its limit. */
  take(action: LimitedAction, req: IncomingMessage): boolean;
}

export function clientAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function createRateLimiter(limits: AuthRateLimits, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, Bucket>();
  const refilled = (action: LimitedAction, bucket: Bucket, t: number) => {
    const limit = limits[action];
    const burst = action === 'anonymousUsers' ? limit : BURST;
    return { burst, tokens: Math.min(burst, bucket.tokens + ((t - bucket.at) * limit) / (WINDOW_S[action] * 1000)) };
  };
  const sweep = (t: number) => {
    for (const [key, bucket] of buckets) {
      const { burst, tokens } = refilled(key.split(' ')[0] as LimitedAction, bucket, t);
      if (tokens >= burst) buckets.delete(key);
    }
  };
  return {
    take(action, req) {
      const key = `${action} ${clientAddress(req)}`;
      const t = now();
      if (buckets.size > SWEEP_AT) sweep(t);
      const { burst, tokens } = refilled(action, buckets.get(key) ?? { tokens: Infinity, at: t }, t);
      if (tokens < 1) {
        buckets.set(key, { tokens, at: t });
        return false;
      }
      // Only a bucket below its burst carries state; a full one is the same as no entry.
      if (tokens - 1 >= burst) buckets.delete(key);
      else buckets.set(key, { tokens: tokens - 1, at: t });
      return true;
    },
  };
}
