import type pg from 'pg';
import { loadOptional } from '../../optional-dependency';
import type { ConfigPatch } from '@switchyard/core';
import { PG_MIGRATIONS } from './migrations';
import type {
  AuditFilter,
  AuditRow,
  ExperimentAggregates,
  Page,
  ResourceFilter,
  ResourceKind,
  CommitResult,
  ResourceRow,
  Store,
  StoredEvent,
  UnitOfWork,
} from '../types';
import { auditsOf, lastAdminError } from '../types';
import { writeRow } from './write-row';
import { json, ns, num, page, scoped, toApiKey, toAudit, toResource, toUser, type Row } from '../rows';
import { postgresCovariates } from './covariates';
import { readDailySeries } from '../daily-series-sql';
import { rebuildSummariesPostgres } from './rebuild-summaries';
import { postgresOutbox, postgresWebhookReads, postgresWebhookWrite } from './webhooks';
import { classifyExposure, experimentRun, noExclusions, readExclusions, summaryKey, type ExperimentRun } from '../run-attribution';
import { asUnavailable, isPostgresUnavailable } from '../store-errors';

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

/** How much longer than the server's statement timeout the client waits before it gives up itself. */
const CLIENT_TIMEOUT_MARGIN_MS = 2000;

/** Advisory lock keys (first int of the two-int form: "switchyard"). */
const LOCK_SPACE = 0x5377_7964;
const MIGRATION_LOCK = 1;
/** Held by every commit that writes a config version, until it commits. */
const CONFIG_LOCK = 2;
/** Held by every event transaction that stores new events, from its summary upkeep until it commits. */
const INGEST_LOCK = 3;
/** Held by a commit that must leave an ADMIN (demotions and deletions of users), until it commits. */
const USERS_LOCK = 4;
/** 12 columns per event row: 1,000 rows keep a statement at 12,000 parameters (limit 65,535). */
const EVENT_CHUNK = 1000;
const UNIT_CHUNK = 1000;

/** `true` for a `postgres://` or `postgresql://` URL. */
export function isPostgresUrl(url: string | undefined): boolean {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/** `true` when the store is a {@link PostgresStore}. */
export function isPostgresStore(store: Store): store is PostgresStore {
  return store.kind === 'postgres' && typeof (store as Partial<PostgresStore>).withLock === 'function';
}

/** `($1, $2, ...), (...)` for `rows` rows of `cols` parameters. */
function placeholders(rows: number, cols: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const p: string[] = [];
    for (let c = 1; c <= cols; c++) p.push(`$${r * cols + c}`);
    out.push(`(${p.join(', ')})`);
  }
  return out.join(', ');
}

/**
 * Unique violations surface with the word UNIQUE, as SQLite reports them, so callers that map
 * them to 409 (`message.includes('UNIQUE')`) behave the same on both stores.
 */
