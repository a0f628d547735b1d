import { z } from 'zod';
import { ApiError } from '../errors';
import { verifyPassword } from '../auth/password';
import { route, type RouteDef } from '../http/route';
import { resource } from '../http/envelope';
import { commitMutation, originOf, type ServerContext } from '../services/context';
import { createLoginGuard } from '../auth/login-guard';
import { userResource } from './users';

const loginBody = z.strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) }).meta({ id: 'LoginInput' });

// Verifying against a real hash even for unknown emails keeps response time from revealing
// which emails have accounts.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** Login (email + password -> JWT) and `me`. */
export function authRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const guard = createLoginGuard();
  return [
    route({
      method: 'post',
      path: '/auth/login',
      summary: 'Exchange email and password for an access token',
      tag: 'Auth',
      auth: 'none',
      body: loginBody,
      success: { status: 200, description: '{access_token, token_type, expires_in}' },
      errors: ['RATE_LIMIT_EXCEEDED'],
      handler: async (c, { body }) => {
        const origin = originOf(c);
        const wait = guard.lockedFor(body.email, ctx.now());
        if (wait > 0) {
          const seconds = Math.ceil(wait / 1000);
          throw new ApiError('RATE_LIMIT_EXCEEDED', `too many failed logins for this account; try again in ${seconds} s`, undefined, {
            'Retry-After': String(seconds),
          });
        }
        const user = await ctx.store.getUserByEmail(body.email);
        const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_HASH);
        if (user === null || user.passwordHash === null || !ok) {
          guard.failed(body.email, ctx.now());
          await commitMutation(ctx, origin, {
            writes: [],
            audit: {
              action: 'auth.login_failed',
              resourceType: 'user',
              resourceId: user?.id ?? null,
              resourceKey: body.email,
              before: null,
              after: null,
            },
          });
          throw new ApiError('AUTHENTICATION_REQUIRED', 'email or password is incorrect');
        }
        guard.succeeded(body.email);
        const token = await ctx.tokens.issue(user.id, user.role, user.tokenVersion);
        const actor = { type: 'user' as const, id: user.id, email: user.email, role: user.role, label: user.email };
        await commitMutation(
          ctx,
          { ...origin, actor },
          {
            writes: [],
            audit: { action: 'auth.login', resourceType: 'user', resourceId: user.id, resourceKey: user.email, before: null, after: null },
          },
        );
        return { data: { access_token: token, token_type: 'Bearer', expires_in: ctx.tokens.ttlSeconds } };
      },
    }),
    route({
      method: 'post',
      path: '/auth/logout',
      summary: 'End every session of the signed-in user',
      tag: 'Auth',
      auth: 'user',
      success: { status: 204, description: 'Every access token issued to the user so far is refused from now on' },
      handler: async (c) => {
        const origin = originOf(c);
        const actor = origin.actor!;
        if (actor.type !== 'user') throw new ApiError('VALIDATION_ERROR', 'an API key has no session to end; revoke the key instead');
        const user = await ctx.store.getUser(actor.id);
        if (user === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'user no longer exists');
        const row = { ...user, tokenVersion: user.tokenVersion + 1 };
        await commitMutation(ctx, origin, {
          writes: [{ table: 'users', action: 'update', row }],
          audit: { action: 'auth.logout', resourceType: 'user', resourceId: user.id, resourceKey: user.email, before: null, after: null },
        });
        ctx.onCredentialsChanged?.({ userId: user.id });
        return { status: 204, data: null };
      },
    }),
    route({
      method: 'get',
      path: '/auth/me',
      summary: 'Who the credentials belong to',
      tag: 'Auth',
      auth: 'any',
      success: { status: 200, description: 'The user (or API key) behind the request' },
      handler: async (c) => {
        const actor = c.get('actor')!;
        if (actor.type === 'user') {
          const user = await ctx.store.getUser(actor.id);
          if (user === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'user no longer exists');
          return { data: userResource(user) };
        }
        return {
          data: resource('api-key', actor.id, { name: actor.label, kind: actor.kind, role: actor.role, created_by: actor.ownerId }),
        };
      },
    }),
  ];
}
