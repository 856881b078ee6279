// `tsx scripts/deno-functions.ts check|cache`: type-checks the Edge Functions (part of
// `npm run typecheck`) or fills Deno's module cache with their npm: packages.
import path from 'node:path';
import { denoOnFunctions } from '../local-supabase/src/functions/deno';

const command = process.argv[2];
if (command !== 'check' && command !== 'cache') {
  console.error('usage: tsx scripts/deno-functions.ts check|cache');
  process.exit(2);
}
try {
  denoOnFunctions(command, path.join(__dirname, '..', 'supabase'));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
