// /auth/v1: the GoTrue subset the app uses — anonymous sign-up, refresh-token grant with
// rotation and reuse detection, the current user, and logout.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PoolClient } from 'pg';
import type { Context, Product } from '../context';
import { inTransaction } from '../db';
import { bearer, BodyTooLarge, parseJson, readBody, sendJson } from '../http';
import { JwtError, signJwt, verifyJwt, type Claims } from '../jwt';

class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface UserRow {
  id: string;
  aud: string;
  role: string;
  raw_app_meta_data: Record<string, unknown>;
  raw_user_meta_data: Record<string, unknown>;
  is_anonymous: boolean;
  created_at: string;
  updated_at: string;
  last_sign_in_at: string | null;
}

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** GoTrue's refresh tokens: 12 random alphanumeric characters, opaque to clients. */
function newRefreshToken(): string {
  const bytes = randomBytes(12);
  let out = '';
  for (const b of bytes) out += ALPHANUMERIC[b % ALPHANUMERIC.length];
  return out;
}

function iso(value: string | Date | null): string | undefined {
  return value === null ? undefined : new Date(value).toISOString();
}

function userJson(u: UserRow) {
  return {
    id: u.id,
    aud: u.aud,
    role: u.role,
    email: '',
    phone: '',
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: [],
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
    is_anonymous: u.is_anonymous,
  };
}

