// A supabase-js client made while a suite has a DOM (installDom) takes the process for a browser
// and, where the environment has a BroadcastChannel (Node's does; jest's jsdom does not), opens
// one to share its session with other tabs (supabase/supabase-js
// packages/core/auth-js/src/GoTrueClient.ts). An open channel keeps Node's event loop alive, so
// that suite's process never exits: run alone, jest hangs after the results; in a full run, jest
// kills the worker. Every channel is tracked; after each test file the ones still open are closed
// and the file fails, saying where each was opened.
const open = new Map<BroadcastChannel, string>();

const Native = globalThis.BroadcastChannel as typeof BroadcastChannel | undefined;
if (Native) {
  globalThis.BroadcastChannel = class TrackedBroadcastChannel extends Native {
    constructor(name: string) {
      super(name);
      open.set(this, new Error('opened').stack ?? '');
    }

    override close(): void {
      open.delete(this);
      super.close();
    }
  };
}

/** Closes every channel still open; answers where each was opened. */
export function closeOpenBroadcastChannels(): string[] {
  const stacks = [...open.values()];
  for (const channel of [...open.keys()]) channel.close();
  return stacks;
}

afterAll(() => {
  const left = closeOpenBroadcastChannels();
  if (left.length) {
    throw new Error(
      `${left.length} BroadcastChannel(s) left open, which keep jest from exiting: a supabase-js client was made under a DOM (give the page test services instead). The first: ${left[0]}`,
    );
  }
});
