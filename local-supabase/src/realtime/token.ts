// Realtime's token rule (RealtimeWeb.UserSocket / confirm_token): a JWT signed with the project
// secret that carries a role and an integer exp still in the future. Messages are upstream's.
import { decodeJwt, type Claims } from '../jwt';

export class TokenError extends Error {}

const API_ROLES = ['anon', 'authenticated', 'service_role'];

export type VerifiedClaims = Claims & { role: string; exp: number };

export function confirmToken(token: string, secret: string, nowSeconds = Date.now() / 1000): VerifiedClaims {
  if (token.split('.').length !== 3) throw new TokenError('The token provided is not a valid JWT');
  let claims: Claims;
  try {
    claims = decodeJwt(token, secret);
  } catch {
    throw new TokenError('Failed to validate JWT signature');
  }
  if (typeof claims.role !== 'string' || !Number.isInteger(claims.exp)) {
    throw new TokenError('Fields `role` and `exp` are required in JWT');
  }
  // Subscribers' RLS checks run by switching to this role; only the API roles may be named, as
  // PostgREST's authenticator can only become those.
  if (!API_ROLES.includes(claims.role)) throw new TokenError(`Role "${claims.role}" is not allowed`);
  const exp = claims.exp as number;
  if (exp <= nowSeconds) throw new TokenError(`Token has expired ${Math.floor(nowSeconds - exp)} seconds ago`);
  return claims as VerifiedClaims;
}
