// MemFire Cloud's built-in WeChat login, GET /auth/v1/wechat_mini/login?code=…: what its SDK's
// auth.signInWithWechat calls (supabase-wechat-stable-v2 src/gotrue-js/src/GoTrueClient.ts). The
// answer is a GoTrue session. MemFire's server is closed; this follows what its SDK expects and
// links the person as the wechat-login function does: the openid in app_metadata (which only the
// server writes) plus a `wechat` identity.
import type { Context } from '../context';
import { loginRefusal, personOfCode, WechatApiError } from '../../../supabase/functions/_shared/wechat';
import { startSession, type Session } from './sessions';
import { AuthError, insertUser, type Db, type UserRow } from './users';

export const WECHAT_PROVIDER = 'wechat';

export async function wechatMiniLogin(
  ctx: Context,
  code: string | null,
  tx: <T>(work: (db: Db) => Promise<T>) => Promise<T>,
): Promise<Session> {
  if (!code) throw new AuthError(400, 'validation_failed', 'code是必填项');
  let openid: string;
  try {
    ({ openid } = await personOfCode(ctx.wechat, code));
  } catch (error) {
    if (!(error instanceof WechatApiError)) throw error;
    const refusal = loginRefusal(error);
    throw new AuthError(refusal.status, refusal.code, refusal.message);
  }
  const signIn = (db: Db) => findOrCreate(db, openid).then((user) => startSession(ctx, db, user, WECHAT_PROVIDER));
  try {
    return await tx(signIn);
  } catch (error) {
    // The same person's first two logins raced and the other one created the user: use it.
    if ((error as { code?: string }).code !== '23505') throw error;
    return tx(signIn);
  }
}

async function findOrCreate(db: Db, openid: string): Promise<UserRow> {
  const known = await db.query<UserRow>(
    `select u.* from auth.identities i join auth.users u on u.id = i.user_id
      where i.provider = $1 and i.provider_id = $2`,
    [WECHAT_PROVIDER, openid],
  );
  if (known.rows[0]) return known.rows[0];
  return insertUser(db, {
    appMetadata: { provider: WECHAT_PROVIDER, providers: [WECHAT_PROVIDER], openid },
    userMetadata: {},
    isAnonymous: false,
    emailConfirmed: false,
    identity: { provider: WECHAT_PROVIDER, providerId: openid, data: { openid } },
  });
}