function translate(e: unknown): unknown {
  if (isPostgresUnavailable(e)) return asUnavailable(e);
  const pe = e as { code?: string; table?: string; constraint?: string; message?: string };
  if (pe !== null && typeof pe === 'object' && pe.code === '23505') {
    const err = new Error(`UNIQUE constraint failed: ${pe.table ?? '?'} (${pe.constraint ?? '?'})`, { cause: e });
    (err as Error & { code: string }).code = '23505';
    return err;
  }
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
 * - `insertEventBatches()` is one transaction per group: multi-row
 *   `INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id`, chunked under the parameter limit,
 *   then the summaries for the events that were new (`unit_metrics` for the tracks, then
 *   `experiment_units`, `experiment_unit_counts` and `unit_metrics` for the exposures), a few
 *   set-based statements.
 *   The summary upkeep runs under a transaction-level advisory lock held until commit: a
 *   track and a new exposure of the same unit in two concurrent transactions would each miss
 *   the other's uncommitted row (READ COMMITTED) and the track would never count. The event
 *   INSERTs, the bulk of the work, still run concurrently.
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

  const insertEventBatches = (batches: StoredEvent[][]): Promise<{ accepted: number; duplicates: number }[]> =>
    tx(async (c) => {
      const results: { accepted: number; duplicates: number }[] = [];
      // New events in arrival order: tracks and exposures move the summaries below.
      const tracks: StoredEvent[] = [];
      const exposures: StoredEvent[] = [];
      for (const batch of batches) {
        // Repeats inside a batch count as duplicates, as in SQLite (the first occurrence wins).
        const seen = new Map<string, StoredEvent>();
        for (const e of batch) if (!seen.has(e.id)) seen.set(e.id, e);
        // A stable order of ids keeps two instances inserting overlapping batches from deadlocking.
        const unique = [...seen.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const inserted = new Set<string>();
        for (let i = 0; i < unique.length; i += EVENT_CHUNK) {
          const chunk = unique.slice(i, i + EVENT_CHUNK);
          const params: unknown[] = [];
          for (const e of chunk) {
            params.push(
              e.id,
              e.type,
              e.key,
              e.unitId,
              e.experiment,
              e.variant,
              e.value,
              e.properties === null ? null : JSON.stringify(e.properties),
              e.timestamp,
              e.receivedAt,
              e.environment,
              e.sentBy ?? null,
            );
          }
          const { rows } = await c.query(
            `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment, sent_by)
            VALUES ${placeholders(chunk.length, 12)} ON CONFLICT (id) DO NOTHING RETURNING id`,
            params,
          );
          for (const r of rows as Row[]) inserted.add(r.id as string);
        }
        // Only a new event moves the summaries; a resent one must not.
        for (const e of seen.values()) {
          if (!inserted.has(e.id)) continue;
          if (e.type === 'track') tracks.push(e);
          else if (e.type === 'exposure' && e.experiment !== null && e.variant !== null) exposures.push(e);
        }
        results.push({ accepted: inserted.size, duplicates: batch.length - inserted.size });
      }
      if (tracks.length > 0 || exposures.length > 0) {
        // Statements after the lock see every summary committed before it (READ COMMITTED).
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, INGEST_LOCK]);
        // Tracks first, against the exposures stored before this group; the exposures then
        // take in every stored track (this group's included) from their first exposure on.
        await addTracks(c, tracks);
        await applyExposures(c, exposures);
      }
      return results;
    });

  /** Each new track adds its value (1 without one) to its unit's row of every experiment it was exposed in by then. */
  const addTracks = async (c: Queryable, tracks: StoredEvent[]): Promise<void> => {
    if (tracks.length === 0) return;
    // GROUP BY: one INSERT ... ON CONFLICT DO UPDATE may not touch a row twice.
    await c.query(
      `INSERT INTO unit_metrics AS m (experiment, metric, variant, unit_id, value)
      SELECT a.experiment, t.key, a.variant, a.unit_id, SUM(t.value)
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[]) AS t(key, unit_id, ts, value)
      JOIN experiment_units a ON a.unit_id = t.unit_id AND a.conflicted = 0 AND a.first_ts <= t.ts
      GROUP BY a.experiment, t.key, a.variant, a.unit_id
      ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = m.value + EXCLUDED.value`,
      [
        tracks.map((e) => e.key),
        tracks.map((e) => scoped(e.environment, e.unitId)),
        tracks.map((e) => e.timestamp),
        tracks.map((e) => e.value ?? 1),
      ],
    );
  };

  /**
   * Each exposure's run (the experiment of its key that exists now, see run-attribution.ts): the
   * exposures that count, with the name the summaries give their run; the others are added to
   * `experiment_exclusions` per run, reason and sender.
   */
  const attribute = async (c: Queryable, exposures: StoredEvent[]): Promise<{ event: StoredEvent; experiment: string }[]> => {
    const keys = new Map<string, { environment: string; key: string }>();
    for (const e of exposures) keys.set(scoped(e.environment, e.experiment!), { environment: e.environment, key: e.experiment! });
    const found = [...keys.values()];
    const { rows } = await c.query(
      `SELECT r.id, r.environment, r.key, r.data FROM unnest($1::text[], $2::text[]) AS k(environment, key)
      JOIN resources r ON r.kind = 'experiment' AND r.environment = k.environment AND r.key = k.key`,
      [found.map((k) => k.environment), found.map((k) => k.key)],
    );
    const runs = new Map<string, ExperimentRun>();
    for (const r of rows as Row[])
      runs.set(
        scoped(r.environment as string, r.key as string),
        experimentRun(r.id as string, JSON.parse(r.data as string) as Record<string, unknown>),
      );
    const counted: { event: StoredEvent; experiment: string }[] = [];
    const excluded = new Map<string, { experiment: string; reason: string; sentBy: string; events: number }>();
    for (const e of exposures) {
      const run = runs.get(scoped(e.environment, e.experiment!)) ?? null;
      const reason = run === null ? null : classifyExposure(run, e.variant!, e.timestamp, e.unitId);
      if (reason === null) {
        counted.push({ event: e, experiment: summaryKey(run, e.environment, e.experiment!) });
        continue;
      }
      const k = JSON.stringify([run!.id, reason, e.sentBy ?? '']);
      const x = excluded.get(k);
      if (x === undefined) excluded.set(k, { experiment: run!.id, reason, sentBy: e.sentBy ?? '', events: 1 });
      else x.events++;
    }
    if (excluded.size > 0) {
      // Sorted: concurrent transactions take the rows' locks in one order.
      const xs = [...excluded.values()].sort((a, b) =>
        a.experiment !== b.experiment
          ? a.experiment < b.experiment
            ? -1
            : 1
          : a.reason !== b.reason
            ? a.reason < b.reason
              ? -1
              : 1
            : a.sentBy < b.sentBy
              ? -1
              : a.sentBy > b.sentBy
                ? 1
                : 0,
      );
      await c.query(
        `INSERT INTO experiment_exclusions AS x (experiment, reason, sent_by, events)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
        ON CONFLICT (experiment, reason, sent_by) DO UPDATE SET events = x.events + EXCLUDED.events`,
        [xs.map((x) => x.experiment), xs.map((x) => x.reason), xs.map((x) => x.sentBy), xs.map((x) => x.events)],
      );
    }
    return counted;
  };

  /**
   * The same end state as SQLite's per-event upkeep. The group's exposures are folded per
   * (experiment, unit) (first variant, earliest time, conflicted on a second variant) and
   * compared with the unit's state before this group: a new unit is inserted and counted and
   * takes in its stored tracks from its first exposure on; an earlier first exposure takes in
   * the tracks between the new and the old time; a unit that turns conflicted moves to the
   * excluded count and loses its `unit_metrics` rows; anything else (a repeat) writes nothing.
   */
  const applyExposures = async (c: Queryable, all: StoredEvent[]): Promise<void> => {
    if (all.length === 0) return;
    const exposures = await attribute(c, all);
    // Experiments and units as the summaries name them (see scoped()); the raw unit and its
    // environment find the unit's stored tracks.
    const units = new Map<
      string,
      { experiment: string; unitId: string; raw: string; environment: string; variant: string; firstTs: number; conflicted: number }
    >();
    for (const { event: e, experiment } of exposures) {
      const unitId = scoped(e.environment, e.unitId);
      const k = JSON.stringify([experiment, unitId]);
      const u = units.get(k);
      if (u === undefined)
        units.set(k, {
          experiment,
          unitId,
          raw: e.unitId,
          environment: e.environment,
          variant: e.variant!,
          firstTs: e.timestamp,
          conflicted: 0,
        });
      else {
        if (u.variant !== e.variant) u.conflicted = 1;
        u.firstTs = Math.min(u.firstTs, e.timestamp);
      }
    }
    const rows = [...units.values()].sort((a, b) =>
      a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : a.unitId < b.unitId ? -1 : a.unitId > b.unitId ? 1 : 0,
    );
    const before = new Map<string, { variant: string; firstTs: number; conflicted: number }>();
    const { rows: old } = await c.query(
      `SELECT a.experiment, a.unit_id, a.variant, a.first_ts, a.conflicted
      FROM unnest($1::text[], $2::text[]) AS k(unit_id, experiment)
      JOIN experiment_units a ON a.unit_id = k.unit_id AND a.experiment = k.experiment`,
      [rows.map((u) => u.unitId), rows.map((u) => u.experiment)],
    );
    for (const r of old as Row[]) {
      before.set(JSON.stringify([r.experiment, r.unit_id]), {
        variant: r.variant as string,
        firstTs: num(r.first_ts),
        conflicted: num(r.conflicted),
      });
    }
    // Tracks of [lo, hi) to add per unit, per experiment the units whose rows go, and the unit count deltas.
    const ranges = {
      experiment: [] as string[],
      unitId: [] as string[],
      raw: [] as string[],
      environment: [] as string[],
      variant: [] as string[],
      lo: [] as number[],
      hi: [] as number[],
    };
    const addRange = (
      u: { experiment: string; unitId: string; raw: string; environment: string },
      variant: string,
      lo: number,
      hi: number,
    ) => {
      ranges.experiment.push(u.experiment);
      ranges.unitId.push(u.unitId);
      ranges.raw.push(u.raw);
      ranges.environment.push(u.environment);
      ranges.variant.push(variant);
      ranges.lo.push(lo);
      ranges.hi.push(hi);
    };
    const drops = new Map<string, { unitId: string[]; variant: string[] }>();
    const counts = new Map<string, { experiment: string; conflicted: number; variant: string; units: number }>();
    const count = (experiment: string, conflicted: number, variant: string, units: number) => {
      const k = JSON.stringify([experiment, conflicted, variant]);
      const c0 = counts.get(k);
      if (c0 === undefined) counts.set(k, { experiment, conflicted, variant, units });
      else c0.units += units;
    };
    // Rows that change, written after the decisions (a repeat exposure writes nothing).
    const changed: typeof rows = [];
    for (const u of rows) {
      const o = before.get(JSON.stringify([u.experiment, u.unitId]));
      if (o === undefined) {
        changed.push(u);
        count(u.experiment, u.conflicted, u.variant, 1);
        if (u.conflicted === 0) addRange(u, u.variant, u.firstTs, Number.MAX_SAFE_INTEGER);
        continue;
      }
      const conflicted = o.conflicted !== 0 || u.conflicted !== 0 || u.variant !== o.variant ? 1 : 0;
      if (conflicted === o.conflicted && u.firstTs >= o.firstTs) continue;
      changed.push({ ...u, variant: o.variant, conflicted, firstTs: Math.min(u.firstTs, o.firstTs) });
      if (o.conflicted !== 0) continue;
      if (conflicted !== 0) {
        count(u.experiment, 0, o.variant, -1);
        count(u.experiment, 1, o.variant, 1);
        const d = drops.get(u.experiment) ?? { unitId: [], variant: [] };
        d.unitId.push(u.unitId);
        d.variant.push(o.variant);
        drops.set(u.experiment, d);
      } else {
        addRange(u, o.variant, u.firstTs, o.firstTs);
      }
    }
    for (let i = 0; i < changed.length; i += UNIT_CHUNK) {
      const chunk = changed.slice(i, i + UNIT_CHUNK);
      const params: unknown[] = [];
      for (const u of chunk) params.push(u.experiment, u.unitId, u.variant, u.firstTs, u.conflicted);
      // The values are the unit's new state, computed above.
      await c.query(
        `INSERT INTO experiment_units AS a (experiment, unit_id, variant, first_ts, conflicted) VALUES ${placeholders(chunk.length, 5)}
        ON CONFLICT (unit_id, experiment) DO UPDATE SET conflicted = EXCLUDED.conflicted, first_ts = EXCLUDED.first_ts`,
        params,
      );
    }
    const deltas = [...counts.values()].filter((d) => d.units !== 0);
    if (deltas.length > 0) {
      deltas.sort((a, b) =>
        a.experiment < b.experiment
          ? -1
          : a.experiment > b.experiment
            ? 1
            : a.conflicted - b.conflicted || (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0),
      );
      await c.query(
        `INSERT INTO experiment_unit_counts AS n (experiment, conflicted, variant, units)
        SELECT * FROM unnest($1::text[], $2::smallint[], $3::text[], $4::bigint[])
        ON CONFLICT (experiment, conflicted, variant) DO UPDATE SET units = n.units + EXCLUDED.units`,
        [deltas.map((d) => d.experiment), deltas.map((d) => d.conflicted), deltas.map((d) => d.variant), deltas.map((d) => d.units)],
      );
    }
    if (ranges.unitId.length > 0) {
      await c.query(
        `INSERT INTO unit_metrics AS m (experiment, metric, variant, unit_id, value)
        SELECT r.experiment, e.key, r.variant, r.unit_id, SUM(COALESCE(e.value, 1))
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
          AS r(experiment, unit_id, variant, lo, hi, raw, environment)
        JOIN events e ON e.type = 'track' AND e.unit_id = r.raw AND e.environment = r.environment AND e.timestamp >= r.lo AND e.timestamp < r.hi
        GROUP BY r.experiment, e.key, r.variant, r.unit_id
        ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = m.value + EXCLUDED.value`,
        [ranges.experiment, ranges.unitId, ranges.variant, ranges.lo, ranges.hi, ranges.raw, ranges.environment],
      );
    }
    for (const [experiment, d] of drops) {
      // The experiment's metric keys by a loose index scan (one seek per key), then one delete per key and unit.
      await c.query(
        `WITH RECURSIVE k(metric) AS (
          (SELECT metric FROM unit_metrics WHERE experiment = $1 ORDER BY metric LIMIT 1)
          UNION ALL
          SELECT (SELECT n.metric FROM unit_metrics n WHERE n.experiment = $1 AND n.metric > k.metric ORDER BY n.metric LIMIT 1)
          FROM k WHERE k.metric IS NOT NULL)
        DELETE FROM unit_metrics m USING k, unnest($2::text[], $3::text[]) AS d(unit_id, variant)
        WHERE m.experiment = $1 AND m.metric = k.metric AND m.variant = d.variant AND m.unit_id = d.unit_id`,
        [experiment, d.unitId, d.variant],
      );
    }
  };

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

  /** The summaries' name of the experiment of this key that exists now (see run-attribution.ts). */
  const summaryOf = async (environment: string, key: string): Promise<string> => {
    const rows = await q("SELECT id FROM resources WHERE kind = 'experiment' AND environment = $1 AND key = $2", [environment, key]);
    return rows.length === 0 ? scoped(environment, key) : (rows[0]!.id as string);
  };

  const experimentAggregates = async (
    environment: string,
    key: string,
    metrics: readonly { key: string; type: 'conversion' | 'mean' }[],
  ): Promise<ExperimentAggregates> => {
    const experiment = await summaryOf(environment, key);
    const [units, sums, exclusions] = await Promise.all([
      q('SELECT conflicted, variant, units FROM experiment_unit_counts WHERE experiment = $1 AND units > 0', [experiment]),
      metrics.length === 0
        ? Promise.resolve([] as Row[])
        : q(
            // A square that would overflow is Infinity, not an error: results then report the metric
            // as not computable (as on SQLite) instead of failing.
            `SELECT metric, variant, COUNT(*) AS k, SUM(value) AS sum,
          SUM(CASE WHEN abs(value) < 1e150 THEN value * value ELSE 'Infinity'::float8 END) AS sq
        FROM unit_metrics WHERE experiment = $1 AND metric = ANY($2::text[]) GROUP BY metric, variant`,
            [experiment, metrics.map((m) => m.key)],
          ),
      q('SELECT reason, sent_by, events FROM experiment_exclusions WHERE experiment = $1 AND events > 0', [experiment]),
    ]);
    const out: ExperimentAggregates = { units: {}, excludedUnits: 0, exclusions: noExclusions(), exclusionsBySender: [], metrics: {} };
    for (const r of units) {
      if (num(r.conflicted) !== 0) out.excludedUnits += num(r.units);
      else out.units[r.variant as string] = num(r.units);
    }
    out.exclusions.multiple_variants = out.excludedUnits;
    readExclusions(out, exclusions as { reason: string; sent_by: string; events: number }[]);
    for (const m of metrics) out.metrics[m.key] = {};
    for (const m of metrics) {
      const per = out.metrics[m.key]!;
      for (const r of sums) {
        if (r.metric !== m.key) continue;
        const k = num(r.k);
        // A conversion is 1 for each unit with a row.
        per[r.variant as string] =
          m.type === 'conversion'
            ? { sum: k, sumSquares: k, unitsWithEvents: k }
            : { sum: num(r.sum), sumSquares: num(r.sq), unitsWithEvents: k };
      }
    }
    return out;
  };

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
    deleteEventsBefore: async (ms) => {
      try {
        return (await pool.query('DELETE FROM events WHERE timestamp < $1', [ms])).rowCount ?? 0;
      } catch (e) {
        throw translate(e);
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
