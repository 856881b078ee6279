// Capped exponential backoff: how long the core waits before trying something again (a send, a
// connect, a gap-fill), and the one timer each kind of retry keeps.
import type { Clock, TimerHandle } from './ports';

export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 30000;

/** The wait before retry number `attempts`: 1, 2, 4 … s, capped at MAX_RETRY_MS. */
export function retryDelay(attempts: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
}

/**
 * Failures in a row and the one timer that tries again after them. A failure reported while a
 * retry already waits is part of the same outage: it neither adds a timer nor lengthens the wait.
 */
export class Retry {
  private failures = 0;
  private timer: TimerHandle | null = null;

  constructor(private readonly clock: Clock) {}

  /** Failures since the last success. */
  get count(): number {
    return this.failures;
  }

  /** One more failure: `run` is called after the backoff delay, unless a retry already waits. */
  schedule(run: () => void): void {
    if (this.timer !== null) return;
    this.failures++;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      run();
    }, retryDelay(this.failures));
  }

  /** The waiting retry, if any, will not run. */
  cancel(): void {
    if (this.timer === null) return;
    this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** It worked: the next failure waits the shortest delay again. */
  succeeded(): void {
    this.failures = 0;
  }
}
