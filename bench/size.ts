// Sizes that decide whether the app fits WeChat: the vendor bundle (raw and gzip) and the compiled
// main package, next to the WeChat fork of supabase-js the original tutorial ships (493 KB in
// 276 files). Runnable alone: `npx tsx bench/size.ts`.
import { buildVendor, SYNTAX_TARGET, vendorSize } from '../scripts/build-vendor';
import { compileMiniprogram, MAIN_PACKAGE_LIMIT } from '../scripts/compile-miniprogram';
import { runIfMain } from './report';
import { atMost, type Bench } from './types';

const KB = 1024;
/**
 * A quarter of WeChat's 2 MB main package (MAIN_PACKAGE_LIMIT), which every first launch downloads.
 * It was 400 KB for the two-page room of 0.1.0 (347 KB then); scenes, characters, moderation and
 * WeChat's privacy pages brought the app to eight pages.
 */
const MAIN_PACKAGE_TARGET_KB = 512;
const kb = (bytes: number) => Math.round((bytes / KB) * 10) / 10;

export const run: Bench = async () => {
  await buildVendor();
  const vendor = vendorSize();
  const compiled = await compileMiniprogram();
  const largest = Object.entries(compiled.files)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([file, bytes]) => ({ file, kb: kb(bytes) }));
  return {
    name: 'size',
    figures: [
      atMost('vendor bundle (raw)', kb(vendor.raw), 'KB', 250),
      { metric: 'vendor bundle (gzip -9)', value: kb(vendor.gzip), unit: 'KB' },
      atMost('main package (compiled)', kb(compiled.total), 'KB', MAIN_PACKAGE_TARGET_KB),
      { metric: 'vendor bundle as compiled', value: kb(compiled.files['vendor/supabase.js'] ?? 0), unit: 'KB' },
      { metric: 'main package share of WeChat limit', value: Math.round((compiled.total / MAIN_PACKAGE_LIMIT) * 1000) / 10, unit: '%' },
    ],
    notes: {
      kb: '1 KB = 1024 bytes',
      vendorSyntaxTarget: SYNTAX_TARGET,
      vendorBytes: vendor,
      compiledBytes: compiled.total,
      largestFiles: largest,
    },
  };
};

runIfMain(__filename, 'size', run);
