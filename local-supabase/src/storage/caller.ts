// Who is calling Storage, and the per-request database scope Supabase Storage opens for them:
// one transaction on the `authenticator` pool, switched to the caller's role with the caller's
// claims, so the bucket's RLS policies on storage.objects decide.
import type { IncomingMessage } from 'node:http';
import type { PoolClient } from 'pg';
import type { Context } from '../context';
import { inTransaction } from '../db';
import { bearer } from '../http';
import { isUuid, roleOf, verifyJwt, type Claims } from '../jwt';
import { accessDenied } from './errors';

export interface Caller {
  role: string;
  claims: Claims;
  token: string;
  /** False for a request read as anon because its JWT was missing or invalid. */
  authenticated: boolean;
}

const ANONYMOUS: Caller = { role: 'anon', claims: { role: 'anon' }, token: '', authenticated: false };

/**
 * The caller of a request. Storage refuses a missing or bad JWT with AccessDenied, except on the
 * `tolerant` routes (a plain object GET), which read such a request as anon.
 */
export function identify(req: IncomingMessage, secret: string, tolerant: boolean): Caller {
  const token = bearer(req);
  if (!token) {
    if (tolerant) return ANONYMOUS;
    throw accessDenied('jwt must be provided');
  }
  let claims: Claims;
  try {
    claims = verifyJwt(token, secret);
  } catch (err) {
    if (tolerant) return ANONYMOUS;
    throw accessDenied((err as Error).message);
  }
  return { role: roleOf(claims), claims, token, authenticated: true };
}

/** `owner` only holds a UUID subject; `owner_id` keeps any subject as text. */
export function ownerOf(caller: Caller): { owner: string | null; ownerId: string | null } {
  const sub = typeof caller.claims.sub === 'string' && caller.claims.sub !== '' ? caller.claims.sub : null;
  return { owner: isUuid(sub) ? sub : null, ownerId: sub };
}

// Both the current `request.jwt.claims` and the legacy per-claim settings, because policies
// written for older PostgREST read `request.jwt.claim.sub` directly.
const SCOPE_SQL = `select set_config('role', $1, true),
  set_config('request.jwt.claim.role', $1, true),
  set_config('request.jwt', $2, true),
  set_config('request.jwt.claim.sub', $3, true),
  set_config('request.jwt.claims', $4, true),
  set_config('request.headers', $5, true),
  set_config('request.method', $6, true),
  set_config('request.path', $7, true),
  set_config('storage.operation', $8, true),
  set_config('storage.allow_delete_query', 'true', true)`;

/** Runs `work` in one transaction as the caller; rolls back if it throws. */
export async function asCaller<T>(
  ctx: Context,
  caller: Caller,
  req: IncomingMessage,
  operation: string,
  work: (db: PoolClient) => Promise<T>,
): Promise<T> {
  return inTransaction(ctx.api, 'begin', async (db) => {
    try {
      await db.query(SCOPE_SQL, [
        caller.role,
        caller.token,
        typeof caller.claims.sub === 'string' ? caller.claims.sub : '',
        JSON.stringify(caller.claims),
        JSON.stringify(req.headers),
        req.method ?? '',
        (req.url ?? '').split('?')[0],
        operation,
      ]);
    } catch (err) {
      // A signed token naming a role the server cannot switch to.
      throw accessDenied((err as Error).message);
    }
    return work(db);
  });
}
