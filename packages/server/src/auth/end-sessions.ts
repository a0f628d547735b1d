import { commitMutation, type RequestOrigin, type ServerContext } from '../services/context';
import { notFound } from '../errors';
import { onLatestVersion } from '../services/config/latest-version';
import type { UserRow } from '../store/types';

/**
 * Signs a user out everywhere: bumps their token version (every access token and session
 * cookie issued so far is refused from then on), audited as `auth.logout`, and closes what
 * their credentials hold open.
 */
export async function endSessions(ctx: ServerContext, origin: RequestOrigin, user: UserRow): Promise<void> {
  let first: UserRow | null = user;
  await onLatestVersion({
    // The row the caller holds first; the stored one if a concurrent change (a role change) won.
    load: async () => {
      const u = first ?? (await ctx.store.getUser(user.id));
      first = null;
      if (u === null) throw notFound('user', user.id);
      return u;
    },
    apply: (u) =>
      commitMutation(ctx, origin, {
        writes: [{ table: 'users', action: 'update', row: { ...u, tokenVersion: u.tokenVersion + 1 } }],
        audit: { action: 'auth.logout', resourceType: 'user', resourceId: u.id, resourceKey: u.email, before: null, after: null },
      }),
  });
  ctx.pipeline.credentialsChanged({ userId: user.id });
}
