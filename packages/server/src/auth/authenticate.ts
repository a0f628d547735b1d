import type { Context } from 'hono';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/app-env';
import type { ServerContext } from '../services/context';
import { isVersionConflict, type UserRow } from '../store/types';
import type { Actor } from './actor';
import { hashApiKey } from './api-key-secret';
import { minRole } from './permissions';
import { checkCsrf, sessionTokenOf } from './session-cookie';

const TOUCH_EVERY_MS = 60_000;

/**
 * A person who signs in through the identity provider has their role re-confirmed by each token
 * they use; the stored row records when (its `updated_at`, refreshed at most this often).
 */
export const OIDC_RECONFIRM_MS = 60 * 60_000;

/**
 * How long an identity-provider user's role stays trusted without a token re-confirming it: the
 * longest token lifetime plus the refresh interval. Past it, their management keys stop working,
 * so someone removed at the IdP cannot keep acting through keys they created here.
 */
export const OIDC_ROLE_TRUST_MS = 24 * 60 * 60_000 + OIDC_RECONFIRM_MS;

/** The credential a request carries: `X-API-Key`, `Authorization: Bearer`, or (SDK routes) `?key=`. */
export function credentialOf(c: Context<AppEnv>, allowQueryKey: boolean): string | null {
  const header = c.req.header('x-api-key');
  if (header !== undefined && header.trim() !== '') return header.trim();
  const auth = c.req.header('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m !== null) return m[1]!.trim();
  }
  if (allowQueryKey) {
    const q = c.req.query('key');
    if (q !== undefined && q !== '') return q;
  }
  return null;
}

function isApiKeySecret(credential: string): boolean {
  return credential.startsWith('sy_');
}

/**
 * Resolves the actor behind a request once. API keys are looked up by hash (revoked keys fail
 * at once); a management key acts with the lower of its own role and its creator's current
 * role. JWTs are ours (HS256) or, when configured, an external OIDC issuer's, whose users are
 * provisioned on first sight with the role their claim maps to.
 */
