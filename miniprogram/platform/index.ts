// Everything WeChat-specific the core and the pages need, created once per app.
import { SUPABASE_ANON_KEY, SUPABASE_URL, WECHAT_LOGIN } from '../config';
import type { ImageUploader, KeyValueStore } from '../core/ports';
import type { PrivacyGate } from '../core/privacy';
import type { PickedImage } from '../core/types';
import type { WechatLogin } from '../core/wechat-login';
import type { Database } from '../../typings/database.types';
import type { SupabaseClient } from '../vendor/supabase';
import { copyText } from './clipboard';
import { createWxFetch } from './fetch';
import { createImageUploader, pickImage, pickPortrait } from './images';
import { watchApp, type AppWatcher } from './lifecycle';
import { wxLoginCode } from './login';
import { createPrivacyGate } from './privacy';
import { deviceStore } from './storage';
import { createWechatClient, type BackendConfig } from './supabase';

export interface WechatPlatform {
  supabase: SupabaseClient<Database>;
  store: KeyValueStore;
  uploader: ImageUploader;
  login: WechatLogin;
  pickImage(): Promise<PickedImage | null>;
  pickPortrait(): Promise<PickedImage | null>;
  copyText(text: string): Promise<void>;
  /** WeChat's privacy consent; its listener is registered here, before any privacy API can run. */
  privacy: PrivacyGate;
  app: AppWatcher;
}

export function createPlatform(config: BackendConfig = { url: SUPABASE_URL, anonKey: SUPABASE_ANON_KEY }): WechatPlatform {
  const privacy = createPrivacyGate();
  const fetch = createWxFetch();
  const supabase = createWechatClient(config, fetch);
  const uploader = createImageUploader({
    ...config,
    accessToken: async () => {
      const { data, error } = await supabase.auth.getSession();
      if (error) throw error;
      if (!data.session) throw new Error('not signed in');
      return data.session.access_token;
    },
  });
  const login: WechatLogin = { path: WECHAT_LOGIN, code: wxLoginCode, url: config.url, anonKey: config.anonKey, fetch };
  return { supabase, store: deviceStore, uploader, login, pickImage, pickPortrait, copyText, privacy, app: watchApp(supabase) };
}
