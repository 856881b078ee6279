// Defaults match the Supabase CLI's local development stack, whose JWT secret and derived keys
// are public, so the mini program's local configuration works against `supabase start` too.
import { signJwt } from './jwt';

export const DEFAULT_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
export const DEFAULT_PORT = 54321;
export const DEFAULT_DB_PORT = 54322;
/** The fake WeChat API: the first port after the range the Supabase CLI uses (54320–54329). */
export const DEFAULT_WECHAT_PORT = 54330;
/** The CLI's demo keys expire in 2032 and carry iss "supabase-demo". */
const DEMO_KEY_EXP = 1983812996;

export function apiKeys(secret: string): { anonKey: string; serviceRoleKey: string } {
  return {
    anonKey: signJwt({ iss: 'supabase-demo', role: 'anon', exp: DEMO_KEY_EXP }, secret),
    serviceRoleKey: signJwt({ iss: 'supabase-demo', role: 'service_role', exp: DEMO_KEY_EXP }, secret),
  };
}
