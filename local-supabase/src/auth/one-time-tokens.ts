// Magic links without mail: the admin API's generate_link issues a one-time token and /verify
// trades it for a session (supabase/auth internal/api/mail.go adminGenerateLink,
// internal/api/verify.go). The token hash is hex(SHA-224(email + otp)) as GoTrue computes it
// (internal/crypto/crypto.go GenerateTokenHash); it is single-use and expires after otp_expiry.
import { createHash, randomInt } from 'node:crypto';
import type { Context } from '../context';
import { startSession, type Session } from './sessions';
import { AuthError, insertUser, normalizeEmail, userJson, type Db, type UserRow } from './users';

/** Which column holds the token of each verification type. */
const TOKEN_COLUMN: Record<string, Array<'recovery_token' | 'confirmation_token'>> = {
  magiclink: ['recovery_token'],
  recovery: ['recovery_token'],
  signup: ['confirmation_token'],
  invite: ['confirmation_token'],
  email: ['confirmation_token', 'recovery_token'],
};

function tokenHash(email: string, otp: string): string {
  return createHash('sha224')
    .update(email + otp)
    .digest('hex');
}

export async function generateLink(ctx: Context, db: Db, body: Record<string, unknown>) {
  let type = body.type;
  if (type !== 'magiclink' && type !== 'recovery' && type !== 'signup') {
    throw new AuthError(400, 'validation_failed', `Invalid email action link type requested: ${String(type)}`);
  }
  const email = normalizeEmail(body.email);
  let user = (await db.query<UserRow>('select * from auth.users where email = $1 for update', [email])).rows[0];
  if (!user) {
    if (type === 'recovery') throw new AuthError(404, 'user_not_found', 'User with this email not found');
    // An unknown address turns a magic link into a sign-up, as GoTrue does.
    type = 'signup';
    const data = body.data;
    user = await insertUser(db, {
      email,
      appMetadata: { provider: 'email', providers: ['email'] },
      userMetadata: typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {},
      isAnonymous: false,
      emailConfirmed: false,
      identity: { provider: 'email', data: { email, email_verified: false } },
    });
  } else if (type === 'signup' && user.email_confirmed_at) {
    throw new AuthError(422, 'email_exists', 'A user with this email address has already been registered');
  }
  const otp = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const hashed = tokenHash(email, otp);
  const column = type === 'signup' ? 'confirmation' : 'recovery';
  user = (
    await db.query<UserRow>(`update auth.users set ${column}_token = $2, ${column}_sent_at = now() where id = $1 returning *`, [
      user.id,
      hashed,
    ])
  ).rows[0];
  const redirectTo = typeof body.redirect_to === 'string' ? body.redirect_to : ctx.url;
  return {
    ...(await userJson(db, user)),
    action_link: `${ctx.url}/auth/v1/verify?token=${hashed}&type=${type}&redirect_to=${encodeURIComponent(redirectTo)}`,
    email_otp: otp,
    hashed_token: hashed,
    verification_type: type,
    redirect_to: redirectTo,
  };
}

/** POST /verify: a token hash (or an email and its OTP) for a session. */
export async function verifyOneTimeToken(ctx: Context, db: Db, body: Record<string, unknown>): Promise<Session> {
  const type = String(body.type ?? '');
  const columns = TOKEN_COLUMN[type];
  if (!columns) throw new AuthError(400, 'validation_failed', 'Unsupported verification type');
  let hash: string;
  if (body.token_hash !== undefined) {
    if (body.email !== undefined || body.phone !== undefined || body.token !== undefined) {
      throw new AuthError(400, 'validation_failed', 'Only the token_hash and type should be provided');
    }
    hash = String(body.token_hash);
  } else {
    if (typeof body.token !== 'string') throw new AuthError(400, 'validation_failed', 'Verify requires a token or a token hash');
    hash = tokenHash(normalizeEmail(body.email), body.token);
  }
  const expired = new AuthError(403, 'otp_expired', 'Email link is invalid or has expired');
  const where = columns.map((c) => `${c} = $1`).join(' or ');
  const user = (await db.query<UserRow>(`select * from auth.users where ${where} for update`, [hash])).rows[0];
  if (!user) throw expired;
  const column = user.recovery_token === hash ? 'recovery' : 'confirmation';
  const sentAt = user[`${column}_sent_at`];
  if (!sentAt || Date.now() - new Date(sentAt).getTime() > ctx.auth.otpExpiry * 1000) throw expired;
  const verified = (
    await db.query<UserRow>(
      `update auth.users set ${column}_token = null, ${column}_sent_at = null,
              email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now()
        where id = $1 returning *`,
      [user.id],
    )
  ).rows[0];
  return startSession(ctx, db, verified, 'otp');
}
