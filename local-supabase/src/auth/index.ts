// /auth/v1: the GoTrue subset the app and its server functions use — anonymous sign-up (when
// config.toml enables it), the refresh-token grant with rotation and reuse detection, the admin
// API's user creation and magic links, /verify, MemFire's WeChat login, the current user and
// logout — with GoTrue's per-client rate limits from config.toml's [auth.rate_limit].
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Context, Product } from '../context';
import { inTransaction } from '../db';
import { bearer, BodyTooLarge, MAX_REENCODED_DEPTH, nestingDepth, parseJson, readBody, sendJson } from '../http';
import { checkTimesAsGoTrue, decodeJwt, isUuid, type JwtError, type Claims } from '../jwt';
import { generateLink, verifyOneTimeToken } from './one-time-tokens';
import { createRateLimiter, type LimitedAction } from './rate-limit';
import { refreshSession, startSession } from './sessions';
import { AuthError, insertUser, normalizeEmail, userById, userJson, type Db, type UserRow } from './users';
import { wechatMiniLogin } from './wechat-mini';

const AUTH_SQL = path.join(__dirname, '..', '..', 'sql', 'auth.sql');
/** Roles GoTrue accepts on its admin API (GOTRUE_JWT_ADMIN_ROLES). */
const ADMIN_ROLES = ['service_role', 'supabase_admin'];

function objectOr(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new AuthError(400, 'validation_failed', `${field} must be a JSON object`);
  return value as Record<string, unknown>;
}

