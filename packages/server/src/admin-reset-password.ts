import { existsSync } from 'node:fs';
import { generatePassword, hashPassword } from './auth/password';
import { OptionError } from './option-specs';
import type { ServerOptions } from './options';
import { openStore } from './store/open-store';
import { isMemoryPath } from './store/sqlite/writer';

/** What `switchyard admin reset-password` did; `password` is set only when it was generated. */
export interface ResetPasswordResult {
  email: string;
  password: string | null;
}

/**
 * Sets a new password for a local user of the store, as the system, with an audit record.
 * The password comes from `options.adminPassword` (SWITCHYARD_ADMIN_PASSWORD) or is generated.
 * Refuses to create a store: a mistyped `--db` must not look like success.
 *
 * @example
 * ```ts
 * const { email, password } = await resetPassword(resolveOptions({ dbPath: 'data/switchyard.db' }), 'ops@example.com');
 * ```
 */
export async function resetPassword(
  options: Pick<ServerOptions, 'databaseUrl' | 'dbPath' | 'adminEmail' | 'adminPassword'>,
  email: string = options.adminEmail,
  now: () => number = Date.now,
): Promise<ResetPasswordResult> {
  if (options.databaseUrl === undefined && (isMemoryPath(options.dbPath) || !existsSync(options.dbPath))) {
    throw new OptionError(`no database at '${options.dbPath}' (start the server once with 'switchyard serve', or name the file with --db)`);
  }
  const store = await openStore(options);
  try {
    const user = await store.getUserByEmail(email);
    if (user === null) {
      const page = await store.listUsers(undefined, 100);
      const admins = page.items.filter((u) => u.role === 'ADMIN' && u.source === 'local').map((u) => u.email);
      const known = admins.length === 0 ? 'it has no local admins' : `its local admins: ${admins.join(', ')}`;
      throw new OptionError(`no user '${email}' in this store (${known}); choose one with --email`);
    }
    if (user.source !== 'local') throw new OptionError(`'${email}' signs in through OIDC and has no password here`);
    const password = options.adminPassword ?? generatePassword();
    const at = new Date(now()).toISOString();
    await store.commit({
      writes: [
        {
          table: 'users',
          action: 'update',
          row: {
            ...user,
            passwordHash: await hashPassword(password),
            // As for a password change through the API: every token issued before stops working.
            tokenVersion: user.tokenVersion + 1,
            updatedAt: at,
          },
        },
      ],
      audit: {
        action: 'user.update',
        resourceType: 'user',
        resourceId: user.id,
        resourceKey: user.email,
        before: { email: user.email, role: user.role },
        after: { email: user.email, role: user.role, password_changed: true },
        at,
        actorType: 'system',
        actorId: null,
        actorLabel: 'cli: admin reset-password',
        requestId: null,
        ip: null,
        userAgent: null,
      },
    });
    return { email: user.email, password: options.adminPassword === undefined ? password : null };
  } finally {
    await store.close();
  }
}
