import type pg from 'pg';
import { loadOptional } from '../../optional-dependency';
import type { ConfigPatch } from '@switchyard/core';
import type { Store } from '../types';
import { ns, num, page, toApiKey, toResource, toUser, type Row } from '../rows';
import { postgresCovariates } from './covariates';
import { readDailySeries } from '../daily-series-sql';
import { rebuildSummariesPostgres } from './rebuild-summaries';
import { postgresWebhookReads } from './webhooks';
import { postgresEventWrites } from './events';
import { postgresSummaryReads } from './summaries';
import { AGGREGATOR_LOCK, LOCK_SPACE } from './locks';
import { postgresAggregator } from './aggregator';
import { checkout, openPool, translate, type PostgresStoreOptions } from './connection';
import { autocommitRunner, transactionRunner } from './transaction';
import { snapshotReader } from './snapshot-reads';
import { postgresCommit } from './commit';
import { postgresListings } from './listings';
import { migrateDatabase } from './migrate';
import { retentionPass } from '../retention-pass';

/** A {@link Store} on PostgreSQL, plus what several instances sharing it need. */
export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  /**
   * Runs `fn` while holding a session-level advisory lock named `name` (waiting for it), so a
   * check-then-act across instances (first-start set-up, the JWT secret) happens once.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Connections of the pool now: open in total, idle, and requests waiting for one. */
  poolUse(): { total: number; idle: number; waiting: number; max: number };
}

/** `true` for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(url: string | undefined): boolean {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/** `true` when the store is a {@link PostgresStore}. */
export function isPostgresStore(store: Store): store is PostgresStore {
  return store.kind === 'postgres' && typeof (store as Partial<PostgresStore>).withLock === 'function';
}

