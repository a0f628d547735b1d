import { z } from 'zod';
import { ApiError } from '../errors';
import { route, type RouteDef } from '../http/route';
import { resource } from '../http/envelope';
import { originOf, type ServerContext } from '../services/context';
import { endSessions } from '../auth/end-sessions';
import { checkPassword } from '../auth/password-login';
import { userResource } from './users';

const loginBody = z.strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) }).meta({ id: 'LoginInput' });

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
      handler: async (c, { body }) => {
        const user = await checkPassword(ctx, c, body.email, body.password);
        const token = await ctx.tokens.issue(user.id, user.role, user.tokenVersion);
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
        await endSessions(ctx, origin, user);
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
