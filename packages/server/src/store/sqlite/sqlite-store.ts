import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ConfigPatch } from '@switchyard/core';
import { MIGRATIONS } from './migrations';
import type {
  AuditFilter, AuditRow, ConfigLogEntry, ExperimentAggregates, Page, ResourceFilter, ResourceKind, ResourceRow, Store, UnitOfWork,
} from '../types';
import { json, ns, page, toApiKey, toAudit, toResource, toUser, type Row } from '../rows';
import { openConnection } from './connection';
import { openEventLog } from './event-log';

/**
 * The embedded default: one SQLite file in WAL mode with foreign keys on, numbered migrations
 * applied at open, and every statement prepared once. Events are appended, and the results'
 * summaries maintained, by a writer thread with its own connection (see event-log.ts); this
 * connection serves everything else.
 *
 * @example
 * ```ts
 * const store = openSqliteStore('.switchyard/switchyard.db');
 * ```
 */
export function openSqliteStore(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  // The writer thread checkpoints; this connection's rare commits never stall on one.
  const db = openConnection(path, { autocheckpointPages: path === ':memory:' ? 1000 : 0 });
  migrate(db);
  const events = openEventLog(db, path);

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
    countEvents: db.prepare('SELECT COUNT(*) AS n FROM events'),
    unitCounts: db.prepare('SELECT conflicted, variant, units FROM experiment_unit_counts WHERE experiment = ? AND units > 0'),
    metricSums: db.prepare(`SELECT variant, COUNT(*) AS k, SUM(value) AS sum, SUM(value * value) AS sq FROM unit_metrics
        WHERE experiment = ? AND metric = ? GROUP BY variant`),
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
    close: async () => {
      await events.close();
      if (db.open) db.close();
    },
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
    insertEventBatches: (batches) => events.insert(batches),
    countEvents: async () => (s.countEvents.get() as { n: number }).n,
    deleteEventsBefore: (ms) => events.deleteBefore(ms),
    experimentAggregates: async (experiment, metrics) => {
      // The summaries trail ingestion: first bring them up to every event stored so far.
      await events.drain();
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
