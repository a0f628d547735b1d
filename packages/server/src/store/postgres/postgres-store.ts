import type pg from 'pg';
import { loadOptional } from '../../optional-dependency';
import type { ConfigPatch } from '@switchyard/core';
import { PG_MIGRATIONS } from './migrations';
import type { AuditFilter, AuditRow, Page, ResourceFilter, ResourceKind, CommitResult, ResourceRow, Store, UnitOfWork } from '../types';
import { auditsOf, lastAdminError } from '../types';
import { writeRow } from './write-row';
import { json, ns, num, page, toApiKey, toAudit, toResource, toUser, type Row } from '../rows';
import { postgresCovariates } from './covariates';
import { readDailySeries } from '../daily-series-sql';
import { rebuildSummariesPostgres } from './rebuild-summaries';
import { postgresOutbox, postgresWebhookReads, postgresWebhookWrite } from './webhooks';
import { asUnavailable, isPostgresUnavailable, uniqueViolationError } from '../store-errors';
import { postgresEventWrites } from './events';
import { postgresSummaryReads } from './summaries';
import { CONFIG_LOCK, INGEST_LOCK, LOCK_SPACE, MIGRATION_LOCK, USERS_LOCK } from './locks';

type Queryable = Pick<pg.PoolClient, 'query'>;

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

/** Events one retention statement deletes (see deleteEventsBefore). */
const RETENTION_CHUNK = 10_000;

/** How much longer than the server's statement timeout the client waits before it gives up itself. */
const CLIENT_TIMEOUT_MARGIN_MS = 2000;

/** `true` for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(url: string | undefined): boolean {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/** `true` when the store is a {@link PostgresStore}. */
export function isPostgresStore(store: Store): store is PostgresStore {
  return store.kind === 'postgres' && typeof (store as Partial<PostgresStore>).withLock === 'function';
}

/**
 * Unique violations (SQLSTATE 23505) become the typed error SQLite's store raises too, worded as
 * SQLite words them, so callers answer both stores' duplicates alike (`isUniqueViolation`).
 */
