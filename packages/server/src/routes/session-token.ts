import { decodeJwt } from 'jose';
import { ApiError } from '../errors';
import { credentialOf } from '../auth/authenticate';
import { csrfTokenOf, setSessionCookie } from '../auth/session-cookie';
import { MAX_TOKEN_TTL_SECONDS } from '../auth/tokens';
import { route, type RouteDef } from '../http/route';
import type { ServerContext } from '../services/context';
import { userResource } from './users';

/**
 * How the console can sign in, and signing in with an identity provider's token: a person who
 * holds an access or ID token from the configured OIDC issuer (from the IdP's CLI or portal)
 * exchanges it for the console's HttpOnly session cookie. The token goes in `Authorization`, so
 * no cross-site page can make a browser send it; the session then lasts as long as the token.
 */
export function sessionTokenRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  return [
    route({
      method: 'get',
      path: '/auth/providers',
      summary: 'How people sign in here: password, and the OIDC issuer when one is configured',
      tag: 'Auth',
      auth: 'none',
      success: { status: 200, description: '{password: true, oidc: {issuer} | null}' },
      handler: async () => {
        const oidc = ctx.options.oidc;
        return { data: { password: true, oidc: oidc === undefined ? null : { issuer: oidc.issuer ?? null } } };
      },
    }),
    route({
      method: 'post',
      path: '/auth/session/token',
      summary: "Sign in with a bearer token (the OIDC issuer's, or one from /auth/login); sets the HttpOnly session cookie",
      tag: 'Auth',
      auth: 'user',
      success: { status: 201, description: '{user, csrf_token, expires_in}; the token is only in the cookie' },
      handler: async (c) => {
        const token = credentialOf(c, false);
        const actor = c.get('actor')!;
        // The cookie itself (no header) or an API key cannot become a session.
        if (token === null || token.startsWith('sy_') || actor.type !== 'user')
          throw new ApiError('AUTHENTICATION_REQUIRED', 'send the token to sign in with as Authorization: Bearer <token>');
        const user = await ctx.store.getUser(actor.id);
        if (user === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'the token belongs to a user who no longer exists');
        // Verified above; decoding only reads its expiry, so the cookie does not outlive the token.
        const exp = decodeJwt(token).exp ?? 0;
        const expiresIn = Math.min(MAX_TOKEN_TTL_SECONDS, Math.max(1, Math.floor(exp - ctx.now() / 1000)));
        setSessionCookie(c, token, expiresIn, ctx.options.trustProxy);
        return { status: 201, data: { user: userResource(user), csrf_token: csrfTokenOf(token), expires_in: expiresIn } };
      },
    }),
  ];
}
