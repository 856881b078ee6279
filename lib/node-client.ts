// The app's wiring in Node (terminal client, integration and chaos tests): the official client
// over Node's fetch and `ws`, realtime protocol 1.0.0 as in WeChat, the session kept in the
// device's KeyValueStore, and the core's backend uploading images from files.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { BackendFailure, cancellableUpload, type ImageUploader, type KeyValueStore } from '../miniprogram/core/ports';
import type { Database } from '../typings/database.types';
import { IMAGES_BUCKET, storageFailure, supabaseAuthStorage, SupabaseBackend } from '../miniprogram/core/supabase-backend';
import type { WechatLogin, WechatLoginPath } from '../miniprogram/core/wechat-login';

export interface NodeClientOptions {
  autoRefreshToken?: boolean;
  /**
   * Where the session lives in the store. Several devices simulated in one process each need their
   * own (supabase-js warns about clients sharing one); the same device keeps it across relaunches.
   */
  storageKey?: string;
}

export function nodeClient(url: string, anonKey: string, store: KeyValueStore, options: NodeClientOptions = {}): SupabaseClient<Database> {
  return createClient<Database>(url, anonKey, {
    auth: {
      storage: supabaseAuthStorage(store),
      persistSession: true,
      autoRefreshToken: options.autoRefreshToken ?? true,
      detectSessionInUrl: false,
      // Only when given: an explicit undefined would replace supabase-js's default key.
      ...(options.storageKey && { storageKey: options.storageKey }),
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

export function nodeBackend(client: SupabaseClient<Database>, login: WechatLogin): SupabaseBackend {
  return new SupabaseBackend(
    client,
    storageUploader(client, (file) => fs.promises.readFile(file)),
    login,
  );
}

/**
 * An ImageUploader over supabase-js Storage (`upload` of the file's bytes): for runtimes with a
 * working fetch, such as the terminal client. It reports 0 and 100 only, as fetch gives no upload
 * progress; WeChat uses wx.uploadFile instead, which does. It lives here rather than in the core
 * because the mini program never uses it, and the main package would carry it.
 */
export function storageUploader(
  client: SupabaseClient<Database>,
  readFile: (path: string) => Promise<ArrayBuffer | Uint8Array>,
): ImageUploader {
  return {
    upload(storagePath, image, onProgress) {
      return cancellableUpload(
        (async () => {
          let bytes: ArrayBuffer | Uint8Array;
          try {
            bytes = await readFile(image.path);
          } catch (error) {
            throw new BackendFailure(400, 'file_unreadable', `${image.path}: ${(error as Error).message}`);
          }
          onProgress(0);
          const { error } = await client.storage.from(IMAGES_BUCKET).upload(storagePath, bytes, { contentType: image.mime, upsert: false });
          if (error) throw storageFailure(error as never);
          onProgress(100);
        })(),
      );
    },
  };
}
