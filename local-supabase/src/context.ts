// What every product of the server shares: keys, the database pools and where files live.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pool } from 'pg';
import type { WechatApp } from '../../supabase/functions/_shared/wechat';
import type { AuthConfig } from './project-config';

export interface Context {
  /** Public base URL, e.g. http://127.0.0.1:54321. */
  url: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  /** supabase/config.toml's [auth] settings, with the server's overrides applied. */
  auth: AuthConfig;
  /** WeChat's server API and the mini program's credentials (MemFire-style login; the functions' secrets). */
  wechat: WechatApp;
  /** Superuser pool: auth bookkeeping, storage's privileged steps, realtime's RLS checks. */
  admin: Pool;
  /** `authenticator` pool: every request made on a caller's behalf switches to the caller's role. */
  api: Pool;
  /** Connection string of the superuser (logical replication needs its own connection). */
  adminConnectionString: string;
  /** Where Storage keeps object bytes. */
  storageDir: string;
  /** Largest JSON body accepted by auth and REST. */
  maxBodyBytes: number;
  log: (line: string) => void;
}

export interface Product {
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void>;
  close?(): Promise<void>;
}
