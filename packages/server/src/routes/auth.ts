import { z } from 'zod';
import { ApiError } from '../errors';
import { verifyPassword } from '../auth/password';
import { route, type RouteDef } from '../http/route';
import { resource } from '../http/envelope';
import type { ServerContext } from '../services/context';
import { userResource } from './users';

const loginBody = z.strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) }).meta({ id: 'LoginInput' });

// Verifying against a real hash even for unknown emails keeps response time from revealing
// which emails have accounts.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** Login (email + password -> JWT) and `me`. */
export function authRoutes(ctx: ServerContext): RouteDef<any, any>[] {
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
      handler: async (_c, { body }) => {
        const user = await ctx.store.getUserByEmail(body.email);
        const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_HASH);
        if (user === null || user.passwordHash === null || !ok)
          throw new ApiError('AUTHENTICATION_REQUIRED', 'email or password is incorrect');
        const token = await ctx.tokens.issue(user.id, user.role);
        return { data: { access_token: token, token_type: 'Bearer', expires_in: ctx.tokens.ttlSeconds } };
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
