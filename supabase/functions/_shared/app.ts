// The mini program as WeChat knows it, and the project as the functions reach it, from secrets.
import { createClient, type SupabaseClient } from 'npm:@supabase/supabase-js@2.119.1';
import { requiredEnv } from './http.ts';
import { WECHAT_API, type WechatApp } from './wechat.ts';

export function wechatApp(): WechatApp {
  return {
    appid: requiredEnv('WECHAT_APPID'),
    secret: requiredEnv('WECHAT_SECRET'),
    apiBase: Deno.env.get('WECHAT_API_BASE') || WECHAT_API,
  };
}

/** A client with the service-role key: it bypasses RLS, so it stays inside the functions. */
export function serviceClient(): SupabaseClient {
  return createClient(requiredEnv('SUPABASE_URL'), requiredEnv('SUPABASE_SERVICE_ROLE_KEY'), {
    auth: { persistSession: false, autoRefreshToken: false },
  });
}
