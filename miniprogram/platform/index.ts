// Everything WeChat-specific the core and the pages need, created once per app.
import { SUPABASE_ANON_KEY, SUPABASE_URL } from '../config';
import type { ImageUploader, KeyValueStore } from '../core/ports';
import type { PickedImage } from '../core/types';
import type { Database } from '../../typings/database.types';
import type { SupabaseClient } from '../vendor/supabase';
import { createImageUploader, pickImage } from './images';
import { watchApp, type AppWatcher } from './lifecycle';
import { deviceStore } from './storage';
import { createWechatClient, type BackendConfig } from './supabase';

export interface WechatPlatform {
  supabase: SupabaseClient<Database>;
  store: KeyValueStore;
  uploader: ImageUploader;
  pickImage(): Promise<PickedImage | null>;
  app: AppWatcher;
}

export function createPlatform(config: BackendConfig = { url: SUPABASE_URL, anonKey: SUPABASE_ANON_KEY }): WechatPlatform {
  const supabase = createWechatClient(config);
  const uploader = createImageUploader({
    ...config,
    accessToken: async () => {
      const { data, error } = await supabase.auth.getSession();
      if (error) throw error;
      if (!data.session) throw new Error('not signed in');
      return data.session.access_token;
    },
  });
  return { supabase, store: deviceStore, uploader, pickImage, app: watchApp(supabase) };
}
