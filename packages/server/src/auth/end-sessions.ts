import { commitMutation, type RequestOrigin, type ServerContext } from '../services/context';
import type { UserRow } from '../store/types';

/**
 * Signs a user out everywhere: bumps their token version (every access token and session
 * cookie issued so far is refused from then on), audited as `auth.logout`, and closes what
 * their credentials hold open.
 */
export async function endSessions(ctx: ServerContext, origin: RequestOrigin, user: UserRow): Promise<void> {
  await commitMutation(ctx, origin, {
    writes: [{ table: 'users', action: 'update', row: { ...user, tokenVersion: user.tokenVersion + 1 } }],
    audit: { action: 'auth.logout', resourceType: 'user', resourceId: user.id, resourceKey: user.email, before: null, after: null },
  });
  ctx.onCredentialsChanged?.({ userId: user.id });
}
