// The settings local-supabase takes from the project's supabase/config.toml, the file the
// Supabase CLI reads for `supabase start` and `supabase config push`, so one file configures the
// local stack and the hosted project alike. Keys and defaults follow the CLI's template
// (supabase/cli apps/cli-go/pkg/config/templates/config.toml) and how `supabase start` passes
// them to GoTrue (apps/cli-go/internal/start/start.go).
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'smol-toml';

/** GoTrue's per-client-address limits (`[auth.rate_limit]`), in requests per window. */
export interface AuthRateLimits {
  /** Anonymous sign-ins per hour (GOTRUE_RATE_LIMIT_ANONYMOUS_USERS). */
  anonymousUsers: number;
  /** Sign-ups and sign-ins per 5 minutes (GOTRUE_RATE_LIMIT_OTP). */
  signInSignUps: number;
  /** Token grants (refresh, password) per 5 minutes (GOTRUE_RATE_LIMIT_TOKEN_REFRESH). */
  tokenRefresh: number;
  /** OTP and magic-link verifications per 5 minutes (GOTRUE_RATE_LIMIT_VERIFY). */
  tokenVerifications: number;
}

export interface AuthConfig {
  jwtExpiry: number;
  refreshTokenReuseInterval: number;
  anonymousSignIns: boolean;
  /** Lifetime of a one-time token (magic link, token hash) in seconds (`[auth.email] otp_expiry`). */
  otpExpiry: number;
  rateLimits: AuthRateLimits;
}

export interface FunctionConfig {
  /** Whether the gateway requires a valid JWT (`[functions.<name>] verify_jwt`, default true). */
  verifyJwt: boolean;
}

export interface ProjectConfig {
  auth: AuthConfig;
  functions: Record<string, FunctionConfig>;
}

/** What a caller may override: any part of the file's settings. */
export type ProjectConfigOverrides = {
  auth?: Partial<Omit<AuthConfig, 'rateLimits'>> & { rateLimits?: Partial<AuthRateLimits> };
  functions?: Record<string, Partial<FunctionConfig>>;
};

export const DEFAULT_CONFIG: ProjectConfig = {
  auth: {
    jwtExpiry: 3600,
    refreshTokenReuseInterval: 10,
    anonymousSignIns: false,
    otpExpiry: 3600,
    rateLimits: { anonymousUsers: 30, signInSignUps: 30, tokenRefresh: 150, tokenVerifications: 30 },
  },
  functions: {},
};

export class ConfigError extends Error {}

type Table = Record<string, unknown>;

function table(parent: Table, key: string, where: string): Table {
  const value = parent[key];
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where}.${key} must be a table`);
  return value as Table;
}

function read<T extends number | boolean>(section: Table, key: string, where: string, fallback: T): T {
  const value = section[key];
  if (value === undefined) return fallback;
  const expected = typeof fallback;
  if (typeof value !== expected || (expected === 'number' && !(Number(value) >= 0))) {
    throw new ConfigError(`${where}.${key} must be a ${expected === 'number' ? 'non-negative number' : 'boolean'}`);
  }
  return value as T;
}

/** Reads `<supabaseDir>/config.toml` (defaults when absent) and applies the overrides. */
export function loadProjectConfig(supabaseDir: string, overrides: ProjectConfigOverrides = {}): ProjectConfig {
  const file = path.join(supabaseDir, 'config.toml');
  let root: Table = {};
  if (fs.existsSync(file)) {
    try {
      root = parse(fs.readFileSync(file, 'utf8')) as Table;
    } catch (error) {
      throw new ConfigError(`${file}: ${(error as Error).message}`);
    }
  }
  const auth = table(root, 'auth', '');
  const limits = table(auth, 'rate_limit', 'auth');
  const email = table(auth, 'email', 'auth');
  const d = DEFAULT_CONFIG.auth;
  const config: ProjectConfig = {
    auth: {
      jwtExpiry: read(auth, 'jwt_expiry', 'auth', d.jwtExpiry),
      refreshTokenReuseInterval: read(auth, 'refresh_token_reuse_interval', 'auth', d.refreshTokenReuseInterval),
      anonymousSignIns: read(auth, 'enable_anonymous_sign_ins', 'auth', d.anonymousSignIns),
      otpExpiry: read(email, 'otp_expiry', 'auth.email', d.otpExpiry),
      rateLimits: {
        anonymousUsers: read(limits, 'anonymous_users', 'auth.rate_limit', d.rateLimits.anonymousUsers),
        signInSignUps: read(limits, 'sign_in_sign_ups', 'auth.rate_limit', d.rateLimits.signInSignUps),
        tokenRefresh: read(limits, 'token_refresh', 'auth.rate_limit', d.rateLimits.tokenRefresh),
        tokenVerifications: read(limits, 'token_verifications', 'auth.rate_limit', d.rateLimits.tokenVerifications),
      },
    },
    functions: {},
  };
  const functions = table(root, 'functions', '');
  for (const name of Object.keys(functions)) {
    const section = table(functions, name, 'functions');
    config.functions[name] = { verifyJwt: read(section, 'verify_jwt', `functions.${name}`, true) };
  }

  const { rateLimits, ...authOverrides } = overrides.auth ?? {};
  Object.assign(config.auth, authOverrides);
  Object.assign(config.auth.rateLimits, rateLimits);
  for (const [name, settings] of Object.entries(overrides.functions ?? {})) {
    config.functions[name] = { ...(config.functions[name] ?? { verifyJwt: true }), ...settings };
  }
  return config;
}

/** A function's settings: a function absent from config.toml keeps the CLI's defaults. */
export function functionConfig(config: ProjectConfig, name: string): FunctionConfig {
  return config.functions[name] ?? { verifyJwt: true };
}
