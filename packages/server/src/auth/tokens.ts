import { SignJWT, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Role } from '../store/types';
import { ROLES } from '../store/types';
import type { SigningKeyring } from './signing-keys';

/** Options for trusting an external OIDC issuer's access tokens. */
export interface OidcOptions {
  jwksUrl: string;
  issuer?: string;
  /** Required: a token minted for another application of the same issuer must not work here. */
  audience?: string;
  /** Claim holding the role(s); a string or an array of strings. Default `role`. */
  roleClaim: string;
  /**
   * Claim value -> role, e.g. `{ 'flags-admin': 'ADMIN' }`. When it has entries, only they grant
   * roles; when empty, a claim value equal to a role name (`ADMIN`, ...) grants that role.
   */
  roleMap: Record<string, Role>;
}

/** A verified identity from a bearer token. */
export type TokenIdentity =
  | { source: 'local'; userId: string; tokenVersion: number; issuedAt: number }
  | { source: 'oidc'; subject: string; email: string | null; name: string | null; role: Role | null };

const ISSUER = 'switchyard';
const AUDIENCE = 'switchyard-api';
const RANK: Record<Role, number> = { VIEWER: 0, EXPERIMENTER: 1, ADMIN: 2 };
/** Longest an access token of ours may live, whatever the configured TTL says. */
export const MAX_TOKEN_TTL_SECONDS = 24 * 3600;
/** Longest an external issuer's token is accepted after it was issued. */
const MAX_OIDC_TOKEN_AGE = '24h';

/**
 * Maps claim values to the highest role any of them grants. With a role map, only exact keys of
 * the map count (a group that happens to be called `admin` grants nothing); without one, only
 * the exact role names do. Own properties only, so `constructor` or `__proto__` map to nothing.
 */
export function roleFromClaim(value: unknown, map: Record<string, Role>): Role | null {
  const values = Array.isArray(value) ? value : [value];
  const explicit = Object.keys(map).length > 0;
  let best: Role | null = null;
  for (const v of values) {
    if (typeof v !== 'string') continue;
    let role: Role | undefined;
    if (explicit) role = Object.hasOwn(map, v) ? map[v] : undefined;
    else role = (ROLES as readonly string[]).includes(v) ? (v as Role) : undefined;
    if (role !== undefined && Object.hasOwn(RANK, role) && (best === null || RANK[role] > RANK[best])) best = role;
  }
  return best;
}

/**
 * Issues and verifies bearer tokens: our own HS256 JWTs for users who log in with a password
 * (signed with the keyring's current key, `kid` in the header so keys can rotate), and, when
 * configured, an external issuer's tokens checked against its JWKS. Every token must carry
 * `exp`; ours also carry the user's token version, which a password change, a role change or a
 * logout bumps to revoke the tokens issued before.
 *
 * @example
 * ```ts
 * const tokens = createTokenService({ keyring, ttlSeconds: 3600 });
 * const jwt = await tokens.issue('user-id', 'ADMIN', 0);
 * ```
 */
export function createTokenService(options: { keyring: SigningKeyring; ttlSeconds: number; oidc?: OidcOptions }) {
  const ttlSeconds = Math.min(options.ttlSeconds, MAX_TOKEN_TTL_SECONDS);
  if (options.oidc !== undefined && (options.oidc.audience === undefined || options.oidc.audience === ''))
    throw new Error(
      'SWITCHYARD_OIDC_AUDIENCE is required with SWITCHYARD_JWKS_URL: without it, a token the issuer minted for any other application would be accepted',
    );
  const jwks: JWTVerifyGetKey | null = options.oidc
    ? createRemoteJWKSet(new URL(options.oidc.jwksUrl), { cacheMaxAge: 10 * 60_000 })
    : null;

  async function verifyLocal(token: string): Promise<TokenIdentity | null> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return null;
    }
    const key = kid === undefined ? null : await options.keyring.verificationKey(kid);
    if (key === null) return null;
    try {
      const { payload } = await jwtVerify(token, key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: ttlSeconds,
      });
      const tv = typeof payload.tv === 'number' ? payload.tv : -1;
      return { source: 'local', userId: payload.sub!, tokenVersion: tv, issuedAt: payload.iat! };
    } catch {
      return null;
    }
  }

  return {
    ttlSeconds,
    async issue(userId: string, role: Role, tokenVersion: number): Promise<string> {
      const { kid, secret } = options.keyring.signingKey();
      return new SignJWT({ role, tv: tokenVersion })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(secret);
    },
    /** `null` when the token is not valid for us. */
    async verify(token: string): Promise<TokenIdentity | null> {
      const local = await verifyLocal(token);
      if (local !== null) return local;
      const oidc = options.oidc;
      if (jwks === null || oidc === undefined) return null;
      try {
        const verifyOptions: Parameters<typeof jwtVerify>[2] = { requiredClaims: ['exp', 'sub'], maxTokenAge: MAX_OIDC_TOKEN_AGE };
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
