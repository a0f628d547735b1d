import { SignJWT, createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Role } from '../store/types';
import { ROLES } from '../store/types';

/** Options for trusting an external OIDC issuer's access tokens. */
export interface OidcOptions {
  jwksUrl: string;
  issuer?: string;
  audience?: string;
  /** Claim holding the role(s); a string or an array of strings. Default `role`. */
  roleClaim: string;
  /** Claim value -> role, e.g. `{ 'flags-admin': 'ADMIN' }`. Values equal to a role name map to it. */
  roleMap: Record<string, Role>;
}

/** A verified identity from a bearer token. */
export type TokenIdentity =
  { source: 'local'; userId: string } | { source: 'oidc'; subject: string; email: string | null; name: string | null; role: Role | null };

const ISSUER = 'switchyard';
const AUDIENCE = 'switchyard-api';
const RANK: Record<Role, number> = { VIEWER: 0, EXPERIMENTER: 1, ADMIN: 2 };

/** Maps claim values to the highest role any of them grants. */
export function roleFromClaim(value: unknown, map: Record<string, Role>): Role | null {
  const values = Array.isArray(value) ? value : [value];
  let best: Role | null = null;
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const upper = v.toUpperCase();
    const role = map[v] ?? ((ROLES as readonly string[]).includes(upper) ? (upper as Role) : undefined);
    if (role !== undefined && (best === null || RANK[role] > RANK[best])) best = role;
  }
  return best;
}

/**
 * Issues and verifies bearer tokens: our own HS256 JWTs for users who log in with a password,
 * and, when configured, an external issuer's tokens checked against its JWKS.
 *
 * @example
 * ```ts
 * const tokens = createTokenService({ secret, ttlSeconds: 3600 });
 * const jwt = await tokens.issue('user-id', 'ADMIN');
 * ```
 */
export function createTokenService(options: { secret: Uint8Array; ttlSeconds: number; oidc?: OidcOptions }) {
  const jwks: JWTVerifyGetKey | null = options.oidc
    ? createRemoteJWKSet(new URL(options.oidc.jwksUrl), { cacheMaxAge: 10 * 60_000 })
    : null;
  return {
    ttlSeconds: options.ttlSeconds,
    async issue(userId: string, role: Role): Promise<string> {
      return new SignJWT({ role })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${options.ttlSeconds}s`)
        .sign(options.secret);
    },
    /** `null` when the token is not valid for us. */
    async verify(token: string): Promise<TokenIdentity | null> {
      try {
        const { payload } = await jwtVerify(token, options.secret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
        if (typeof payload.sub === 'string') return { source: 'local', userId: payload.sub };
      } catch {
        // Not one of ours: maybe the external issuer's.
      }
      const oidc = options.oidc;
      if (jwks === null || oidc === undefined) return null;
      try {
        const verifyOptions: Parameters<typeof jwtVerify>[2] = {};
        if (oidc.issuer !== undefined) verifyOptions.issuer = oidc.issuer;
        if (oidc.audience !== undefined) verifyOptions.audience = oidc.audience;
        const { payload } = await jwtVerify(token, jwks, verifyOptions);
        if (typeof payload.sub !== 'string') return null;
        return {
          source: 'oidc',
          subject: payload.sub,
          email: stringClaim(payload, 'email'),
          name: stringClaim(payload, 'name'),
          role: roleFromClaim(payload[oidc.roleClaim], oidc.roleMap),
        };
      } catch {
        return null;
      }
    },
  };
}

function stringClaim(p: JWTPayload, name: string): string | null {
  const v = p[name];
  return typeof v === 'string' ? v : null;
}

/** The token service's type. */
export type TokenService = ReturnType<typeof createTokenService>;
