import type Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConfigPatch } from '@switchyard/core';
import { MIGRATIONS } from './migrations';
import type { AuditFilter, AuditRow, ExperimentAggregates, Page, ResourceFilter, ResourceKind, ResourceRow, Store } from '../types';
import { ns, page, scoped, toApiKey, toAudit, toResource, toUser, type Row } from '../rows';
import { openConnection } from './connection';
import { isMemoryPath, openWriter, type WriterOptions } from './writer';
import { sqliteCovariates } from './covariates';
import { sqliteWebhookReads } from './webhook-reads';
import { noExclusions, readExclusions } from '../run-attribution';
import { readDailySeries } from '../daily-series-sql';
import { retentionPass } from '../retention-pass';

/**
 * The embedded default: one SQLite file in WAL mode with foreign keys on, numbered migrations
 * applied at open, and every statement prepared once. Every write (event batches, the results'
 * summaries, units of work, settings) is made by a writer thread with its own connection (see
 * writer.ts); this connection only reads.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('.switchyard/switchyard.db');
 * ```
 */
/**
 * Creates the database's folder (0700) and file (0600) before SQLite opens it, so that neither
 * the file nor the WAL and shared-memory files SQLite creates beside it with the same mode are
 * readable by other users of the machine. Existing files keep the mode their owner gave them.
 */
function createPrivately(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
}

/** Page cache of the store's read connection, in KiB (the writer thread's keeps 64 MiB). */
const READ_CACHE_KIB = 8192;

