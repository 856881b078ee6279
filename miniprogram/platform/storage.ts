// Device storage over wx's synchronous storage API: the core's KeyValueStore (session, profile,
// outbox, message cache).
import type { KeyValueStore } from '../core/ports';

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
  keys(): string[] {
    return wx.getStorageInfoSync().keys;
  },
};
