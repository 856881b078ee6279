// auth.users rows and their JSON, as GoTrue stores and renders them (supabase/auth
// internal/models/user.go, identity.go).
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface UserRow {
  id: string;
  aud: string;
  role: string;
  email: string | null;
  email_confirmed_at: string | null;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  is_anonymous: boolean;
  created_at: string;
  updated_at: string;
  last_sign_in_at: string | null;
  recovery_token: string | null;
  recovery_sent_at: string | null;
  confirmation_token: string | null;
  confirmation_sent_at: string | null;
}

interface IdentityRow {
  id: string;
  provider_id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: string | null;
  created_at: string;
  updated_at: string;
}

export type Db = Pick<PoolClient, 'query'>;

function iso(value: string | Date | null): string | undefined {
  return value === null ? undefined : new Date(value).toISOString();
}

export async function userJson(db: Db, u: UserRow) {
  const identities = (await db.query<IdentityRow>('select * from auth.identities where user_id = $1 order by created_at', [u.id])).rows;
  return {
    id: u.id,
    aud: u.aud,
    role: u.role,
    email: u.email ?? '',
    email_confirmed_at: iso(u.email_confirmed_at),
    phone: '',
    confirmed_at: iso(u.email_confirmed_at),
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: identities.map((i) => ({
      identity_id: i.id,
      id: i.provider_id,
      user_id: i.user_id,
      identity_data: i.identity_data,
      provider: i.provider,
      last_sign_in_at: iso(i.last_sign_in_at),
      created_at: iso(i.created_at),
      updated_at: iso(i.updated_at),
      email: typeof i.identity_data.email === 'string' ? i.identity_data.email : undefined,
    })),
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
    is_anonymous: u.is_anonymous,
  };
}

export async function userById(db: Db, id: string): Promise<UserRow | undefined> {
  return (await db.query<UserRow>('select * from auth.users where id = $1', [id])).rows[0];
}

export interface NewUser {
  email?: string;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
  isAnonymous: boolean;
  emailConfirmed: boolean;
  /** An identity to link: GoTrue creates one per provider the user signs in with. */
  identity?: {
    provider: string /** Default: the user's id (the email provider's rule). */;
    providerId?: string;
    data: Record<string, unknown>;
  };
  id?: string;
}

export async function insertUser(db: Db, user: NewUser): Promise<UserRow> {
  const row = (
    await db.query<UserRow>(
      `insert into auth.users (id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data,
                               is_anonymous, created_at, updated_at)
       values ($1, 'authenticated', 'authenticated', $2, case when $3 then now() end, $4, $5, $6, now(), now())
       returning *`,
      [
        user.id ?? randomUUID(),
        user.email ?? null,
        user.emailConfirmed,
        JSON.stringify(user.appMetadata),
        JSON.stringify(user.userMetadata),
        user.isAnonymous,
      ],
    )
  ).rows[0];
  if (user.identity) {
    await db.query(
      `insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at, last_sign_in_at)
       values ($1, $2, $3, $4, now(), now(), now())`,
      [user.identity.providerId ?? row.id, row.id, JSON.stringify({ sub: row.id, ...user.identity.data }), user.identity.provider],
    );
  }
  return row;
}

/** GoTrue's address check: lower-cased, one `@`, a dot in the domain, no spaces. */
export function normalizeEmail(value: unknown): string {
  const email = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 255) {
    throw new AuthError(400, 'validation_failed', 'Unable to validate email address: invalid format');
  }
  return email;
}