export function createAuthenticator(ctx: ServerContext) {
  const touched = new Map<string, number>();

  async function fromApiKey(secret: string): Promise<Actor> {
    const key = await ctx.credentials.apiKeyByHash(hashApiKey(secret));
    if (key === null || key.revokedAt !== null) throw new ApiError('AUTHENTICATION_REQUIRED', 'the API key is invalid or has been revoked');
    const now = ctx.now();
    ctx.keyUsage?.record(key, now);
    if ((touched.get(key.id) ?? 0) + TOUCH_EVERY_MS < now) {
      touched.set(key.id, now);
      // Off the request path: "last used" is informational and must not fail or slow a request
      // (the database may be down while cached keys keep working).
      ctx.store.touchApiKey(key.id, new Date(now).toISOString()).catch((err: unknown) => {
        touched.delete(key.id);
        ctx.logger.debug({ err }, 'could not record the API key as used');
      });
    }
    if (key.kind !== 'management')
      return {
        type: 'api_key',
        id: key.id,
        kind: key.kind,
        role: null,
        ownerId: key.createdBy,
        label: key.name,
        environment: key.environment ?? ctx.options.defaultEnvironment,
        allowedMetrics: key.allowedMetrics ?? null,
      };
    const creator = key.createdBy === null ? null : await ctx.credentials.user(key.createdBy);
    if (creator === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'the API key belongs to a user who no longer exists');
    if (creator.source === 'oidc' && Date.parse(creator.updatedAt) + OIDC_ROLE_TRUST_MS < now)
      throw new ApiError(
        'AUTHENTICATION_REQUIRED',
        "the API key's creator signs in through the identity provider and has not for over 24 h, so their role is unconfirmed; the key works again once they sign in",
      );
    const role = key.role === null ? creator.role : minRole(key.role, creator.role);
    return { type: 'api_key', id: key.id, kind: 'management', role, ownerId: creator.id, label: key.name };
  }

  async function provisionOidcUser(subject: string, email: string | null, name: string | null, role: UserRow['role']): Promise<UserRow> {
    const id = `oidc:${subject}`;
    const existing = await ctx.store.getUser(id);
    const now = new Date(ctx.now()).toISOString();
    if (existing !== null) {
      if (existing.role !== role || Date.parse(existing.updatedAt) + OIDC_RECONFIRM_MS < ctx.now()) {
        const row = { ...existing, role, updatedAt: now };
        try {
          await ctx.store.commit({ writes: [{ table: 'users', action: 'update', row }] });
        } catch (err) {
          // Two requests of the user at once: the other one synced the role first.
          if (!isVersionConflict(err)) throw err;
          const winner = await ctx.store.getUser(id);
          if (winner === null) throw err;
          return winner;
        }
        // A new role or a re-confirmed one changes what the user's management keys may do, on every instance.
        ctx.pipeline.credentialsChanged({ userId: id });
        return { ...row, version: existing.version + 1 };
      }
      return existing;
    }
    // Never attach an external identity to a local account by email: that would let the
    // issuer take over local users.
    const taken = email !== null && (await ctx.store.getUserByEmail(email)) !== null;
    const row: UserRow = {
      seq: 0,
      id,
      email: email !== null && !taken ? email : `${subject}.${randomUUID().slice(0, 8)}@oidc.invalid`,
      name,
      role,
      passwordHash: null,
      source: 'oidc',
      tokenVersion: 0,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await ctx.store.commit({ writes: [{ table: 'users', action: 'insert', row }] });
    } catch (err) {
      // Two first requests of one new user at once: the other one created it.
      const winner = await ctx.store.getUser(id);
      if (winner === null) throw err;
      return winner;
    }
    return row;
  }

  /**
   * Signed-in people share the API budget per user (API keys are limited per key before this):
   * counted only after the token verified, so a forged token cannot spend someone else's.
   */
  async function limitUser(userId: string): Promise<void> {
    const d = await ctx.apiLimiter.take(`user:${userId}`, ctx.now());
    if (!d.allowed)
      throw new ApiError('RATE_LIMIT_EXCEEDED', 'too many requests for this user; slow down', undefined, {
        'Retry-After': String(d.resetSeconds),
      });
  }

  async function fromToken(token: string): Promise<Actor> {
    const identity = await ctx.tokens.verify(token);
    if (identity === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'the bearer token is invalid or expired');
    if (identity.source === 'local') {
      const user = await ctx.credentials.user(identity.userId);
      if (user === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'the token belongs to a user who no longer exists');
      // A password change, a role change or a logout since the token was issued ends it.
      if (identity.tokenVersion !== user.tokenVersion) throw new ApiError('AUTHENTICATION_REQUIRED', 'the session has ended; log in again');
      await limitUser(user.id);
      return { type: 'user', id: user.id, email: user.email, role: user.role, label: user.email };
    }
    if (identity.role === null) throw new ApiError('PERMISSION_DENIED', 'the token carries no role this server maps');
    const user = await provisionOidcUser(identity.subject, identity.email, identity.name, identity.role);
    await limitUser(user.id);
    return { type: 'user', id: user.id, email: user.email, role: user.role, label: user.email };
  }

  return async function authenticate(c: Context<AppEnv>, allowQueryKey = false): Promise<Actor> {
    const cached = c.get('actor');
    if (cached !== undefined) return cached;
    const credential = credentialOf(c, allowQueryKey);
    if (credential === null) {
      // The console's session cookie counts only where no explicit credential was sent, and
      // only with its CSRF check for writes.
      const session = sessionTokenOf(c);
      if (session === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'send a bearer token or an API key (X-API-Key)');
      const actor = await fromToken(session);
      checkCsrf(c, session);
      c.set('actor', actor);
      return actor;
    }
    const actor = isApiKeySecret(credential) ? await fromApiKey(credential) : await fromToken(credential);
    c.set('actor', actor);
    return actor;
  };
}

/** The authenticator's type. */
export type Authenticator = ReturnType<typeof createAuthenticator>;
