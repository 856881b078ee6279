// Device storage over wx's synchronous storage API: the auth session store supabase-js expects,
// and the core's KeyValueStore (profile, outbox, message cache).
import type { KeyValueStore } from '../core/ports';

/** `auth.storage` for supabase-js: strings in, and null (never '') for a missing key. */
export const authStorage = {
  getItem(key: string): string | null {
    const value: unknown = wx.getStorageSync(key);
    // wx returns '' for a key that was never set.
    return typeof value === 'string' && value !== '' ? value : null;
  },
  setItem(key: string, value: string): void {
    wx.setStorageSync(key, value);
  },
  removeItem(key: string): void {
    wx.removeStorageSync(key);
  },
};

/**
 * Values are stored as JSON text, so a stored '' or false reads back as itself rather than as
 * wx's "missing" '', and callers never share a mutable object with the store.
 */
export const deviceStore: KeyValueStore = {
  get<T>(key: string): T | null {
    const text: unknown = wx.getStorageSync(key);
    return typeof text === 'string' && text !== '' ? (JSON.parse(text) as T) : null;
  },
  set<T>(key: string, value: T): void {
    wx.setStorageSync(key, JSON.stringify(value));
  },
  remove(key: string): void {
    wx.removeStorageSync(key);
  },
};
