import type { KeyValueStore } from '../../miniprogram/core/ports';

/** An in-memory KeyValueStore for tests and benchmarks (the mini program stores on the device). */
export function memoryStore(): KeyValueStore & { dump(): Record<string, unknown> } {
  const values = new Map<string, string>();
  return {
    // Stored as JSON so callers can never share mutable objects with the store, like real storage.
    get: <T>(key: string) => (values.has(key) ? (JSON.parse(values.get(key)!) as T) : null),
    set: (key, value) => {
      values.set(key, JSON.stringify(value));
    },
    remove: (key) => {
      values.delete(key);
    },
    keys: () => [...values.keys()],
    dump: () => {
      const out: Record<string, unknown> = {};
      values.forEach((value, key) => (out[key] = JSON.parse(value)));
      return out;
    },
  };
}
