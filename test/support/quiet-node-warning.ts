// supabase-js warns on import that Node 20 is deprecated; the project pins Node 20 (the
// machine's), so that one line would only bury real warnings in every suite's output.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('Node.js 20 and below are deprecated')) return;
  warn(...args);
};