function translate(e: unknown): unknown {
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
async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
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

/** Deadlock or serialization failure: the transaction can simply run again. */
const retryable = (e: unknown): boolean => {
  const code = (e as { code?: string } | null)?.code;
  return code === '40P01' || code === '40001';
};

/** BIGINT and NUMERIC as JS numbers (seqs, versions, epoch ms and counts all fit in 2^53). */
function typesOf(driver: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) => {
      if (oid === 20 || oid === 1700) return (v: string) => Number(v);
      return (driver.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}

/**
 * The multi-instance store: PostgreSQL through a `pg.Pool`, migrations applied at open under
 * an advisory lock, the same rows and semantics as the SQLite store.
 *
 * - `commit()` is one transaction. When it carries a config patch it first takes a
 *   transaction-level advisory lock, so config versions (an identity column, one sequence for
 *   every instance) commit in the order they are assigned: a reader never sees version N+1
 *   before N. A rolled-back commit can leave a gap; {@link ConfigState.apply} reloads on gaps.
 * - `insertEventBatches()`: see {@link postgresEventWrites} (events.ts).
 * - `allResources()` and `configVersion()` calls issued in the same tick (as
 *   `ConfigState.load()` does) share one REPEATABLE READ snapshot, so a reload never pairs a
 *   version with resources from before or after it.
 *
 * @example
 * ```ts
 * const store = await openPostgresStore('postgres://switchyard@db:5432/switchyard');
 * ```
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  // Loaded here, not at import: SQLite-only installs do not need the optional 'pg' package.
  const { default: driver } = await loadOptional('pg', 'a postgres:// SWITCHYARD_DATABASE_URL', () => import('pg'));
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
  try {
    // On a connection of its own without the timeouts: a migration of a large table may run long.
    const migrator = new driver.Client({
      connectionString: url,
      connectionTimeoutMillis: sizing.connectionTimeoutMs,
      types: typesOf(driver),
    });
    await migrator.connect().catch((e: unknown) => {
      throw translate(e);
    });
    try {
      await migrate(migrator);
    } finally {
      await migrator.end().catch(() => {});
    }
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

  /** Runs `fn` in a transaction on one connection; retried on deadlock / serialization failure. */
  const tx = async <T>(fn: (c: Queryable) => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const client = await checkout(pool);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        if (isPostgresUnavailable(e)) {
          // A timed-out or dropped connection cannot roll back (the server does when it notices): discard it.
          broken = e as Error;
          throw translate(e);
        }
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
        if (attempt < 4 && retryable(e)) continue;
        throw translate(e);
      } finally {
        client.release(broken);
      }
    }
  };

  const { insertEventBatches } = postgresEventWrites(tx);

  // Reads issued in the same tick share one REPEATABLE READ transaction (see above).
  let snapshot: { client: Promise<pg.PoolClient>; pending: Promise<unknown>[]; tail: Promise<unknown> } | null = null;
  const snapshotQuery = (sql: string, params: unknown[]): Promise<Row[]> => {
    let s = snapshot;
    if (s === null) {
      const client = (async () => {
        const c = await checkout(pool);
        try {
          await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        } catch (e) {
          c.release(e as Error);
          throw translate(e);
        }
        return c;
      })();
      const created = { client, pending: [] as Promise<unknown>[], tail: client as Promise<unknown> };
      s = created;
      snapshot = created;
      setImmediate(() => {
        snapshot = null;
        void Promise.allSettled(created.pending).then(async () => {
          let c: pg.PoolClient;
          try {
            c = await created.client;
          } catch {
            return;
          }
          try {
            await c.query('COMMIT');
            c.release();
          } catch (e) {
            c.release(e as Error);
          }
        });
      });
    }
    // One query at a time on the connection: each waits for the previous one.
    const client = s.client;
    const result = s.tail
      .then(() => client)
      .then((c) => c.query(sql, params))
      .then(
        (r) => r.rows as Row[],
        (e: unknown) => {
          throw translate(e);
        },
      );
    const settled = result.catch(() => {});
    s.tail = settled;
    s.pending.push(settled);
    return result;
  };

  const commit = (work: UnitOfWork): Promise<CommitResult> =>
    tx(async (c) => {
      const patches = Object.entries(work.configPatches ?? {});
      // Taken first, before any row lock, so it cannot deadlock with the rows it protects.
      if (patches.length > 0) await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, CONFIG_LOCK]);
      // Serializes the units that must leave an ADMIN: two demotions at once would otherwise
      // each count the other's ADMIN, not yet committed, and both pass.
      if (work.keepAnAdmin === true) await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, USERS_LOCK]);
      for (const w of work.writes) {
        if (w.table === 'resources' || w.table === 'users' || w.table === 'api_keys') await writeRow(c, w);
        else await postgresWebhookWrite(c, w);
      }
      await postgresOutbox(c, work.webhookEvents ?? []);
      if (work.keepAnAdmin === true) {
        const { rows } = await c.query(`SELECT COUNT(*) AS n FROM users WHERE role = 'ADMIN'`);
        if (num((rows[0] as Row).n) < 1) throw lastAdminError();
      }
      // Each environment's next version; the lock above serializes every commit that logs one.
      const versions: Record<string, number> = {};
      const now = new Date().toISOString();
      for (const [environment, patch] of patches) {
        const { rows } = await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM config_log WHERE environment = $1', [environment]);
        const version = num((rows[0] as Row).v) + 1;
        await c.query('INSERT INTO config_log (environment, version, patch, created_at) VALUES ($1, $2, $3, $4)', [
          environment,
          version,
          JSON.stringify({ ...patch, version }),
          now,
        ]);
        versions[environment] = version;
      }
      for (const a of auditsOf(work)) {
        await c.query(
          `INSERT INTO audit_log (at, actor_type, actor_id, actor_label, action, resource_type, resource_id, resource_key, before, after,
          request_id, ip, user_agent, environment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
          [
            a.at,
            a.actorType,
            a.actorId,
            a.actorLabel,
            a.action,
            a.resourceType,
            a.resourceId,
            a.resourceKey,
            json(a.before),
            json(a.after),
            a.requestId,
            a.ip,
            a.userAgent,
            a.environment ?? null,
          ],
        );
      }
      return { versions };
    });

  const listResources = async (kind: ResourceKind, f: ResourceFilter): Promise<Page<ResourceRow>> => {
    const args: unknown[] = [kind, f.after ?? 0];
    const where = ['kind = $1', 'seq > $2'];
    if (f.environment !== undefined) {
      args.push(f.environment);
      where.push(`environment = $${args.length}`);
    }
    if (f.flagEnabled !== undefined) {
      // A flag without state in the environment has its defaults there: disabled.
      args.push(f.flagEnabled.environment, f.flagEnabled.enabled);
      where.push(`COALESCE((data::json -> 'environments' -> $${args.length - 1} ->> 'enabled')::boolean, false) = $${args.length}`);
    }
    if (f.status !== undefined) {
      args.push(f.status);
      where.push(`status = $${args.length}`);
    }
    if (f.ownerId !== undefined) {
      args.push(f.ownerId);
      where.push(`owner_id = $${args.length}`);
    }
    if (f.q !== undefined && f.q !== '') {
      args.push(f.q);
      const p = `$${args.length}`;
      where.push(`(strpos(lower(key), lower(${p})) > 0 OR strpos(lower(COALESCE(data::json->>'name', '')), lower(${p})) > 0)`);
    }
    args.push(f.limit + 1);
    const rows = await q(`SELECT * FROM resources WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${args.length}`, args);
    return page(rows.map(toResource), f.limit);
  };

  const listAudit = async (f: AuditFilter): Promise<Page<AuditRow>> => {
    // Newest first: the cursor walks backwards through the sequence.
    const args: unknown[] = [f.after ?? Number.MAX_SAFE_INTEGER];
    const where = ['seq < $1'];
    if (f.environment !== undefined) {
      args.push(f.environment);
      where.push(`environment = $${args.length}`);
    }
    if (f.actorId !== undefined) {
      args.push(f.actorId);
      where.push(`actor_id = $${args.length}`);
    }
    if (f.action !== undefined) {
      args.push(f.action);
      where.push(`action = $${args.length}`);
    }
    if (f.resourceType !== undefined) {
      args.push(f.resourceType);
      where.push(`resource_type = $${args.length}`);
    }
    if (f.resourceId !== undefined) {
      args.push(f.resourceId);
      where.push(`(resource_id = $${args.length} OR resource_key = $${args.length})`);
    }
    args.push(f.limit + 1);
    const rows = await q(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $${args.length}`, args);
    return page(rows.map(toAudit), f.limit);
  };

  const { summaryOf, experimentAggregates } = postgresSummaryReads(q);

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
    close: () => (closed ??= pool.end()),
    poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: sizing.max }),
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
        ? one('SELECT * FROM resources WHERE kind = $1 AND environment = $2 AND key = $3', [kind, environment, idOrKey], toResource)
        : one('SELECT * FROM resources WHERE kind = $1 AND key = $2 ORDER BY seq LIMIT 1', [kind, idOrKey], toResource);
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
    insertEventBatches,
    countEvents: async () => num((await q('SELECT COUNT(*) AS n FROM events'))[0]!.n),
    // Summaries are updated in the ingesting transaction: nothing is ever behind.
    aggregatorBacklog: async () => 0,
    deleteEventsBefore: async (ms) => {
      // In chunks, each its own short transaction (by the timestamp index): deleting 90 days of
      // events never holds locks or one huge transaction for long, and ingestion goes on between.
      let deleted = 0;
      for (;;) {
        try {
          const n =
            (
              await pool.query('DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT ctid FROM events WHERE timestamp < $1 LIMIT $2))', [
                ms,
                RETENTION_CHUNK,
              ])
            ).rowCount ?? 0;
          deleted += n;
          if (n < RETENTION_CHUNK) return deleted;
        } catch (e) {
          throw translate(e);
        }
      }
    },
    experimentAggregates,
    rebuildExperimentSummaries: (environment, key, maxValue) =>
      tx((c) => rebuildSummariesPostgres(c, [LOCK_SPACE, INGEST_LOCK], environment, key, maxValue)),
    ...postgresWebhookReads(q),
    experimentCovariates: async (environment, experiment, metrics) =>
      postgresCovariates(q, environment, await summaryOf(environment, experiment), metrics),
    experimentDailySeries: (environment, experiment, window, metricKeys) =>
      readDailySeries((sql, values) => q(sql, values), environment, experiment, window, metricKeys),
  };
}

/** Applies pending migrations, one transaction each, under a session advisory lock. */
async function migrate(client: pg.Client): Promise<void> {
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_SPACE, MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const applied = new Set((await client.query('SELECT id FROM schema_migrations')).rows.map((r: Row) => num(r.id)));
      for (const m of PG_MIGRATIONS) {
        if (applied.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await m.up?.(client);
          await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
            m.id,
            m.name,
            new Date().toISOString(),
          ]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${m.id} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
        }
      }
    } finally {
      // The caller closes the connection, which releases the lock if this fails.
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, MIGRATION_LOCK]).catch(() => {});
    }
  } catch (e) {
    throw translate(e);
  }
}

/** The fields of `options` that are set (so a spread over defaults does not put `undefined` back). */
function definedOf(options: PostgresPoolOptions): PostgresPoolOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
