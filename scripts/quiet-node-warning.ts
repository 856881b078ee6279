// supabase-js warns on import that Node 20 is deprecated; the project runs on Node 20 (the
// machine's), where it works, so that one line would only bury real warnings: the terminal
// client and every test suite load this first.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('Node.js 20 and below are deprecated')) return;
  warn(...args);
};