/**
 * The multi-instance store: PostgreSQL through a `pg.Pool` (connection.ts), migrations applied
 * at open under an advisory lock (migrate.ts), the same rows and semantics as the SQLite store.
 *
 * - `commit()`: see {@link postgresCommit} (commit.ts).
 * - `insertEventBatches()`: see {@link postgresEventWrites} (events.ts); the results' summaries
 *   follow behind ingestion (see {@link postgresAggregator}, aggregator.ts), and every read of
 *   them first waits until they count every event committed before it.
 * - `allResources()` and `configVersion()` calls issued in the same tick share one snapshot
 *   (see {@link snapshotReader}, snapshot-reads.ts).
 *
 * @example
 * ```ts
 * const store = await openPostgresStore('postgres://switchyard@db:5432/switchyard');
 * ```
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  // Loaded here, not at import: SQLite-only installs do not need the optional 'pg' package.
  const { default: driver } = await loadOptional('pg', 'a postgres:// SWITCHYARD_DATABASE_URL', () => import('pg'));
  const { pool, sizing } = openPool(driver, url, options);
  try {
    await migrateDatabase(driver, url, sizing);
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }

  const q = async (sql: string, params: unknown[] = []): Promise<Row[]> => {
    try {
      return (await pool.query(sql, params)).rows as Row[];
    } catch (e) {
      throw translate(e);
    }
  };
  const one = async <T>(sql: string, params: unknown[], map: (r: Row) => T): Promise<T | null> => {
    const rows = await q(sql, params);
    return rows[0] === undefined ? null : map(rows[0]);
  };

  const tx = transactionRunner(pool);
  const events = postgresEventWrites(tx, autocommitRunner(pool));
  const snapshotQuery = snapshotReader(pool);
  const commit = postgresCommit(tx);
  const { listResources, listAudit } = postgresListings(q);

  const { summaryOf, experimentAggregates } = postgresSummaryReads(q);
  const aggregator = postgresAggregator(tx, q, options.onError === undefined ? {} : { onError: options.onError });

  let closed: Promise<void> | null = null;
  return {
    kind: 'postgres',
    ping: async () => {
      try {
        // Bounded on its own: a readiness probe must not hold a connection for a whole statement timeout.
        // (`query_timeout` per query is supported by node-postgres but missing from its types.)
        const { rows } = await pool.query({ text: 'SELECT 1 AS ok', query_timeout: 1000 } as pg.QueryConfig);
        return num((rows[0] as Row).ok) === 1;
      } catch {
        return false;
      }
    },
    close: () => (closed ??= aggregator.close().then(() => pool.end())),
    poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: sizing.max }),
    // Event transactions share no lock (the summaries follow behind), so several overlap; half the
    // pool at most, so management requests, the aggregator and the job lease always find a connection.
    eventTransactions: Math.max(1, Math.min(4, Math.floor(sizing.max / 2))),
    async withLock(name, fn) {
      const client = await checkout(pool);
      let broken: Error | undefined;
      try {
        await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_SPACE, name]);
        try {
          return await fn();
        } finally {
          try {
            await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_SPACE, name]);
          } catch (e) {
            broken = e as Error;
          }
        }
      } finally {
        // A connection whose unlock failed is discarded: closing it releases the lock.
        client.release(broken);
      }
    },
    commit,
    getResource: async (kind, idOrKey, environment) => {
      const r = await one('SELECT * FROM resources WHERE kind = $1 AND id = $2', [kind, idOrKey], toResource);
      if (r !== null) return environment === undefined || kind !== 'experiment' || r.environment === environment ? r : null;
      return environment !== undefined && kind === 'experiment'
        ? // Through the key indexes (`ns` is a function of `kind`), not a scan of every row of the kind.
          one(
            'SELECT * FROM resources WHERE ns = $1 AND kind = $2 AND environment = $3 AND key = $4',
            [ns(kind), kind, environment, idOrKey],
            toResource,
          )
        : one(
            'SELECT * FROM resources WHERE ns = $1 AND kind = $2 AND key = $3 ORDER BY seq LIMIT 1',
            [ns(kind), kind, idOrKey],
            toResource,
          );
    },
    findByKey: async (kinds, key, environment) => {
      for (const k of new Set(kinds.map(ns))) {
        const r =
          environment === undefined
            ? await one('SELECT * FROM resources WHERE ns = $1 AND key = $2 ORDER BY seq LIMIT 1', [k, key], toResource)
            : await one(
                "SELECT * FROM resources WHERE ns = $1 AND key = $2 AND (kind <> 'experiment' OR environment = $3) LIMIT 1",
                [k, key, environment],
                toResource,
              );
        if (r !== null && kinds.includes(r.kind)) return r;
      }
      return null;
    },
    listResources,
    allResources: async (kind, environment) =>
      (environment === undefined
        ? await snapshotQuery('SELECT * FROM resources WHERE kind = $1 ORDER BY seq', [kind])
        : await snapshotQuery('SELECT * FROM resources WHERE kind = $1 AND environment = $2 ORDER BY seq', [kind, environment])
      ).map(toResource),
    configVersion: async (environment) =>
      num((await snapshotQuery('SELECT COALESCE(MAX(version), 0) AS v FROM config_log WHERE environment = $1', [environment]))[0]!.v),
    configVersions: async () =>
      Object.fromEntries(
        (await q('SELECT environment, MAX(version) AS v FROM config_log GROUP BY environment')).map((r) => [r.environment, num(r.v)]),
      ),
    configLogSince: async (environment, version, limit) =>
      (
        await q('SELECT version, patch FROM config_log WHERE environment = $1 AND version > $2 ORDER BY version LIMIT $3', [
          environment,
          version,
          limit,
        ])
      ).map((r) => ({
        version: num(r.version),
        patch: JSON.parse(r.patch as string) as ConfigPatch,
      })),
    getUser: (id) => one('SELECT * FROM users WHERE id = $1', [id], toUser),
    getUserByEmail: (email) => one('SELECT * FROM users WHERE lower(email) = lower($1)', [email], toUser),
    listUsers: async (after, limit) =>
      page((await q('SELECT * FROM users WHERE seq > $1 ORDER BY seq LIMIT $2', [after ?? 0, limit + 1])).map(toUser), limit),
    countUsers: async () => num((await q('SELECT COUNT(*) AS n FROM users'))[0]!.n),
    getApiKey: (id) => one('SELECT * FROM api_keys WHERE id = $1', [id], toApiKey),
    getApiKeyByHash: (hash) => one('SELECT * FROM api_keys WHERE hash = $1', [hash], toApiKey),
    listApiKeys: async (createdBy, after, limit) => {
      const rows =
        createdBy === undefined
          ? await q('SELECT * FROM api_keys WHERE seq > $1 ORDER BY seq LIMIT $2', [after ?? 0, limit + 1])
          : await q('SELECT * FROM api_keys WHERE created_by = $1 AND seq > $2 ORDER BY seq LIMIT $3', [createdBy, after ?? 0, limit + 1]);
      return page(rows.map(toApiKey), limit);
    },
    countApiKeys: async () => num((await q('SELECT COUNT(*) AS n FROM api_keys'))[0]!.n),
    touchApiKey: async (id, at) => {
      await q('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [at, id]);
    },
    listAudit,
    getSetting: async (key) => ((await q('SELECT value FROM settings WHERE key = $1', [key]))[0]?.value as string | undefined) ?? null,
    setSetting: async (key, value) => {
      await q('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [key, value]);
    },
    insertEventBatches: async (batches) => {
      const results = await events.insertEventBatches(batches);
      aggregator.kick();
      return results;
    },
    countEvents: async () => num((await q('SELECT COUNT(*) AS n FROM events'))[0]!.n),
    aggregatorBacklog: () => aggregator.backlog(),
    deleteEventsBefore: async (ms, pass) => {
      // Only events the summaries count already (they keep counting them): first bring the
      // summaries up to every event stored so far, then delete what the aggregator's cursor has passed.
      await aggregator.drain();
      // Each chunk its own short statement (by the timestamp index): deleting 90 days of events
      // never holds locks or one huge transaction for long, and ingestion goes on between.
      return retentionPass(async (chunk) => {
        try {
          const r = await pool.query(
            `DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT ctid FROM events
              WHERE timestamp < $1 AND xid < (SELECT xid FROM event_aggregation WHERE id = 1)
                AND xid <> ALL((SELECT xip FROM event_aggregation WHERE id = 1)::xid8[]) LIMIT $2))`,
            [ms, chunk],
          );
          const deleted = r.rowCount ?? 0;
          return { deleted, done: deleted < chunk };
        } catch (e) {
          throw translate(e);
        }
      }, pass);
    },
    experimentAggregates: async (environment, experiment, metrics) => {
      await aggregator.drain();
      return experimentAggregates(environment, experiment, metrics);
    },
    rebuildExperimentSummaries: async (environment, key, maxValue) => {
      await aggregator.drain();
      return tx((c) => rebuildSummariesPostgres(c, [LOCK_SPACE, AGGREGATOR_LOCK], environment, key, maxValue));
    },
    ...postgresWebhookReads(q),
    experimentCovariates: async (environment, experiment, metrics) => {
      await aggregator.drain();
      return postgresCovariates(q, environment, await summaryOf(environment, experiment), metrics);
    },
    experimentDailySeries: (environment, experiment, window, metricKeys) =>
      readDailySeries((sql, values) => q(sql, values), environment, experiment, window, metricKeys),
  };
}
