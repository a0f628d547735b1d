import { z } from 'zod';
import { ApiError } from '../errors';
import { checkPassword } from '../auth/password-login';
import { clearSessionCookie, csrfTokenOf, sessionTokenOf, setSessionCookie } from '../auth/session-cookie';
import { route, type RouteDef } from '../http/route';
import { originOf, type ServerContext } from '../services/context';
import { endSessions } from '../auth/end-sessions';
import { userResource } from './users';

const sessionBody = z
  .strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) })
  .meta({ id: 'SessionInput' });

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
        const user = await checkPassword(ctx, c, body.email, body.password);
        const token = await ctx.tokens.issue(user.id, user.role, user.tokenVersion);
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
      summary: "Sign out: ends the user's sessions and clears the session cookie",
      tag: 'Auth',
      auth: 'none',
      success: { status: 204, description: 'The cookie is cleared; with a valid session, every token of its user is refused from now on' },
      handler: async (c) => {
        // A copied cookie must not outlive the sign-out: end the user's sessions, not just this cookie.
        const token = sessionTokenOf(c);
        const identity = token === null ? null : await ctx.tokens.verify(token);
        if (identity?.source === 'local') {
          const user = await ctx.store.getUser(identity.userId);
          if (user !== null && user.tokenVersion === identity.tokenVersion) {
            const actor = { type: 'user' as const, id: user.id, email: user.email, role: user.role, label: user.email };
            await endSessions(ctx, { ...originOf(c), actor }, user);
          }
        }
        clearSessionCookie(c, ctx.options.trustProxy);
        return { status: 204, data: null };
      },
    }),
  ];
}
