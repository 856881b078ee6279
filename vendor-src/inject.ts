// Bound by esbuild `inject`: every free reference to these names inside the bundle is rewritten to
// import them from here. Nothing is written onto WeChat's global object, so the bundle works the
// same whether the base library lacks these globals or ships broken ones.
export { Headers } from 'headers-polyfill';
export { AbortController, AbortSignal } from './abort';
export { URL, URLSearchParams } from './url';
export { globalObject as globalThis } from './global-this';
