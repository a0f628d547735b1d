import { z } from 'zod';
import { ApiError } from '../errors';
import { verifyPassword } from '../auth/password';
import { clearSessionCookie, csrfTokenOf, sessionTokenOf, setSessionCookie } from '../auth/session-cookie';
import { route, type RouteDef } from '../http/route';
import type { ServerContext } from '../services/context';
import { userResource } from './users';

const sessionBody = z
  .strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) })
  .meta({ id: 'SessionInput' });

// Same reason as login: an unknown email costs as much time as a wrong password.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Browser sessions for the console: the JWT lives in an HttpOnly cookie that scripts cannot
 * read, and writes made with it must echo the session's CSRF token in `X-CSRF-Token`.
 */
export function sessionRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  return [
    route({
      method: 'post',
      path: '/auth/session',
      summary: 'Sign in with email and password; sets the HttpOnly session cookie',
      tag: 'Auth',
      auth: 'none',
      body: sessionBody,
      success: { status: 201, description: '{user, csrf_token, expires_in}; the access token is only in the cookie' },
      errors: ['RATE_LIMIT_EXCEEDED'],
      handler: async (c, { body }) => {
        const user = await ctx.store.getUserByEmail(body.email);
        const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_HASH);
        if (user === null || user.passwordHash === null || !ok)
          throw new ApiError('AUTHENTICATION_REQUIRED', 'email or password is incorrect');
        const token = await ctx.tokens.issue(user.id, user.role);
        setSessionCookie(c, token, ctx.tokens.ttlSeconds, ctx.options.trustProxy);
        return { status: 201, data: { user: userResource(user), csrf_token: csrfTokenOf(token), expires_in: ctx.tokens.ttlSeconds } };
      },
    }),
    route({
      method: 'get',
      path: '/auth/session',
      summary: 'The signed-in user of the session cookie and its CSRF token',
      tag: 'Auth',
      auth: 'user',
      success: { status: 200, description: '{user, csrf_token}' },
      handler: async (c) => {
        const token = sessionTokenOf(c);
        const actor = c.get('actor')!;
        if (token === null || actor.type !== 'user')
          throw new ApiError('AUTHENTICATION_REQUIRED', 'no session cookie: sign in with POST /api/v1/auth/session');
        const user = await ctx.store.getUser(actor.id);
        if (user === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'the session belongs to a user who no longer exists');
        return { data: { user: userResource(user), csrf_token: csrfTokenOf(token) } };
      },
    }),
    route({
      method: 'delete',
      path: '/auth/session',
      summary: 'Sign out: clears the session cookie',
      tag: 'Auth',
      auth: 'none',
      success: { status: 204, description: 'The cookie is cleared' },
      handler: async (c) => {
        clearSessionCookie(c, ctx.options.trustProxy);
        return { status: 204, data: null };
      },
    }),
  ];
}
