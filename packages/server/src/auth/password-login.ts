import type { Context } from 'hono';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/app-env';
import { commitMutation, originOf, type ServerContext } from '../services/context';
import type { UserRow } from '../store/types';
import { verifyPassword } from './password';

// Verifying against a real hash even for unknown emails keeps response time from revealing
// which emails have accounts.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/**
 * Checks an email and password the one way every sign-in path does (the API's login and the
 * console's cookie session): the per-account lockout first, then the password, with an audit
 * record of the success (`auth.login`) or failure (`auth.login_failed`). Throws the envelope's
 * 401, or 429 with `Retry-After` while the account is locked.
 */
export async function checkPassword(ctx: ServerContext, c: Context<AppEnv>, email: string, password: string): Promise<UserRow> {
  const origin = originOf(c);
  const wait = ctx.loginGuard.lockedFor(email, ctx.now());
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    throw new ApiError('RATE_LIMIT_EXCEEDED', `too many failed logins for this account; try again in ${seconds} s`, undefined, {
      'Retry-After': String(seconds),
    });
  }
  const user = await ctx.store.getUserByEmail(email);
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (user === null || user.passwordHash === null || !ok) {
    ctx.loginGuard.failed(email, ctx.now());
    await commitMutation(ctx, origin, {
      writes: [],
      audit: {
        action: 'auth.login_failed',
        resourceType: 'user',
        resourceId: user?.id ?? null,
        resourceKey: email,
        before: null,
        after: null,
      },
    });
    throw new ApiError('AUTHENTICATION_REQUIRED', 'email or password is incorrect');
  }
  ctx.loginGuard.succeeded(email);
  const actor = { type: 'user' as const, id: user.id, email: user.email, role: user.role, label: user.email };
  await commitMutation(
    ctx,
    { ...origin, actor },
    {
      writes: [],
      audit: { action: 'auth.login', resourceType: 'user', resourceId: user.id, resourceKey: user.email, before: null, after: null },
    },
  );
  return user;
}
