// esbuild plugin: the mini program never calls Edge Functions or Storage's Iceberg analytics
// catalog, yet supabase-js imports both eagerly (~9 KB). They are replaced by stand-ins with the
// same exports that fail loudly if ever used, so nothing breaks silently.
import type { Plugin } from 'esbuild';

const NOT_BUNDLED = (what: string) => `new Error('${what} is not part of the mini program bundle (vendor-src/unbundled-clients.ts)')`;

const STAND_INS: Record<string, string> = {
  '@supabase/functions-js': `
    export class FunctionsClient {
      constructor() {}
      setAuth() {}
      invoke() { return Promise.reject(${NOT_BUNDLED('supabase.functions')}); }
    }
    export class FunctionsError extends Error {}
    export class FunctionsFetchError extends FunctionsError {}
    export class FunctionsHttpError extends FunctionsError {}
    export class FunctionsRelayError extends FunctionsError {}
    export const FunctionRegion = {};`,
  'iceberg-js': `
    export class IcebergRestCatalog {
      constructor() { throw ${NOT_BUNDLED('Storage analytics (Iceberg)')}; }
    }`,
};

export const unbundledClients: Plugin = {
  name: 'unbundled-clients',
  setup(build) {
    const filter = new RegExp(
      `^(${Object.keys(STAND_INS)
        .map((k) => k.replace(/[/.]/g, '\\$&'))
        .join('|')})$`,
    );
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'unbundled' }));
    build.onLoad({ filter: /.*/, namespace: 'unbundled' }, (args) => ({ contents: STAND_INS[args.path], loader: 'js' }));
  },
};
