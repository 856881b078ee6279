// HS256 JSON Web Tokens, the only kind a local Supabase stack issues and accepts.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Claims = Record<string, unknown> & { role?: string; sub?: string; exp?: number };

export class JwtError extends Error {}

function b64(input: string | Buffer): string {
  return Buffer.from(input).toString('base64url');
}

function signature(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signJwt(claims: Claims, secret: string): string {
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify(claims));
  return `${head}.${body}.${signature(secret, `${head}.${body}`).toString('base64url')}`;
}

/** Checks the shape, algorithm and signature; time claims are the caller's policy (see checkTimes). */
export function decodeJwt(token: string, secret: string): Claims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError(`Expected 3 parts in JWT; got ${parts.length}`);
  const [head, body, sig] = parts;
  let header: { alg?: unknown };
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('JWT cryptographic operation failed');
  }
  // Only HS256: refusing every other algorithm (notably "none") closes the classic downgrade.
  if (header?.alg !== 'HS256') throw new JwtError('No suitable key or wrong key type');
  const expected = signature(secret, `${head}.${body}`);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('JWT cryptographic operation failed');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new JwtError('JWT claims must be a JSON object');
  }
  return claims as Claims;
}

/** PostgREST's time checks, with its 30 s allowance for clock skew. */
export function checkTimes(claims: Claims, now = Date.now() / 1000): void {
  const skew = 30;
  const num = (k: string) => (typeof claims[k] === 'number' ? (claims[k] as number) : undefined);
  const exp = num('exp');
  if (exp !== undefined && now - skew > exp) throw new JwtError('JWT expired');
  const nbf = num('nbf');
  if (nbf !== undefined && now + skew < nbf) throw new JwtError('JWT not yet valid');
  const iat = num('iat');
  if (iat !== undefined && now + skew < iat) throw new JwtError('JWT issued at future');
}

export function verifyJwt(token: string, secret: string): Claims {
  const claims = decodeJwt(token, secret);
  checkTimes(claims);
  return claims;
}

/** The database role a request runs as: the token's `role` claim, or anon when it names none. */
export function roleOf(claims: Claims): string {
  return typeof claims.role === 'string' && claims.role !== '' ? claims.role : 'anon';
}
