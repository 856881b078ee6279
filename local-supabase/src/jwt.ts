// HS256 JSON Web Tokens, the only kind a local Supabase stack issues and accepts.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Claims = Record<string, unknown> & { role?: string; sub?: string; exp?: number };

/** `claims`: the token is sound but its claims are not (PostgREST's JwtClaimsError, PGRST303). */
export class JwtError extends Error {
  constructor(
    message: string,
    readonly claims = false,
  ) {
    super(message);
  }
}

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

/**
 * One segment's bytes, from its canonical spelling only: unpadded base64url whose unused trailing
 * bits are zero (golang-jwt's strict decoding, RFC 7515 §2). Node's decoder alone would skip
 * characters outside the alphabet, accept padding and '+' '/', and ignore trailing bits, so one
 * token could be written many ways.
 */
function segment(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new JwtError('JWT cryptographic operation failed');
  return bytes;
}

/** Checks the shape, algorithm and signature; time claims are the caller's policy (see checkTimes). */
export function decodeJwt(token: string, secret: string): Claims {
  if (token === '') throw new JwtError('Empty JWT is sent in Authorization header');
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError(`Expected 3 parts in JWT; got ${parts.length}`);
  const [head, body, sig] = parts;
  let header: { alg?: unknown };
  let payload: Buffer;
  try {
    header = JSON.parse(segment(head).toString('utf8'));
    payload = segment(body);
  } catch {
    throw new JwtError('JWT cryptographic operation failed');
  }
  // Only HS256: refusing every other algorithm (notably "none") closes the classic downgrade.
  if (header?.alg !== 'HS256') throw new JwtError('No suitable key or wrong key type');
  const expected = signature(secret, `${head}.${body}`);
  const given = segment(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('JWT cryptographic operation failed');
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    claims = undefined;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new JwtError('Parsing claims failed', true);
  return claims as Claims;
}

/**
 * PostgREST's claim checks (src/library/PostgREST/Auth/Jwt.hs checkForErrors), in its order, with
 * its 30 s allowance for clock skew. A time that is not a whole number counts as 0, as there.
 */
export function checkTimes(claims: Claims, now = Date.now() / 1000): void {
  const skew = 30;
  const time = (key: string): number | undefined => {
    const value = claims[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw new JwtError(`The JWT '${key}' claim must be a number`, true);
    return Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? value : 0;
  };
  const exp = time('exp');
  if (exp !== undefined && now - skew > exp) throw new JwtError('JWT expired', true);
  const nbf = time('nbf');
  if (nbf !== undefined && now + skew < nbf) throw new JwtError('JWT not yet valid', true);
  const iat = time('iat');
  if (iat !== undefined && now + skew < iat) throw new JwtError('JWT issued at future', true);
  const aud = claims.aud;
  if (aud !== undefined && aud !== null && typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) {
    throw new JwtError("The JWT 'aud' claim must be a string or an array of strings", true);
  }
}

/**
 * GoTrue's time checks: golang-jwt v5's defaults (internal/api/auth.go parseJWTClaims makes its
 * parser with no options): no allowance for skew, any JSON number as a time, and `iat` unchecked.
 */
export function checkTimesAsGoTrue(claims: Claims, now = Date.now() / 1000): void {
  const time = (key: string): number | undefined => {
    const value = claims[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw new JwtError('token is malformed: could not JSON decode claim', true);
    return value;
  };
  const exp = time('exp');
  if (exp !== undefined && now >= exp) throw new JwtError('token has invalid claims: token is expired', true);
  const nbf = time('nbf');
  if (nbf !== undefined && now < nbf) throw new JwtError('token has invalid claims: token is not valid yet', true);
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A claim (sub, session_id) or id Postgres can take as a uuid: anything else would fail there. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
