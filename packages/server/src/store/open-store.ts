import type { Logger } from 'pino';
import type { ServerOptions } from '../options';
import { definedOf } from './defined-of';
import { isPostgresUrl, openPostgresStore } from './postgres/postgres-store';
import { assertSqliteWritable } from './sqlite/check-writable';
import { openSqliteStore } from './sqlite/sqlite-store';
import { piiCipher, reconcileUserEmails, withPiiEncryption } from './pii-encryption';
import type { Store } from './types';

/** The store settings among the server options: PostgreSQL's pool, SQLite's aggregator share. */
type StoreOption =
  'pgPoolMax' | 'pgIdleTimeoutMs' | 'pgMaxLifetimeSeconds' | 'pgConnectTimeoutMs' | 'pgStatementTimeoutMs' | 'aggregatorShare';

/**
 * The store the options name: PostgreSQL for a `postgres://` / `postgresql://` `databaseUrl`,
 * otherwise the SQLite file at `dbPath`. Any other `databaseUrl` is refused rather than
 * silently ignored (a typo must not turn a cluster into several private SQLite files).
 */
export async function openStore(
  options: Pick<ServerOptions, 'databaseUrl' | 'dbPath'> & Partial<Pick<ServerOptions, 'masterKey' | 'encryptPii' | StoreOption>>,
  logger?: Logger,
): Promise<Store> {
  const raw = await openRawStore(options, logger);
  try {
    const encrypt = options.encryptPii === true;
    const masterKey = options.masterKey === undefined || options.masterKey === '' ? null : options.masterKey;
    if (encrypt && masterKey === null)
      throw new Error('SWITCHYARD_ENCRYPT_PII needs SWITCHYARD_MASTER_KEY (the key personal data is encrypted under)');
    const pii = masterKey === null ? null : piiCipher(masterKey);
    const converted = await reconcileUserEmails(raw, pii, encrypt);
    if (converted > 0)
      logger?.info({ users: converted }, encrypt ? 'encrypted the stored user emails' : 'decrypted the stored user emails');
    return pii === null ? raw : withPiiEncryption(raw, pii, encrypt);
  } catch (err) {
    await raw.close();
    throw err;
  }
}

async function openRawStore(
  options: Pick<ServerOptions, 'databaseUrl' | 'dbPath'> & Partial<Pick<ServerOptions, StoreOption>>,
  logger?: Logger,
): Promise<Store> {
  const url = options.databaseUrl;
  if (url === undefined || url === '') {
    assertSqliteWritable(options.dbPath);
    return openSqliteStore(options.dbPath, definedOf({ aggregatorShare: options.aggregatorShare }));
  }
  if (!isPostgresUrl(url)) {
    const scheme = url.split(':')[0];
    throw new Error(
      `SWITCHYARD_DATABASE_URL must be a postgres:// or postgresql:// URL (got '${scheme}:…'); use SWITCHYARD_DB for a SQLite file`,
    );
  }
  // Unset options are left out, so the pool's defaults apply.
  return openPostgresStore(url, {
    ...definedOf({
      max: options.pgPoolMax,
      idleTimeoutMs: options.pgIdleTimeoutMs,
      maxLifetimeSeconds: options.pgMaxLifetimeSeconds,
      connectionTimeoutMs: options.pgConnectTimeoutMs,
      statementTimeoutMs: options.pgStatementTimeoutMs,
    }),
    onError: (err) => logger?.warn({ err: err.message }, 'an idle PostgreSQL connection failed; the pool replaces it'),
  });
}
