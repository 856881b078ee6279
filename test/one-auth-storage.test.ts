/**
 * @jest-environment jsdom
 */
// The guard in test/support/one-auth-storage.ts: two clients sharing an auth storage key in a
// browser-like context make supabase-js warn, and the guard records it (and fails the test that
// did it, in its afterEach).
import { createClient } from '@supabase/supabase-js';
import { sharedStorageWarnings } from './support/one-auth-storage';

const options = (storageKey: string) => ({ auth: { storageKey, persistSession: false, autoRefreshToken: false } });

test('two clients with keys of their own: nothing recorded', () => {
  createClient('http://127.0.0.1:9', 'anon', options('guard-a'));
  createClient('http://127.0.0.1:9', 'anon', options('guard-b'));
  expect(sharedStorageWarnings()).toEqual([]);
});

test('a second client on a key already in use is recorded', () => {
  createClient('http://127.0.0.1:9', 'anon', options('guard-c'));
  expect(sharedStorageWarnings()).toEqual([]);
  createClient('http://127.0.0.1:9', 'anon', options('guard-c'));
  const found = sharedStorageWarnings();
  expect(found).toHaveLength(1);
  expect(found[0]).toContain('Multiple GoTrueClient instances');
});
