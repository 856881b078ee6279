// The app's wiring in Node (terminal client, integration and chaos tests): the official client
// over Node's fetch and `ws`, realtime protocol 1.0.0 as in WeChat, the session kept in the
// device's KeyValueStore, and the core's backend uploading images from files.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { KeyValueStore } from '../miniprogram/core/ports';
import { storageUploader, supabaseAuthStorage, SupabaseBackend } from '../miniprogram/core/supabase-backend';
import type { WechatLogin, WechatLoginPath } from '../miniprogram/core/wechat-login';

export function nodeClient(url: string, anonKey: string, store: KeyValueStore, options: { autoRefreshToken?: boolean } = {}): SupabaseClient {
  return createClient(url, anonKey, {
    auth: {
      storage: supabaseAuthStorage(store),
      persistSession: true,
      autoRefreshToken: options.autoRefreshToken ?? true,
      detectSessionInUrl: false,
    },
    realtime: { transport: WebSocket as never, vsn: '1.0.0' } as never,
  });
}

/**
 * WeChat login for the person NAME without WeChat: codes of the form NAME.N, which local-supabase's
 * fake WeChat API maps to NAME's openid, so NAME is the same person on every run and every machine.
 */
export function localWechatLogin(url: string, anonKey: string, person: string, path: WechatLoginPath = 'function'): WechatLogin {
  return { path, url, anonKey, fetch: (target, init) => fetch(target, init), code: async () => `${person}.${randomInt(2 ** 47)}` };
}

export function nodeBackend(client: SupabaseClient, login: WechatLogin): SupabaseBackend {
  return new SupabaseBackend(client, storageUploader(client, (file) => fs.promises.readFile(file)), login);
}