export async function createAuth(ctx: Context): Promise<Product> {
  await ctx.admin.query(fs.readFileSync(AUTH_SQL, 'utf8'));
  const limiter = createRateLimiter(ctx.auth.rateLimits);
  const tx = <T>(work: (db: Db) => Promise<T>) => inTransaction(ctx.admin, 'begin', work);

  function limit(action: LimitedAction, req: IncomingMessage): void {
    if (!limiter.take(action, req)) throw new AuthError(429, 'over_request_rate_limit', 'Request rate limit reached');
  }

  async function signup(req: IncomingMessage, body: Record<string, unknown>) {
    if (body.email || body.phone) {
      throw new AuthError(422, 'email_provider_disabled', 'Email and phone sign-ups are disabled on this server');
    }
    if (!ctx.auth.anonymousSignIns) throw new AuthError(422, 'anonymous_provider_disabled', 'Anonymous sign-ins are disabled');
    limit('anonymousUsers', req);
    const data = objectOr(body.data, 'data');
    return tx(async (db) => {
      const user = await insertUser(db, { appMetadata: {}, userMetadata: data, isAnonymous: true, emailConfirmed: false });
      return startSession(ctx, db, user, 'anonymous');
    });
  }

  async function refresh(body: Record<string, unknown>) {
    const outcome = await tx((db) => refreshSession(ctx, db, body.refresh_token));
    if (outcome instanceof AuthError) throw outcome;
    return outcome;
  }

  /** A valid, unexpired JWT; GoTrue answers 403 bad_jwt otherwise. */
  function claimsOf(req: IncomingMessage): Claims {
    const token = bearer(req);
    if (!token) throw new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
    try {
      const claims = decodeJwt(token, ctx.jwtSecret);
      checkTimesAsGoTrue(claims);
      return claims;
    } catch (err) {
      throw new AuthError(403, 'bad_jwt', `invalid JWT: unable to parse or verify signature, ${(err as JwtError).message}`);
    }
  }

  /** GoTrue's requireAuthentication: a valid JWT whose user and session still exist. */
  async function authenticated(req: IncomingMessage): Promise<{ claims: Claims; user: UserRow }> {
    const claims = claimsOf(req);
    // GoTrue's maybeLoadUserOrSession (internal/api/auth.go), in its order. A string claim that is
    // absent, null or not a string reads as "" there, as Go decodes it.
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    if (text(claims.sub) === '') throw new AuthError(403, 'bad_jwt', 'invalid claim: missing sub claim');
    if (!isUuid(claims.sub)) throw new AuthError(400, 'bad_jwt', 'invalid claim: sub claim must be a UUID');
    const user = await userById(ctx.admin, claims.sub);
    if (!user) throw new AuthError(403, 'user_not_found', 'User from sub claim in JWT does not exist');
    // No session, or the nil UUID, is a token without one; anything else must be a session's id.
    const sessionId = text(claims.session_id);
    if (sessionId !== '' && sessionId !== NIL_UUID) {
      if (!isUuid(sessionId)) throw new AuthError(403, 'bad_jwt', 'invalid claim: session_id claim must be a UUID');
      const found = await ctx.admin.query('select 1 from auth.sessions where id = $1', [sessionId]);
      if (!found.rowCount) {
        throw new AuthError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist');
      }
    }
    return { claims, user };
  }

  /** GoTrue's requireAdminCredentials: a JWT whose role is an admin role. */
  function requireAdmin(req: IncomingMessage): void {
    const claims = claimsOf(req);
    if (!ADMIN_ROLES.includes(String(claims.role))) throw new AuthError(403, 'not_admin', 'User not allowed');
  }

  async function adminCreateUser(body: Record<string, unknown>) {
    if (body.phone) throw new AuthError(400, 'validation_failed', 'Phone users are not supported by local-supabase');
    if (!body.email) throw new AuthError(400, 'validation_failed', 'Cannot create a user without either an email or phone');
    const email = normalizeEmail(body.email);
    const given = objectOr(body.app_metadata, 'app_metadata');
    const userMetadata = objectOr(body.user_metadata, 'user_metadata');
    if (
      body.id !== undefined &&
      (typeof body.id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(body.id))
    ) {
      throw new AuthError(400, 'validation_failed', 'ID must conform to the uuid v4 format');
    }
    const exists = new AuthError(422, 'email_exists', 'A user with this email address has already been registered');
    try {
      return await tx(async (db) => {
        if ((await db.query('select 1 from auth.users where email = $1', [email])).rowCount) throw exists;
        const user = await insertUser(db, {
          id: body.id as string | undefined,
          email,
          appMetadata: { provider: 'email', providers: ['email'], ...given },
          userMetadata,
          isAnonymous: false,
          emailConfirmed: body.email_confirm === true,
          identity: { provider: 'email', data: { email, email_verified: body.email_confirm === true } },
        });
        return userJson(db, user);
      });
    } catch (error) {
      // Two creations of one address raced past the check: the unique index decided.
      if ((error as { code?: string }).code === '23505') throw exists;
      throw error;
    }
  }

  /** PUT /user: what a user may change about themselves here is their user_metadata (`data`). */
  async function updateUser(user: UserRow, body: Record<string, unknown>) {
    if (body.email !== undefined || body.phone !== undefined || body.password !== undefined) {
      throw new AuthError(422, 'email_provider_disabled', 'Only user_metadata (data) can be changed: people sign in with WeChat');
    }
    const data = objectOr(body.data, 'data');
    const updated = (
      await ctx.admin.query<UserRow>(
        'update auth.users set raw_user_meta_data = coalesce(raw_user_meta_data, $2) || $2, updated_at = now() where id = $1 returning *',
        [user.id, JSON.stringify(data)],
      )
    ).rows[0];
    return userJson(ctx.admin, updated);
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
    let body: Buffer;
    try {
      body = await readBody(req, ctx.maxBodyBytes);
      parsed = parseJson(body);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new AuthError(413, 'request_too_large', 'Request body too large');
      throw new AuthError(400, 'bad_json', 'Could not parse request body as JSON');
    }
    // The body's values go into Postgres and back out through JSON.stringify: both recurse, and
    // Postgres text cannot hold U+0000. Either would fail there, as a 500.
    if (nestingDepth(body.toString('latin1')) > MAX_REENCODED_DEPTH) {
      throw new AuthError(400, 'bad_json', `Request body nests deeper than ${MAX_REENCODED_DEPTH} levels`);
    }
    if (holdsNul(parsed)) throw new AuthError(400, 'validation_failed', 'Strings may not contain the NUL character (\\u0000)');
    if (parsed === undefined) return {};
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AuthError(400, 'bad_json', 'Request body must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  }

  /**
   * A generate_link action link opened in a browser (GoTrue's verifyGet, internal/api/verify.go):
   * 303 to redirect_to with the session in the fragment, or the error there as GoTrue words it.
   */
  async function verifyLink(res: ServerResponse, url: URL): Promise<void> {
    const type = url.searchParams.get('type') ?? '';
    const target = url.searchParams.get('redirect_to') || ctx.url;
    const fragment = new URLSearchParams();
    try {
      const session = await tx((db) => verifyOneTimeToken(ctx, db, { token_hash: url.searchParams.get('token') ?? '', type }));
      fragment.set('type', type);
      fragment.set('access_token', session.access_token);
      fragment.set('token_type', session.token_type);
      fragment.set('expires_in', String(session.expires_in));
      fragment.set('expires_at', String(session.expires_at));
      fragment.set('refresh_token', session.refresh_token);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      const oauthError = OAUTH_ERRORS[err.status];
      if (oauthError) fragment.set('error', oauthError);
      fragment.set('error_code', err.code);
      fragment.set('error_description', err.message);
    }
    // Supabase Auth's mark on its redirects.
    fragment.set('sb', '');
    res.writeHead(303, { location: `${target}#${fragment}`, 'content-length': '0' });
    res.end();
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, path: string, url: URL) {
    const adminUser = /^\/admin\/users\/([^/]+)$/.exec(path);
    if (adminUser && req.method === 'GET') {
      requireAdmin(req);
      // GoTrue's loadUser (internal/api/admin.go).
      if (!isUuid(adminUser[1])) throw new AuthError(404, 'validation_failed', 'user_id must be an UUID');
      const user = await userById(ctx.admin, adminUser[1]);
      if (!user) throw new AuthError(404, 'user_not_found', 'User not found');
      return sendJson(res, 200, await userJson(ctx.admin, user));
    }
    switch (`${req.method} ${path}`) {
      case 'POST /signup':
        return sendJson(res, 200, await signup(req, await jsonBody(req)));
      case 'POST /token': {
        const grant = url.searchParams.get('grant_type');
        if (grant !== 'refresh_token') throw new AuthError(400, 'unsupported_grant_type', 'unsupported_grant_type');
        limit('tokenRefresh', req);
        return sendJson(res, 200, await refresh(await jsonBody(req)));
      }
      case 'POST /verify': {
        limit('tokenVerifications', req);
        const body = await jsonBody(req);
        return sendJson(res, 200, await tx((db) => verifyOneTimeToken(ctx, db, body)));
      }
      case 'GET /verify':
        limit('tokenVerifications', req);
        return verifyLink(res, url);
      case 'GET /wechat_mini/login':
        limit('signInSignUps', req);
        return sendJson(res, 200, await wechatMiniLogin(ctx, url.searchParams.get('code'), tx));
      case 'POST /admin/users':
        requireAdmin(req);
        return sendJson(res, 200, await adminCreateUser(await jsonBody(req)));
      case 'POST /admin/generate_link': {
        requireAdmin(req);
        // supabase-js sends options.redirectTo as the redirect_to query parameter (GoTrue's GetReferrer); the body's wins.
        const body = { redirect_to: url.searchParams.get('redirect_to') ?? undefined, ...(await jsonBody(req)) };
        return sendJson(res, 200, await tx((db) => generateLink(ctx, db, body)));
      }
      case 'GET /user': {
        const { user } = await authenticated(req);
        return sendJson(res, 200, await userJson(ctx.admin, user));
      }
      case 'PUT /user': {
        const { user } = await authenticated(req);
        limit('signInSignUps', req);
        return sendJson(res, 200, await updateUser(user, await jsonBody(req)));
      }
      case 'POST /logout':
        await logout(req, url.searchParams.get('scope') ?? 'global');
        return sendJson(res, 204, undefined);
      case 'GET /settings':
        return sendJson(res, 200, {
          external: { anonymous_users: ctx.auth.anonymousSignIns, email: false, phone: false },
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

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, item]) => key.includes('\0') || holdsNul(item));
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** GoTrue's oauthErrorMap: the OAuth error a redirect names for an HTTP status. */
const OAUTH_ERRORS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized_client',
  403: 'access_denied',
  500: 'server_error',
  503: 'temporarily_unavailable',
};
