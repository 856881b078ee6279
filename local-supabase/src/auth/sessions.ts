// Sessions: a row in auth.sessions, a rotating refresh token, and the access token GoTrue's token
// endpoint returns (supabase/auth internal/api/token.go AccessTokenResponse), with rotation and
// reuse detection as GoTrue applies them (internal/models/refresh_token.go).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from '../context';
import { signJwt, type Claims } from '../jwt';
import { AuthError, userById, userJson, type Db, type UserRow } from './users';

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** GoTrue's refresh tokens: 12 random alphanumeric characters, opaque to clients. */
function newRefreshToken(): string {
  let out = '';
  for (const b of randomBytes(12)) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return out;
}

/** How a session signed in: the `amr` method of its tokens (anonymous, otp, wechat…). */
export type SignInMethod = string;

async function tokenResponse(ctx: Context, db: Db, user: UserRow, sessionId: string, refreshToken: string) {
  const amr = (
    await db.query<{ method: string; at: Date }>(
      'select authentication_method as method, created_at as at from auth.mfa_amr_claims where session_id = $1 order by created_at',
      [sessionId],
    )
  ).rows;
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + ctx.auth.jwtExpiry;
  const claims: Claims = {
    iss: `${ctx.url}/auth/v1`,
    sub: user.id,
    aud: user.aud,
    exp,
    iat,
    email: user.email ?? '',
    phone: '',
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role,
    aal: 'aal1',
    amr: amr.map((a) => ({ method: a.method, timestamp: Math.floor(a.at.getTime() / 1000) })),
    session_id: sessionId,
    is_anonymous: user.is_anonymous,
  };
  return {
    access_token: signJwt(claims, ctx.jwtSecret),
    token_type: 'bearer',
    expires_in: ctx.auth.jwtExpiry,
    expires_at: exp,
    refresh_token: refreshToken,
    user: await userJson(db, user),
  };
}

export type Session = Awaited<ReturnType<typeof tokenResponse>>;

/** Signs `user` in: a new session with its first refresh token, inside the caller's transaction. */
export async function startSession(ctx: Context, db: Db, user: UserRow, method: SignInMethod): Promise<Session> {
  const sessionId = randomUUID();
  await db.query(`insert into auth.sessions (id, user_id, created_at, updated_at, aal) values ($1, $2, now(), now(), 'aal1')`, [
    sessionId,
    user.id,
  ]);
  await db.query('insert into auth.mfa_amr_claims (session_id, authentication_method) values ($1, $2)', [sessionId, method]);
  const token = newRefreshToken();
  await db.query(
    `insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, session_id)
     values ($1, $2, false, now(), now(), $3)`,
    [token, user.id, sessionId],
  );
  const signedIn = (await db.query<UserRow>('update auth.users set last_sign_in_at = now() where id = $1 returning *', [user.id])).rows[0];
  return tokenResponse(ctx, db, signedIn, sessionId, token);
}

type TokenRow = { id: number; token: string; revoked: boolean; session_id: string; user_id: string; updated_at: Date };

/**
 * The refresh-token grant, in the caller's transaction. A refusal is returned, not thrown: the
 * revocation that detecting a stolen token makes must be committed before the refusal is answered.
 */
export async function refreshSession(ctx: Context, db: Db, presented: unknown): Promise<Session | AuthError> {
  if (typeof presented !== 'string' || presented === '') {
    throw new AuthError(400, 'validation_failed', 'refresh_token required');
  }
  const notFound = new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
  const found = (await db.query<TokenRow>('select * from auth.refresh_tokens where token = $1 for update', [presented])).rows[0];
  if (!found?.session_id) return notFound;
  let issued = found.token;
  if (found.revoked) {
    const active = (
      await db.query<TokenRow>('select * from auth.refresh_tokens where session_id = $1 and not revoked order by id desc limit 1', [
        found.session_id,
      ])
    ).rows[0];
    const reuseUntil = found.updated_at.getTime() + ctx.auth.refreshTokenReuseInterval * 1000;
    if (active && (await isParent(db, found.token, active.token))) {
      // The client lost the response of its last refresh: give it the token it missed.
      issued = active.token;
    } else if (!active || Date.now() > reuseUntil) {
      // A token replayed after its successors: treat the whole session as stolen. Only live
      // tokens are touched, so revoked ancestors keep their old time and stay outside the
      // reuse window; with no live token left, the session is over.
      await db.query('update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and not revoked', [
        found.session_id,
      ]);
      return new AuthError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
    }
  }
  if (issued === found.token) {
    issued = newRefreshToken();
    await db.query('update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1', [found.id]);
    await db.query(
      `insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, parent, session_id)
       values ($1, $2, false, now(), now(), $3, $4)`,
      [issued, found.user_id, found.token, found.session_id],
    );
  }
  await db.query('update auth.sessions set refreshed_at = now(), updated_at = now() where id = $1', [found.session_id]);
  const user = await userById(db, found.user_id);
  if (!user) return notFound;
  return tokenResponse(ctx, db, user, found.session_id, issued);
}

async function isParent(db: Db, token: string, child: string): Promise<boolean> {
  const row = await db.query('select 1 from auth.refresh_tokens where token = $1 and parent = $2', [child, token]);
  return (row.rowCount ?? 0) > 0;
}