export function createAuth(ctx: Context): Product {
  const session = (user: UserRow, sessionId: string, refreshToken: string, signedInAt: number) => {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + ctx.jwtExpiry;
    const claims: Claims = {
      iss: `${ctx.url}/auth/v1`,
      sub: user.id,
      aud: user.aud,
      exp,
      iat,
      email: '',
      phone: '',
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role,
      aal: 'aal1',
      amr: [{ method: 'anonymous', timestamp: signedInAt }],
      session_id: sessionId,
      is_anonymous: user.is_anonymous,
    };
    return {
      access_token: signJwt(claims, ctx.jwtSecret),
      token_type: 'bearer',
      expires_in: ctx.jwtExpiry,
      expires_at: exp,
      refresh_token: refreshToken,
      user: userJson(user),
    };
  };

  const tx = <T>(work: (db: PoolClient) => Promise<T>) => inTransaction(ctx.admin, 'begin', work);

  async function signup(body: Record<string, unknown>) {
    if (body.email || body.phone) {
      throw new AuthError(422, 'email_provider_disabled', 'Only anonymous sign-ins are enabled on this server');
    }
    const data = body.data ?? {};
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new AuthError(400, 'validation_failed', 'data must be a JSON object');
    }
    return tx(async (db) => {
      const user = (
        await db.query<UserRow>(
          `insert into auth.users (id, aud, role, raw_app_meta_data, raw_user_meta_data, is_anonymous,
                                   created_at, updated_at, last_sign_in_at)
           values ($1, 'authenticated', 'authenticated', '{}', $2, true, now(), now(), now())
           returning *`,
          [randomUUID(), JSON.stringify(data)],
        )
      ).rows[0];
      const sessionId = randomUUID();
      await db.query(
        `insert into auth.sessions (id, user_id, created_at, updated_at, aal) values ($1, $2, now(), now(), 'aal1')`,
        [sessionId, user.id],
      );
      const token = newRefreshToken();
      await db.query(
        `insert into auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, session_id)
         values ($1, $2, false, now(), now(), $3)`,
        [token, user.id, sessionId],
      );
      return session(user, sessionId, token, Math.floor(Date.now() / 1000));
    });
  }

  async function refresh(body: Record<string, unknown>) {
    const presented = body.refresh_token;
    if (typeof presented !== 'string' || presented === '') {
      throw new AuthError(400, 'validation_failed', 'refresh_token required');
    }
    type TokenRow = { id: number; token: string; revoked: boolean; session_id: string; user_id: string; updated_at: Date };
    const outcome = await tx(async (db) => {
      const found = (
        await db.query<TokenRow>('select * from auth.refresh_tokens where token = $1 for update', [presented])
      ).rows[0];
      if (!found || !found.session_id) return { error: 'not_found' as const };
      let issued = found.token;
      if (found.revoked) {
        const active = (
          await db.query<TokenRow>(
            'select * from auth.refresh_tokens where session_id = $1 and not revoked order by id desc limit 1',
            [found.session_id],
          )
        ).rows[0];
        const reuseUntil = found.updated_at.getTime() + ctx.refreshTokenReuseInterval * 1000;
        if (active && (await isParent(db, found.token, active.token))) {
          // The client lost the response of its last refresh: give it the token it missed.
          issued = active.token;
        } else if (!active || Date.now() > reuseUntil) {
          // A token replayed after its successors: treat the whole session as stolen. Only live
          // tokens are touched, so revoked ancestors keep their old time and stay outside the
          // reuse window; with no live token left, the session is over.
          await db.query(
            'update auth.refresh_tokens set revoked = true, updated_at = now() where session_id = $1 and not revoked',
            [found.session_id],
          );
          return { error: 'already_used' as const };
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
      const user = (await db.query<UserRow>('select * from auth.users where id = $1', [found.user_id])).rows[0];
      if (!user) return { error: 'not_found' as const };
      const signedIn = Math.floor(new Date(user.last_sign_in_at ?? user.created_at).getTime() / 1000);
      return { session: session(user, found.session_id, issued, signedIn) };
    });
    if (outcome.error === 'already_used') {
      throw new AuthError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
    }
    if (outcome.error) throw new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    return outcome.session;
  }

  async function isParent(db: PoolClient, token: string, child: string): Promise<boolean> {
    const row = await db.query('select 1 from auth.refresh_tokens where token = $1 and parent = $2', [child, token]);
    return (row.rowCount ?? 0) > 0;
  }

  /** GoTrue's requireAuthentication: a valid JWT whose user and session still exist. */
  async function authenticated(req: IncomingMessage): Promise<{ claims: Claims; user: UserRow }> {
    const token = bearer(req);
    if (!token) throw new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
    let claims: Claims;
    try {
      claims = verifyJwt(token, ctx.jwtSecret);
    } catch (err) {
      throw new AuthError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${(err as JwtError).message}`);
    }
    if (typeof claims.sub !== 'string' || !/^[0-9a-f-]{36}$/i.test(claims.sub)) {
      throw new AuthError(403, 'bad_jwt', 'invalid claim: missing sub claim');
    }
    const user = (await ctx.admin.query<UserRow>('select * from auth.users where id = $1', [claims.sub])).rows[0];
    if (!user) throw new AuthError(403, 'user_not_found', 'User from sub claim in JWT does not exist');
    if (typeof claims.session_id === 'string') {
      const found = await ctx.admin.query('select 1 from auth.sessions where id = $1', [claims.session_id]);
      if (!found.rowCount) {
        throw new AuthError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist');
      }
    }
    return { claims, user };
  }

  async function logout(req: IncomingMessage, scope: string) {
    const { claims, user } = await authenticated(req);
    const sessionId = typeof claims.session_id === 'string' ? claims.session_id : null;
    if (scope === 'local') {
      await ctx.admin.query('delete from auth.sessions where id = $1', [sessionId]);
    } else if (scope === 'others') {
      await ctx.admin.query('delete from auth.sessions where user_id = $1 and id is distinct from $2', [user.id, sessionId]);
    } else if (scope === 'global') {
      await ctx.admin.query('delete from auth.sessions where user_id = $1', [user.id]);
    } else {
      throw new AuthError(400, 'validation_failed', 'Unsupported logout scope');
    }
  }

  async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    let parsed: unknown;
    try {
      parsed = parseJson(await readBody(req, ctx.maxBodyBytes));
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new AuthError(413, 'request_too_large', 'Request body too large');
      throw new AuthError(400, 'bad_json', 'Could not parse request body as JSON');
    }
    if (parsed === undefined) return {};
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AuthError(400, 'bad_json', 'Request body must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, path: string, url: URL) {
    const route = `${req.method} ${path}`;
    switch (route) {
      case 'POST /signup':
        return sendJson(res, 200, await signup(await jsonBody(req)));
      case 'POST /token': {
        const grant = url.searchParams.get('grant_type');
        if (grant !== 'refresh_token') {
          throw new AuthError(400, 'unsupported_grant_type', 'unsupported_grant_type');
        }
        return sendJson(res, 200, await refresh(await jsonBody(req)));
      }
      case 'GET /user':
        return sendJson(res, 200, userJson((await authenticated(req)).user));
      case 'POST /logout':
        await logout(req, url.searchParams.get('scope') ?? 'global');
        return sendJson(res, 204, undefined);
      case 'GET /settings':
        return sendJson(res, 200, {
          external: { anonymous_users: true, email: false, phone: false },
          disable_signup: false,
          mailer_autoconfirm: false,
          phone_autoconfirm: false,
        });
      case 'GET /health':
        return sendJson(res, 200, { name: 'GoTrue', description: 'local-supabase auth' });
      case 'GET /.well-known/jwks.json':
        // HMAC keys are never published; clients fall back to GET /user to verify.
        return sendJson(res, 200, { keys: [] });
      default:
        throw new AuthError(404, 'not_found', 'Not Found');
    }
  }

  return {
    async handle(req, res, path, url) {
      try {
        await dispatch(req, res, path, url);
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        sendJson(
          res,
          err.status,
          { code: err.code, message: err.message },
          { 'x-supabase-api-version': '2024-01-01', 'x-sb-error-code': err.code },
        );
      }
    },
  };
}
