// supabase-js warns "Multiple GoTrueClient instances detected" when two clients in one browser-like
// context share an auth storage key: their sessions would overwrite each other, and in a test two
// simulated people would become one. Every client here has a key of its own; a test whose clients
// share one fails, rather than only printing the warning.
const SHARED_STORAGE = 'Multiple GoTrueClient instances';
const warnings: string[] = [];
const warn = console.warn.bind(console);

console.warn = (...args: unknown[]) => {
  if (args.some((arg) => String(arg).includes(SHARED_STORAGE))) warnings.push(String(args[0]));
  warn(...args);
};

/** The warnings seen since the last call (the guard's afterEach, or a test of the guard). */
export function sharedStorageWarnings(): string[] {
  return warnings.splice(0);
}

afterEach(() => {
  const found = sharedStorageWarnings();
  if (found.length) throw new Error(`two supabase-js clients share an auth storage key (give each its own storageKey): ${found[0]}`);
});