/** Settings of the SQLite store; see {@link WriterOptions}. */
export type SqliteStoreOptions = WriterOptions;

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Store {
  const inMemory = isMemoryPath(path);
  if (!inMemory) createPrivately(path);
  // Reads only, after the migrations: every write goes through the writer thread (writer.ts).
  const db = openConnection(path, { autocheckpointPages: inMemory ? 1000 : 0 });
  migrate(db);
  // This connection only reads, and every commit of the writer thread makes SQLite drop its whole
  // page cache at the next read. A 64 MiB cache then costs a refill of freshly allocated memory
  // per read (results over 1M units: ~8,000 page faults, 270 ms instead of 125 ms after one new
  // event) and saves nothing: a read re-fetching a page from the OS cache costs less. 8 MiB
  // still holds the B-tree interior pages of point lookups. (In-memory: one connection, kept.)
  if (!inMemory) db.pragma(`cache_size = -${READ_CACHE_KIB}`);
  const writer = openWriter(db, path, options);

  const s = {
    resourceById: db.prepare('SELECT * FROM resources WHERE kind = ? AND id = ?'),
    // By key through the key indexes (`ns` is a function of `kind`): a lookup costs the same at 10 or 10,000 rows of a kind.
    resourceByKey: db.prepare('SELECT * FROM resources WHERE ns = ? AND kind = ? AND key = ? ORDER BY seq LIMIT 1'),
    resourceByEnvKey: db.prepare('SELECT * FROM resources WHERE ns = ? AND kind = ? AND environment = ? AND key = ?'),
    resourceByNsKey: db.prepare('SELECT * FROM resources WHERE ns = ? AND key = ? ORDER BY seq LIMIT 1'),
    // In the shared namespace: the flag, or the experiment of this environment.
    resourceByNsEnvKey: db.prepare(
      "SELECT * FROM resources WHERE ns = ? AND key = ? AND (kind <> 'experiment' OR environment = ?) LIMIT 1",
    ),
    allResources: db.prepare('SELECT * FROM resources WHERE kind = ? ORDER BY seq'),
    allResourcesIn: db.prepare('SELECT * FROM resources WHERE kind = ? AND environment = ? ORDER BY seq'),
    userById: db.prepare('SELECT * FROM users WHERE id = ?'),
    userByEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
    listUsers: db.prepare('SELECT * FROM users WHERE seq > ? ORDER BY seq LIMIT ?'),
    countUsers: db.prepare('SELECT COUNT(*) AS n FROM users'),
    keyById: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
    keyByHash: db.prepare('SELECT * FROM api_keys WHERE hash = ?'),
    listKeys: db.prepare('SELECT * FROM api_keys WHERE seq > ? ORDER BY seq LIMIT ?'),
    listKeysBy: db.prepare('SELECT * FROM api_keys WHERE created_by = ? AND seq > ? ORDER BY seq LIMIT ?'),
    countKeys: db.prepare('SELECT COUNT(*) AS n FROM api_keys'),
    maxVersion: db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM config_log WHERE environment = ?'),
    maxVersions: db.prepare('SELECT environment, MAX(version) AS v FROM config_log GROUP BY environment'),
    logSince: db.prepare('SELECT version, patch FROM config_log WHERE environment = ? AND version > ? ORDER BY version LIMIT ?'),
    getSetting: db.prepare('SELECT value FROM settings WHERE key = ?'),
    countEvents: db.prepare('SELECT COUNT(*) AS n FROM events'),
    backlog: db.prepare('SELECT (SELECT COALESCE(MAX(seq), 0) FROM events) - (SELECT seq FROM event_aggregation WHERE id = 1)').pluck(),
    runId: db.prepare("SELECT id FROM resources WHERE kind = 'experiment' AND environment = ? AND key = ?").pluck(),
    exclusions: db.prepare('SELECT reason, sent_by, events FROM experiment_exclusions WHERE experiment = ? AND events > 0'),
    unitCounts: db.prepare('SELECT conflicted, variant, units FROM experiment_unit_counts WHERE experiment = ? AND units > 0'),
    metricSums: db.prepare(`SELECT variant, COUNT(*) AS k, SUM(value) AS sum, SUM(value * value) AS sq FROM unit_metrics
        WHERE experiment = ? AND metric = ? GROUP BY variant`),
  };

  const listResources = (kind: ResourceKind, f: ResourceFilter): Page<ResourceRow> => {
    const where = ['kind = ?', 'seq > ?'];
    const args: unknown[] = [kind, f.after ?? 0];
    if (f.environment !== undefined) {
      where.push('environment = ?');
      args.push(f.environment);
    }
    if (f.flagEnabled !== undefined) {
      // A flag without state in the environment has its defaults there: disabled.
      where.push(`COALESCE(json_extract(data, '$.environments."' || ? || '".enabled'), 0) = ?`);
      args.push(f.flagEnabled.environment, f.flagEnabled.enabled ? 1 : 0);
    }
    if (f.status !== undefined) {
      where.push('status = ?');
      args.push(f.status);
    }
    if (f.ownerId !== undefined) {
      where.push('owner_id = ?');
      args.push(f.ownerId);
    }
    if (f.q !== undefined && f.q !== '') {
      where.push("(instr(lower(key), lower(?)) > 0 OR instr(lower(COALESCE(json_extract(data, '$.name'), '')), lower(?)) > 0)");
      args.push(f.q, f.q);
    }
    const rows = db.prepare(`SELECT * FROM resources WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...args, f.limit + 1) as Row[];
    return page(rows.map(toResource), f.limit);
  };

  const listAudit = (f: AuditFilter): Page<AuditRow> => {
    // Newest first: the cursor walks backwards through the sequence.
    const where = ['seq < ?'];
    const args: unknown[] = [f.after ?? Number.MAX_SAFE_INTEGER];
    if (f.environment !== undefined) {
      where.push('environment = ?');
      args.push(f.environment);
    }
    if (f.actorId !== undefined) {
      where.push('actor_id = ?');
      args.push(f.actorId);
    }
    if (f.action !== undefined) {
      where.push('action = ?');
      args.push(f.action);
    }
    if (f.resourceType !== undefined) {
      where.push('resource_type = ?');
      args.push(f.resourceType);
    }
    if (f.resourceId !== undefined) {
      where.push('(resource_id = ? OR resource_key = ?)');
      args.push(f.resourceId, f.resourceId);
    }
    const rows = db
      .prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args, f.limit + 1) as Row[];
    return page(rows.map(toAudit), f.limit);
  };

  const one = <T>(stmt: Database.Statement, map: (r: Row) => T, ...args: unknown[]): T | null => {
    const r = stmt.get(...args) as Row | undefined;
    return r === undefined ? null : map(r);
  };

  const readCovariates = sqliteCovariates(db);

  /** The summaries' name of the experiment of this key that exists now (see run-attribution.ts). */
  const summaryOf = (environment: string, key: string): string =>
    (s.runId.get(environment, key) as string | undefined) ?? scoped(environment, key);

  /** One read transaction: the writer commits slices concurrently, and units and sums must agree. */
  const readAggregates = db.transaction(
    (experiment: string, metrics: readonly { key: string; type: 'conversion' | 'mean' }[]): ExperimentAggregates => {
      const out: ExperimentAggregates = { units: {}, excludedUnits: 0, exclusions: noExclusions(), exclusionsBySender: [], metrics: {} };
      for (const r of s.unitCounts.all(experiment) as { conflicted: number; variant: string; units: number }[]) {
        if (r.conflicted !== 0) out.excludedUnits += r.units;
        else out.units[r.variant] = r.units;
      }
      out.exclusions.multiple_variants = out.excludedUnits;
      readExclusions(out, s.exclusions.all(experiment) as { reason: string; sent_by: string; events: number }[]);
      for (const m of metrics) {
        const per: ExperimentAggregates['metrics'][string] = {};
        for (const r of s.metricSums.all(experiment, m.key) as { variant: string; k: number; sum: number; sq: number }[]) {
          // A conversion is 1 for each unit with a row.
          per[r.variant] =
            m.type === 'conversion'
              ? { sum: r.k, sumSquares: r.k, unitsWithEvents: r.k }
              : { sum: r.sum, sumSquares: r.sq, unitsWithEvents: r.k };
        }
        out.metrics[m.key] = per;
      }
      return out;
    },
  );

  return {
    kind: 'sqlite',
    ping: async () => (db.prepare('SELECT 1 AS ok').get() as Row).ok === 1,
    close: async () => {
      await writer.close();
      if (db.open) db.close();
    },
    commit: (work) => writer.commit(work),
    getResource: async (kind, idOrKey, environment) => {
      const r = one(s.resourceById, toResource, kind, idOrKey);
      if (r !== null) return environment === undefined || kind !== 'experiment' || r.environment === environment ? r : null;
      return environment !== undefined && kind === 'experiment'
        ? one(s.resourceByEnvKey, toResource, ns(kind), kind, environment, idOrKey)
        : one(s.resourceByKey, toResource, ns(kind), kind, idOrKey);
    },
    findByKey: async (kinds, key, environment) => {
      for (const k of new Set(kinds.map(ns))) {
        const r =
          environment === undefined
            ? one(s.resourceByNsKey, toResource, k, key)
            : one(s.resourceByNsEnvKey, toResource, k, key, environment);
        if (r !== null && kinds.includes(r.kind)) return r;
      }
      return null;
    },
    listResources: async (kind, f) => listResources(kind, f),
    allResources: async (kind, environment) =>
      (environment === undefined ? (s.allResources.all(kind) as Row[]) : (s.allResourcesIn.all(kind, environment) as Row[])).map(
        toResource,
      ),
    configVersion: async (environment) => (s.maxVersion.get(environment) as { v: number }).v,
    configVersions: async () =>
      Object.fromEntries((s.maxVersions.all() as { environment: string; v: number }[]).map((r) => [r.environment, r.v])),
    configLogSince: async (environment, version, limit) =>
      (s.logSince.all(environment, version, limit) as Row[]).map((r) => ({
        version: r.version as number,
        patch: JSON.parse(r.patch as string) as ConfigPatch,
      })),
    getUser: async (id) => one(s.userById, toUser, id),
    getUserByEmail: async (email) => one(s.userByEmail, toUser, email),
    listUsers: async (after, limit) => page((s.listUsers.all(after ?? 0, limit + 1) as Row[]).map(toUser), limit),
    countUsers: async () => (s.countUsers.get() as { n: number }).n,
    getApiKey: async (id) => one(s.keyById, toApiKey, id),
    getApiKeyByHash: async (hash) => one(s.keyByHash, toApiKey, hash),
    listApiKeys: async (createdBy, after, limit) => {
      const rows = createdBy === undefined ? s.listKeys.all(after ?? 0, limit + 1) : s.listKeysBy.all(createdBy, after ?? 0, limit + 1);
      return page((rows as Row[]).map(toApiKey), limit);
    },
    countApiKeys: async () => (s.countKeys.get() as { n: number }).n,
    touchApiKey: (id, at) => writer.touchApiKey(id, at),
    listAudit: async (f) => listAudit(f),
    getSetting: async (key) => ((s.getSetting.get(key) as Row | undefined)?.value as string | undefined) ?? null,
    setSetting: (key, value) => writer.setSetting(key, value),
    insertEventBatches: (batches) => writer.insertEvents(batches),
    // The writer thread commits every insert request queued behind the one it is committing together.
    groupsEventBatches: !inMemory,
    countEvents: async () => (s.countEvents.get() as { n: number }).n,
    aggregatorBacklog: async () => Math.max(0, s.backlog.get() as number),
    deleteEventsBefore: async (ms, pass) => {
      // Every event stored so far summarized first: only summarized events are deleted.
      await writer.drain();
      return retentionPass((chunk) => writer.deleteStep(ms, chunk), pass);
    },
    rebuildExperimentSummaries: (environment, key, maxValue) => writer.rebuildSummaries(environment, key, maxValue),
    experimentAggregates: async (environment, experiment, metrics) => {
      // The summaries trail ingestion: first bring them up to every event stored so far.
      await writer.drain();
      return readAggregates(summaryOf(environment, experiment), metrics);
    },
    ...sqliteWebhookReads(db, (work) => writer.commit(work)),
    experimentDailySeries: (environment, experiment, window, metrics) =>
      // better-sqlite3 binds named parameters: `$1` becomes `$p1`.
      readDailySeries(
        (sql, values) =>
          Promise.resolve(
            db.prepare(sql.replace(/\$(\d)/g, '$$p$1')).all(Object.fromEntries(values.map((v, i) => [`p${i + 1}`, v]))) as Record<
              string,
              unknown
            >[],
          ),
        environment,
        experiment,
        window,
        metrics,
      ),
    experimentCovariates: async (environment, experiment, metrics) => {
      await writer.drain();
      // unit_tracks and experiment_units name units and experiments per environment alike.
      return readCovariates(summaryOf(environment, experiment), metrics);
    },
  };
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id));
  for (const m of MIGRATIONS) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      m.up?.(db);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, new Date().toISOString());
    })();
  }
}
