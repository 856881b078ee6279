// The guard in test/support/open-broadcast-channels.ts: a supabase-js client made under a DOM opens
// a BroadcastChannel that would keep the suite's process alive; the guard finds it, says where it
// was opened, and closes it (and fails the file that left it, in its afterAll).
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { installDom } from './support/simulate';
import { closeOpenBroadcastChannels } from './support/open-broadcast-channels';

const options = (storageKey: string, persistSession: boolean) => ({
  auth: { storageKey, persistSession, autoRefreshToken: false },
  realtime: { transport: WebSocket as never },
});

test('without a DOM, a client opens no channel', () => {
  createClient('http://127.0.0.1:9', 'anon', options('channels-a', true));
  expect(closeOpenBroadcastChannels()).toEqual([]);
});

test('under a DOM, a client that persists its session opens one; the guard closes it and says where it was opened', () => {
  const removeDom = installDom();
  try {
    createClient('http://127.0.0.1:9', 'anon', options('channels-b', false));
    expect(closeOpenBroadcastChannels()).toEqual([]);
    createClient('http://127.0.0.1:9', 'anon', options('channels-c', true));
    const left = closeOpenBroadcastChannels();
    expect(left).toHaveLength(1);
    expect(left[0]).toContain('open-broadcast-channels.test.ts');
    expect(closeOpenBroadcastChannels()).toEqual([]);
  } finally {
    removeDom();
  }
});

test('a channel closed by its owner is no longer tracked', () => {
  const channel = new BroadcastChannel('channels-d');
  channel.close();
  expect(closeOpenBroadcastChannels()).toEqual([]);
});
