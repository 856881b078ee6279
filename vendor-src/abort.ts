// AbortController and AbortSignal for the vendor bundle (WeChat has neither). supabase-js only
// creates a controller, passes its signal to fetch and aborts it; the `abort-controller` package
// would add a complete EventTarget implementation (about 8 KB) for that and is no longer
// maintained, so this is the small subset with the standard's observable behaviour.

type AbortListener = (event: { type: 'abort'; target: AbortSignal }) => void;

interface ListenerEntry {
  listener: AbortListener;
  once: boolean;
}

/** The standard's default reason, a DOMException named AbortError (WeChat has no DOMException). */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export class AbortSignal {
  aborted = false;
  reason: unknown = undefined;
  onabort: AbortListener | null = null;
  private listeners: ListenerEntry[] = [];

  addEventListener(type: string, listener: AbortListener, options?: boolean | { once?: boolean }): void {
    if (type !== 'abort' || !listener || this.listeners.some((entry) => entry.listener === listener)) return;
    this.listeners.push({ listener, once: typeof options === 'object' && !!options.once });
  }

  removeEventListener(type: string, listener: AbortListener): void {
    if (type === 'abort') this.listeners = this.listeners.filter((entry) => entry.listener !== listener);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  static abort(reason?: unknown): AbortSignal {
    const controller = new AbortController();
    controller.abort(reason);
    return controller.signal;
  }

  static timeout(ms: number): AbortSignal {
    const controller = new AbortController();
    setTimeout(() => controller.abort(namedError('TimeoutError', 'The operation was aborted due to timeout')), ms);
    return controller.signal;
  }

  /** Called only by AbortController: signals cannot abort themselves. */
  static fire(signal: AbortSignal, reason: unknown): void {
    if (signal.aborted) return;
    signal.aborted = true;
    signal.reason = reason === undefined ? namedError('AbortError', 'This operation was aborted') : reason;
    const event = { type: 'abort' as const, target: signal };
    const entries = signal.listeners;
    signal.listeners = entries.filter((entry) => !entry.once);
    if (signal.onabort) signal.onabort.call(signal, event);
    for (const entry of entries) entry.listener.call(signal, event);
  }
}

export class AbortController {
  readonly signal = new AbortSignal();

  abort(reason?: unknown): void {
    AbortSignal.fire(this.signal, reason);
  }
}
