// The official clients a suite opened through test/support/server.ts. After each test file
// (jest.config.js, setupFilesAfterEnv) every one still open is closed, before the file's own
// afterAll stops its server: a client left subscribed by a test that failed halfway would
// otherwise reconnect to the stopped server forever, and jest would never exit.
import type { SupabaseClient } from '@supabase/supabase-js';

const open = new Set<SupabaseClient>();

export function trackClient(sb: SupabaseClient): SupabaseClient {
  open.add(sb);
  return sb;
}

/** Leaves every channel and closes every realtime connection; a server already gone is fine. */
export async function closeOpenClients(): Promise<void> {
  const clients = [...open];
  open.clear();
  await Promise.allSettled(clients.map((sb) => sb.removeAllChannels()));
}
