import type pg from 'pg';
import { definedOf } from '../defined-of';
import { asUnavailable, isPostgresUnavailable, uniqueViolationError } from '../store-errors';

/** The pool's sizing and timeouts (see docs/scaling.md); every field has a default. */
export interface PostgresPoolOptions {
  /** Pool size (default 10). */
  max?: number;
  /** An idle connection is closed after this long (default 10,000 ms). */
  idleTimeoutMs?: number;
  /** A connection is replaced after this many seconds of life, 0 = never (default 3,600). */
  maxLifetimeSeconds?: number;
  /** Giving up on opening a connection, or waiting for a free one, after this long (default 5,000 ms). */
  connectionTimeoutMs?: number;
  /**
   * The server cancels a statement running longer (default 30,000 ms); the client gives up
   * 2 s after that on its own, for a database that does not answer at all (frozen, partitioned).
   */
  statementTimeoutMs?: number;
}

export interface PostgresStoreOptions extends PostgresPoolOptions {
  /** Errors of idle pooled connections (a restarted database); they are otherwise harmless. */
  onError?: (err: Error) => void;
}

/** Defaults of {@link PostgresPoolOptions}. */
export const PG_POOL_DEFAULTS = {
  max: 10,
  idleTimeoutMs: 10_000,
  maxLifetimeSeconds: 3600,
  connectionTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
} as const satisfies Required<PostgresPoolOptions>;

/** How much longer than the server's statement timeout the client waits before it gives up itself. */
const CLIENT_TIMEOUT_MARGIN_MS = 2000;

/**
 * Unique violations (SQLSTATE 23505) become the typed error SQLite's store raises too, worded as
 * SQLite words them, so callers answer both stores' duplicates alike (`isUniqueViolation`).
 */
export function translate(e: unknown): unknown {
  if (isPostgresUnavailable(e)) return asUnavailable(e);
  const pe = e as { code?: string; table?: string; constraint?: string; message?: string };
  if (pe !== null && typeof pe === 'object' && pe.code === '23505')
    return uniqueViolationError(`UNIQUE constraint failed: ${pe.table ?? '?'} (${pe.constraint ?? '?'})`, e);
  return e;
}

/**
 * A pooled connection that cannot crash the process when the server drops it while it is
 * checked out (pg emits 'error' on such a client and the pool only listens while it is idle);
 * a connection that failed this way is discarded on release.
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw translate(e);
  }
  let failed: Error | undefined;
  const onError = (err: Error) => {
    failed = err;
  };
  client.on('error', onError);
  const release = client.release.bind(client);
  client.release = (err?: Error | boolean) => {
    client.off('error', onError);
    release(err ?? failed);
  };
  return client;
}

/** BIGINT and NUMERIC as JS numbers (seqs, versions, epoch ms and counts all fit in 2^53). */
export function typesOf(driver: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) => {
      if (oid === 20 || oid === 1700) return (v: string) => Number(v);
      return (driver.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/**
 * The store's pool: sized and timed out as `options` say (defaults {@link PG_POOL_DEFAULTS}),
 * BIGINT and NUMERIC read as numbers.
 *
 * @example
 * ```ts
 * const { pool, sizing } = openPool(driver, 'postgres://switchyard@db:5432/switchyard', { max: 20 });
 * ```
 */
export function openPool(
  driver: typeof pg,
  url: string,
  options: PostgresStoreOptions,
): { pool: pg.Pool; sizing: Required<PostgresPoolOptions> } {
  const sizing = { ...PG_POOL_DEFAULTS, ...definedOf(options) };
  const pool = new driver.Pool({
    connectionString: url,
    max: sizing.max,
    idleTimeoutMillis: sizing.idleTimeoutMs,
    maxLifetimeSeconds: sizing.maxLifetimeSeconds,
    connectionTimeoutMillis: sizing.connectionTimeoutMs,
    statement_timeout: sizing.statementTimeoutMs,
    query_timeout: sizing.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
    keepAlive: true,
    types: typesOf(driver),
  });
  pool.on('error', (err) => options.onError?.(err));
  return { pool, sizing };
}
