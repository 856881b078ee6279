// The one supabase-js client of the mini program, wired to WeChat: fetch over wx.request, the
// session in wx storage, realtime over wx.connectSocket with protocol vsn 1.0.0 (plain JSON
// frames: no TextEncoder needed, and understood by older Supabase-compatible servers).
import type { Database } from '../../typings/database.types';
import { createClient, SUPABASE_JS_VERSION, type SupabaseClient, type SupabaseClientOptions } from '../vendor/supabase';
import type { WxFetch } from './fetch';
import { supabaseAuthStorage } from '../core/supabase-backend';
import { deviceStore } from './storage';
import { WxWebSocket } from './websocket';

export interface BackendConfig {
  url: string;
  anonKey: string;
}

type ClientOptions = SupabaseClientOptions<'public'>;
// wxFetch and WxWebSocket implement the members supabase-js uses, not the whole DOM types the
// option types name (which the mini program's lib does not even declare).
type ClientFetch = NonNullable<NonNullable<ClientOptions['global']>['fetch']>;
type ClientTransport = NonNullable<NonNullable<ClientOptions['realtime']>['transport']>;

export function createWechatClient(config: BackendConfig, fetch: WxFetch): SupabaseClient<Database> {
  return createClient<Database>(config.url, config.anonKey, {
    global: {
      fetch: fetch as unknown as ClientFetch,
      // The default claims runtime=node, which would mislead anyone reading server logs.
      headers: { 'X-Client-Info': `supabase-js-wechat/${SUPABASE_JS_VERSION}` },
    },
    // The session lives in the same device store as the outbox, through the core's adapter.
    auth: { storage: supabaseAuthStorage(deviceStore), persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
    realtime: { transport: WxWebSocket as unknown as ClientTransport, vsn: '1.0.0' },
  });
}
