// supabase-js and phoenix read `globalThis` at module load, and WeChat's older base libraries do
// not define it. WeChat's JavaScript-support notes forbid `new Function` except for exactly this
// expression, which yields the global object in sloppy mode on every engine.
// biome-ignore lint/nursery/noImpliedEval: the one Function constructor WeChat allows, as above
export const globalObject: typeof globalThis = new Function('return this')();
