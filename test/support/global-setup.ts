// Once per test run: the vendor bundle the WeChat realm, the package compile and the page tests
// load is rebuilt from the installed supabase-js, so no suite runs an out-of-date copy; and Deno's
// cache gets the functions' npm packages, so parallel suites never race to download them.
import path from 'node:path';
import { denoOnFunctions } from '../../local-supabase/src/functions/deno';
import { buildVendor } from '../../scripts/build-vendor';

export default async function globalSetup(): Promise<void> {
  await buildVendor();
  denoOnFunctions('cache', path.join(__dirname, '..', '..', 'supabase'));
}
