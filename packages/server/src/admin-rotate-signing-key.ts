import { existsSync } from 'node:fs';
import { resolveKeyring } from './auth/signing-keys';
import { OptionError } from './option-specs';
import type { ServerOptions } from './options';
import { openStore } from './store/open-store';
import { isMemoryPath } from './store/sqlite/writer';

/** What `switchyard admin rotate-signing-key` did. */
export interface RotateSigningKeyResult {
  /** The new signing key's id (tokens carry it as `kid`). */
  kid: string;
  /** Where the keyring lives: `key-file` or `database (encrypted)`. */
  source: string;
  /** Keys that stopped verifying with this rotation. */
  retired: number;
}

/**
 * Makes a new key sign the server's access tokens, with an audit record. Running instances pick
 * it up within seconds. The previous key keeps verifying for a day unless `retireNow` (a leaked
 * key: every session ends). With `SWITCHYARD_JWT_SECRET` there is nothing stored to rotate.
 *
 * @example
 * ```ts
 * const { kid } = await rotateSigningKey(resolveOptions({ dbPath: 'data/switchyard.db' }));
 * ```
 */
export async function rotateSigningKey(
  options: Pick<ServerOptions, 'databaseUrl' | 'dbPath' | 'jwtSecret' | 'masterKey'>,
  retireNow = false,
  now: () => number = Date.now,
): Promise<RotateSigningKeyResult> {
  if (options.jwtSecret !== undefined && options.jwtSecret !== '')
    throw new OptionError('the signing keys come from SWITCHYARD_JWT_SECRET: rotate by putting a new secret first in that list');
  if (options.databaseUrl === undefined && (isMemoryPath(options.dbPath) || !existsSync(options.dbPath)))
    throw new OptionError(`no database at '${options.dbPath}' (start the server once with 'switchyard serve', or name the file with --db)`);
  const store = await openStore(options);
  try {
    const keyring = await resolveKeyring(store, options, now);
    const { kid, retired } = await keyring.rotate({ retirePrevious: retireNow ? 'now' : 'after-expiry' });
    await store.commit({
      writes: [],
      audit: {
        action: 'auth.signing_key_rotated',
        resourceType: 'signing_key',
        resourceId: kid,
        resourceKey: kid,
        before: null,
        after: { kid, previous_keys: retireNow ? 'retired now' : 'verify for 24 h', retired },
        at: new Date(now()).toISOString(),
        actorType: 'system',
        actorId: null,
        actorLabel: 'cli: admin rotate-signing-key',
        requestId: null,
        ip: null,
        userAgent: null,
      },
    });
    return { kid, source: keyring.source, retired };
  } finally {
    await store.close();
  }
}
