// Once per test run: the vendor bundle the WeChat realm, the package compile and the page tests
// load is rebuilt from the installed supabase-js, so no suite runs an out-of-date copy.
import { buildVendor } from '../../scripts/build-vendor';

export default async function globalSetup(): Promise<void> {
  await buildVendor();
}
