import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConfigPatch } from '@switchyard/core';
import { MIGRATIONS } from './migrations';
import type {
  AuditFilter, AuditRow, ConfigLogEntry, ExperimentAggregates, Page, ResourceFilter, ResourceKind, ResourceRow, Store,
  StoredEvent, UnitOfWork,
} from '../types';
import { json, ns, page, toApiKey, toAudit, toResource, toUser, type Row } from '../rows';

/** Adds `units` to the count of (experiment, conflicted, variant). */
type UnitCounter = (experiment: string, conflicted: number, variant: string, units: number) => void;







/**
 * The embedded default: one SQLite file in WAL mode with foreign keys on, numbered migrations
 * applied at open, and every statement prepared once.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('.switchyard/switchyard.db');
 * ```
 */
export function openSqliteStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  // NORMAL is durable in WAL mode against process crashes (kill -9), which is what an
  // acknowledged event must survive; FULL would also cover power loss at a large cost per commit.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // 64 MiB of page cache: index pages touched by ingestion stay in memory between commits.
  db.pragma('cache_size = -65536');
  migrate(db);

  const s = {
    insertResource: db.prepare(`INSERT INTO resources (id, kind, ns, key, owner_id, status, data, created_at, updated_at)
      VALUES (@id, @kind, @ns, @key, @ownerId, @status, @data, @createdAt, @updatedAt)`),
    updateResource: db.prepare(`UPDATE resources SET key = @key, ns = @ns, owner_id = @ownerId, status = @status, data = @data,
      updated_at = @updatedAt WHERE id = @id`),
    deleteResource: db.prepare('DELETE FROM resources WHERE id = ?'),
    resourceById: db.prepare('SELECT * FROM resources WHERE kind = ? AND id = ?'),
    resourceByKey: db.prepare('SELECT * FROM resources WHERE kind = ? AND key = ?'),
    resourceByNsKey: db.prepare('SELECT * FROM resources WHERE ns = ? AND key = ?'),
    allResources: db.prepare('SELECT * FROM resources WHERE kind = ? ORDER BY seq'),
    insertUser: db.prepare(`INSERT INTO users (id, email, name, role, password_hash, source, created_at, updated_at)
      VALUES (@id, @email, @name, @role, @passwordHash, @source, @createdAt, @updatedAt)`),
    updateUser: db.prepare(`UPDATE users SET email = @email, name = @name, role = @role, password_hash = @passwordHash,
      updated_at = @updatedAt WHERE id = @id`),
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    userById: db.prepare('SELECT * FROM users WHERE id = ?'),
    userByEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
    listUsers: db.prepare('SELECT * FROM users WHERE seq > ? ORDER BY seq LIMIT ?'),
    countUsers: db.prepare('SELECT COUNT(*) AS n FROM users'),
    insertKey: db.prepare(`INSERT INTO api_keys (id, name, kind, role, prefix, hash, created_by, created_at, last_used_at, revoked_at)
      VALUES (@id, @name, @kind, @role, @prefix, @hash, @createdBy, @createdAt, @lastUsedAt, @revokedAt)`),
    updateKey: db.prepare('UPDATE api_keys SET name = @name, role = @role, revoked_at = @revokedAt WHERE id = @id'),
    keyById: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
    keyByHash: db.prepare('SELECT * FROM api_keys WHERE hash = ?'),
    listKeys: db.prepare('SELECT * FROM api_keys WHERE seq > ? ORDER BY seq LIMIT ?'),
    listKeysBy: db.prepare('SELECT * FROM api_keys WHERE created_by = ? AND seq > ? ORDER BY seq LIMIT ?'),
    countKeys: db.prepare('SELECT COUNT(*) AS n FROM api_keys'),
    touchKey: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
    insertLog: db.prepare('INSERT INTO config_log (patch, created_at) VALUES (?, ?)'),
    setLogPatch: db.prepare('UPDATE config_log SET patch = ? WHERE version = ?'),
    maxVersion: db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM config_log'),
    logSince: db.prepare('SELECT version, patch FROM config_log WHERE version > ? ORDER BY version LIMIT ?'),
    insertAudit: db.prepare(`INSERT INTO audit_log (at, actor_type, actor_id, actor_label, action, resource_type, resource_id,
      resource_key, before, after, request_id, ip, user_agent) VALUES (@at, @actorType, @actorId, @actorLabel, @action,
      @resourceType, @resourceId, @resourceKey, @before, @after, @requestId, @ip, @userAgent)`),
    getSetting: db.prepare('SELECT value FROM settings WHERE key = ?'),
    setSetting: db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    insertEvent: db.prepare(`INSERT OR IGNORE INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    countEvents: db.prepare('SELECT COUNT(*) AS n FROM events'),
    insertUnit: db.prepare('INSERT INTO experiment_units (experiment, unit_id, variant, first_ts) VALUES (?, ?, ?, ?)'),
    updateUnit: db.prepare('UPDATE experiment_units SET conflicted = ?, first_ts = ? WHERE unit_id = ? AND experiment = ?'),
    unitState: db.prepare('SELECT variant, first_ts, conflicted FROM experiment_units WHERE unit_id = ? AND experiment = ?'),
    addUnitCount: db.prepare(`INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units) VALUES (?, ?, ?, ?)
      ON CONFLICT (experiment, conflicted, variant) DO UPDATE SET units = units + excluded.units`),
    // A new track event: added to the unit's row of every experiment it is counted in from a
    // first exposure at or before the event (one primary-key probe when there is none).
    trackAdd: db.prepare(`INSERT INTO unit_metrics (experiment, metric, variant, unit_id, value)
      SELECT experiment, ?, variant, unit_id, ? FROM experiment_units WHERE unit_id = ? AND conflicted = 0 AND first_ts <= ?
      ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = value + excluded.value`),
    hasTracks: db.prepare("SELECT 1 FROM events WHERE type = 'track' AND unit_id = ? AND timestamp >= ? LIMIT 1").pluck(),
    // A new or earlier first exposure: the unit's track events in [lo, hi) join its sums.
    rangeAdd: db.prepare(`INSERT INTO unit_metrics (experiment, metric, variant, unit_id, value)
      SELECT ?, key, ?, unit_id, SUM(COALESCE(value, 1)) FROM events
      WHERE type = 'track' AND unit_id = ? AND timestamp >= ? AND timestamp < ? GROUP BY key
      ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = value + excluded.value`),
    // The metric keys of an experiment, one index seek each (a loose index scan).
    firstMetric: db.prepare('SELECT metric FROM unit_metrics WHERE experiment = ? ORDER BY metric LIMIT 1').pluck(),
    nextMetric: db.prepare('SELECT metric FROM unit_metrics WHERE experiment = ? AND metric > ? ORDER BY metric LIMIT 1').pluck(),
    deleteUnitMetric: db.prepare('DELETE FROM unit_metrics WHERE experiment = ? AND metric = ? AND variant = ? AND unit_id = ?'),
    unitCounts: db.prepare('SELECT conflicted, variant, units FROM experiment_unit_counts WHERE experiment = ? AND units > 0'),
    metricSums: db.prepare(`SELECT variant, COUNT(*) AS k, SUM(value) AS sum, SUM(value * value) AS sq FROM unit_metrics
        WHERE experiment = ? AND metric = ? GROUP BY variant`),
    deleteEventsBefore: db.prepare('DELETE FROM events WHERE timestamp < ?'),
  };

  const resourceParams = (r: ResourceRow) => ({
    id: r.id, kind: r.kind, ns: ns(r.kind), key: r.key, ownerId: r.ownerId, status: r.status, data: JSON.stringify(r.data),
    createdAt: r.createdAt, updatedAt: r.updatedAt,
  });

  const commitTx = db.transaction((work: UnitOfWork): { version: number | null } => {
    for (const w of work.writes) {
      if (w.table === 'resources') {
        if (w.action === 'delete') s.deleteResource.run(w.id);
        else (w.action === 'insert' ? s.insertResource : s.updateResource).run(resourceParams(w.row));
      } else if (w.table === 'users') {
        if (w.action === 'delete') s.deleteUser.run(w.id);
        else (w.action === 'insert' ? s.insertUser : s.updateUser).run({ ...w.row });
      } else {
        (w.action === 'insert' ? s.insertKey : s.updateKey).run({ ...w.row });
      }
    }
    let version: number | null = null;
    if (work.configPatch !== undefined) {
      const now = new Date().toISOString();
      version = Number(s.insertLog.run('{}', now).lastInsertRowid);
      s.setLogPatch.run(JSON.stringify({ ...work.configPatch, version }), version);
    }
    if (work.audit !== undefined) {
      const a = work.audit;
      s.insertAudit.run({ ...a, before: json(a.before), after: json(a.after) });
    }
    return { version };
  });

  /** Deletes an (experiment, unit)'s metric rows, written under `variant`: the unit became conflicted. */
  const dropUnitMetrics = (experiment: string, variant: string, unitId: string): void => {
    for (let m = s.firstMetric.get(experiment) as string | undefined; m !== undefined; m = s.nextMetric.get(experiment, m) as string | undefined) {
      s.deleteUnitMetric.run(experiment, m, variant, unitId);
    }
  };

  /**
   * A new exposure (never a resent one) moves `experiment_units`, its counts and
   * `unit_metrics`: a new unit is counted and takes in its track events from the exposure on
   * (they may have arrived first); an earlier first exposure takes in those between the new
   * and the old time; a second variant moves the unit to the excluded count and deletes its
   * rows (a conflicted unit never counts again). A repeat exposure only reads.
   */
  const applyExposure = (experiment: string, unitId: string, variant: string, ts: number, count: UnitCounter): void => {
    const old = s.unitState.get(unitId, experiment) as { variant: string; first_ts: number; conflicted: number } | undefined;
    if (old === undefined) {
      s.insertUnit.run(experiment, unitId, variant, ts);
      count(experiment, 0, variant, 1);
      // Usually the unit has no track events yet: one probe, no write.
      if (s.hasTracks.get(unitId, ts) !== undefined) s.rangeAdd.run(experiment, variant, unitId, ts, Number.MAX_SAFE_INTEGER);
      return;
    }
    // The first variant stays; a second one makes the unit conflicted for good; the earliest time wins.
    const wasConflicted = old.conflicted !== 0;
    const conflicted = wasConflicted || old.variant !== variant;
    if (conflicted === wasConflicted && ts >= old.first_ts) return; // the common repeat exposure: nothing to write
    s.updateUnit.run(conflicted ? 1 : 0, Math.min(ts, old.first_ts), unitId, experiment);
    if (wasConflicted) return;
    if (conflicted) {
      count(experiment, 0, old.variant, -1);
      count(experiment, 1, old.variant, 1);
      dropUnitMetrics(experiment, old.variant, unitId);
    } else {
      s.rangeAdd.run(experiment, variant, unitId, ts, old.first_ts);
    }
  };

  const insertBatches = db.transaction((batches: StoredEvent[][]) => {
    // Unit count deltas, written once per transaction (a few rows) rather than once per unit.
    const deltas = new Map<string, { experiment: string; conflicted: number; variant: string; units: number }>();
    const count: UnitCounter = (experiment, conflicted, variant, units) => {
      const k = JSON.stringify([experiment, conflicted, variant]);
      const d = deltas.get(k);
      if (d === undefined) deltas.set(k, { experiment, conflicted, variant, units });
      else d.units += units;
    };
    const results = batches.map((batch) => {
      let accepted = 0;
      for (const e of batch) {
        const added = s.insertEvent.run(e.id, e.type, e.key, e.unitId, e.experiment, e.variant, e.value,
          e.properties === null ? null : JSON.stringify(e.properties), e.timestamp, e.receivedAt).changes;
        accepted += added;
        // Only a new event moves the summaries; a resent one must not.
        if (added !== 1) continue;
        if (e.type === 'track') s.trackAdd.run(e.key, e.value ?? 1, e.unitId, e.timestamp);
        else if (e.type === 'exposure' && e.experiment !== null && e.variant !== null) applyExposure(e.experiment, e.unitId, e.variant, e.timestamp, count);
      }
      return { accepted, duplicates: batch.length - accepted };
    });
    for (const d of deltas.values()) if (d.units !== 0) s.addUnitCount.run(d.experiment, d.conflicted, d.variant, d.units);
    return results;
  });

  const listResources = (kind: ResourceKind, f: ResourceFilter): Page<ResourceRow> => {
    const where = ['kind = ?', 'seq > ?'];
    const args: unknown[] = [kind, f.after ?? 0];
    if (f.status !== undefined) { where.push('status = ?'); args.push(f.status); }
    if (f.ownerId !== undefined) { where.push('owner_id = ?'); args.push(f.ownerId); }
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
    if (f.actorId !== undefined) { where.push('actor_id = ?'); args.push(f.actorId); }
    if (f.action !== undefined) { where.push('action = ?'); args.push(f.action); }
    if (f.resourceType !== undefined) { where.push('resource_type = ?'); args.push(f.resourceType); }
    if (f.resourceId !== undefined) { where.push('(resource_id = ? OR resource_key = ?)'); args.push(f.resourceId, f.resourceId); }
    const rows = db.prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`).all(...args, f.limit + 1) as Row[];
    return page(rows.map(toAudit), f.limit);
  };

  const one = <T>(stmt: Database.Statement, map: (r: Row) => T, ...args: unknown[]): T | null => {
    const r = stmt.get(...args) as Row | undefined;
    return r === undefined ? null : map(r);
  };

  return {
    kind: 'sqlite',
    ping: async () => (db.prepare('SELECT 1 AS ok').get() as Row).ok === 1,
    close: async () => { if (db.open) db.close(); },
    commit: async (work) => commitTx(work),
    getResource: async (kind, idOrKey) => one(s.resourceById, toResource, kind, idOrKey) ?? one(s.resourceByKey, toResource, kind, idOrKey),
    findByKey: async (kinds, key) => {
      for (const k of new Set(kinds.map(ns))) {
        const r = one(s.resourceByNsKey, toResource, k, key);
        if (r !== null && kinds.includes(r.kind)) return r;
      }
      return null;
    },
    listResources: async (kind, f) => listResources(kind, f),
    allResources: async (kind) => (s.allResources.all(kind) as Row[]).map(toResource),
    configVersion: async () => (s.maxVersion.get() as { v: number }).v,
    configLogSince: async (version, limit) =>
      (s.logSince.all(version, limit) as Row[]).map((r) => ({ version: r.version as number, patch: JSON.parse(r.patch as string) as ConfigPatch })) as ConfigLogEntry[],
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
    touchApiKey: async (id, at) => { s.touchKey.run(at, id); },
    listAudit: async (f) => listAudit(f),
    getSetting: async (key) => ((s.getSetting.get(key) as Row | undefined)?.value as string | undefined) ?? null,
    setSetting: async (key, value) => { s.setSetting.run(key, value); },
    insertEventBatches: async (batches) => insertBatches(batches),
    countEvents: async () => (s.countEvents.get() as { n: number }).n,
    deleteEventsBefore: async (ms) => s.deleteEventsBefore.run(ms).changes,
    experimentAggregates: async (experiment, metrics) => {
      const out: ExperimentAggregates = { units: {}, excludedUnits: 0, metrics: {} };
      for (const r of s.unitCounts.all(experiment) as { conflicted: number; variant: string; units: number }[]) {
        if (r.conflicted !== 0) out.excludedUnits += r.units;
        else out.units[r.variant] = r.units;
      }
      for (const m of metrics) {
        const per: ExperimentAggregates['metrics'][string] = {};
        for (const r of s.metricSums.all(experiment, m.key) as { variant: string; k: number; sum: number; sq: number }[]) {
          // A conversion is 1 for each unit with a row.
          per[r.variant] = m.type === 'conversion' ? { sum: r.k, sumSquares: r.k, unitsWithEvents: r.k } : { sum: r.sum, sumSquares: r.sq, unitsWithEvents: r.k };
        }
        out.metrics[m.key] = per;
      }
      return out;
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
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, new Date().toISOString());
    })();
  }
}
