import type { Logger } from 'pino';
import type { ServerOptions } from '../options';
import { isPostgresUrl, openPostgresStore } from './postgres/postgres-store';
import { assertSqliteWritable } from './sqlite/check-writable';
import { openSqliteStore } from './sqlite/sqlite-store';
import type { Store } from './types';

/**
 * The store the options name: PostgreSQL for a `postgres://` / `postgresql://` `databaseUrl`,
 * otherwise the SQLite file at `dbPath`. Any other `databaseUrl` is refused rather than
 * silently ignored (a typo must not turn a cluster into several private SQLite files).
 */
export async function openStore(options: Pick<ServerOptions, 'databaseUrl' | 'dbPath'>, logger?: Logger): Promise<Store> {
  const url = options.databaseUrl;
  if (url === undefined || url === '') {
    assertSqliteWritable(options.dbPath);
    return openSqliteStore(options.dbPath);
  }
  if (!isPostgresUrl(url)) {
    const scheme = url.split(':')[0];
    throw new Error(
      `SWITCHYARD_DATABASE_URL must be a postgres:// or postgresql:// URL (got '${scheme}:…'); use SWITCHYARD_DB for a SQLite file`,
    );
  }
  return openPostgresStore(url, {
    onError: (err) => logger?.warn({ err: err.message }, 'an idle PostgreSQL connection failed; the pool replaces it'),
  });
}
