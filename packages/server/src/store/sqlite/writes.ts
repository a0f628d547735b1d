import type Database from 'better-sqlite3';
import { allowedMetricsColumn, envColumn, json, ns } from '../rows';
import { asSqliteUniqueViolation } from '../store-errors';
import { auditsOf, expectWritten, lastAdminError, statusCasFailure, type CommitResult, type ResourceRow, type UnitOfWork } from '../types';
import { sqliteWebhookWrites } from './webhook-writes';

/**
 * The store's writes other than events: units of work (rows, a config patch, an audit record,
 * in one transaction), settings and API-key last use. Prepared on the connection that writes,
 * which is the writer thread's (one writer: no connection ever waits for another's lock).
 *
 * @example
 * ```ts
 * const writes = storeWrites(db);
 * const { versions } = writes.commit({ writes: [], configPatches: { production: { flags: {} } } });
 * ```
 */
export function storeWrites(db: Database.Database) {
  const s = {
    insertResource: db.prepare(`INSERT INTO resources (id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at,
      version) VALUES (@id, @kind, @ns, @environment, @key, @ownerId, @status, @data, @createdAt, @updatedAt, 1)`),
    updateResource: db.prepare(`UPDATE resources SET key = @key, ns = @ns, owner_id = @ownerId, status = @status, data = @data,
      updated_at = @updatedAt, version = version + 1 WHERE id = @id AND version = @version`),
    updateResourceIfStatus: db.prepare(`UPDATE resources SET key = @key, ns = @ns, owner_id = @ownerId, status = @status, data = @data,
      updated_at = @updatedAt, version = version + 1 WHERE id = @id AND version = @version AND status IS @ifStatus`),
    resourceStatus: db.prepare('SELECT status FROM resources WHERE id = ?'),
    deleteResource: db.prepare('DELETE FROM resources WHERE id = @id AND (@version IS NULL OR version = @version)'),
    insertUser: db.prepare(`INSERT INTO users (id, email, name, role, password_hash, source, token_version, created_at, updated_at, version)
      VALUES (@id, @email, @name, @role, @passwordHash, @source, @tokenVersion, @createdAt, @updatedAt, 1)`),
    updateUser: db.prepare(`UPDATE users SET email = @email, name = @name, role = @role, password_hash = @passwordHash,
      token_version = @tokenVersion, updated_at = @updatedAt, version = version + 1 WHERE id = @id AND version = @version`),
    countAdmins: db.prepare(`SELECT COUNT(*) AS n FROM users WHERE role = 'ADMIN'`),
    deleteUser: db.prepare('DELETE FROM users WHERE id = @id AND (@version IS NULL OR version = @version)'),
    insertKey: db.prepare(`INSERT INTO api_keys (id, name, kind, role, environment, prefix, hash, created_by, created_at, last_used_at,
      revoked_at, allowed_metrics, version) VALUES (@id, @name, @kind, @role, @environment, @prefix, @hash, @createdBy, @createdAt,
      @lastUsedAt, @revokedAt, @allowedMetrics, 1)`),
    updateKey: db.prepare(`UPDATE api_keys SET name = @name, role = @role, revoked_at = @revokedAt, version = version + 1
      WHERE id = @id AND version = @version`),
    touchKey: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
    maxVersion: db.prepare('SELECT COALESCE(MAX(version), 0) FROM config_log WHERE environment = ?').pluck(),
    insertLog: db.prepare('INSERT INTO config_log (environment, version, patch, created_at) VALUES (?, ?, ?, ?)'),
    insertAudit: db.prepare(`INSERT INTO audit_log (at, actor_type, actor_id, actor_label, action, resource_type, resource_id,
      resource_key, environment, before, after, request_id, ip, user_agent) VALUES (@at, @actorType, @actorId, @actorLabel, @action,
      @resourceType, @resourceId, @resourceKey, @environment, @before, @after, @requestId, @ip, @userAgent)`),
    setSetting: db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  };

  const webhooks = sqliteWebhookWrites(db);

  const resourceParams = (r: ResourceRow) => ({
    id: r.id,
    kind: r.kind,
    ns: ns(r.kind),
    environment: envColumn(r.environment),
    key: r.key,
    ownerId: r.ownerId,
    status: r.status,
    data: JSON.stringify(r.data),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    version: r.version,
  });

  const commit = db.transaction(function commitUnitOfWork(work: UnitOfWork): CommitResult {
    for (const w of work.writes) {
      if (w.table === 'resources') {
        if (w.action === 'delete')
          expectWritten(s.deleteResource.run({ id: w.id, version: w.version ?? null }).changes, w.table, w.id, w.version);
        else if (w.action === 'insert') s.insertResource.run(resourceParams(w.row));
        else if (w.ifStatus !== undefined) {
          // Compare-and-set on the status as well as the version: a status that moved on is a
          // stale write (the transition happened elsewhere); only a newer version is a conflict to rebuild on.
          const { changes } = s.updateResourceIfStatus.run({ ...resourceParams(w.row), ifStatus: w.ifStatus });
          if (changes !== 1)
            throw statusCasFailure(w.row, w.ifStatus, s.resourceStatus.get(w.row.id) as { status: string | null } | undefined);
        } else expectWritten(s.updateResource.run(resourceParams(w.row)).changes, w.table, w.row.id, w.row.version);
      } else if (w.table === 'users') {
        if (w.action === 'delete')
          expectWritten(s.deleteUser.run({ id: w.id, version: w.version ?? null }).changes, w.table, w.id, w.version);
        else if (w.action === 'insert') s.insertUser.run({ ...w.row });
        else expectWritten(s.updateUser.run({ ...w.row }).changes, w.table, w.row.id, w.row.version);
      } else if (w.table === 'api_keys') {
        if (w.action === 'insert') s.insertKey.run({ ...w.row, allowedMetrics: allowedMetricsColumn(w.row.allowedMetrics) });
        else expectWritten(s.updateKey.run({ ...w.row }).changes, w.table, w.row.id, w.row.version);
      } else webhooks.write(w);
    }
    webhooks.outbox(work.webhookEvents ?? []);
    if (work.keepAnAdmin === true && (s.countAdmins.get() as { n: number }).n < 1) throw lastAdminError();
    // Each environment's next version: this connection is the file's only writer.
    const versions: Record<string, number> = {};
    const now = new Date().toISOString();
    for (const [environment, patch] of Object.entries(work.configPatches ?? {})) {
      const version = (s.maxVersion.get(environment) as number) + 1;
      s.insertLog.run(environment, version, JSON.stringify({ ...patch, version }), now);
      versions[environment] = version;
    }
    for (const a of auditsOf(work)) {
      s.insertAudit.run({ ...a, environment: a.environment ?? null, before: json(a.before), after: json(a.after) });
    }
    return { versions };
  });

  return {
    commit: (work: UnitOfWork): CommitResult => {
      try {
        return commit(work);
      } catch (e) {
        throw asSqliteUniqueViolation(e);
      }
    },
    setSetting: (key: string, value: string): void => {
      s.setSetting.run(key, value);
    },
    touchApiKey: (id: string, at: string): void => {
      s.touchKey.run(at, id);
    },
  };
}

/** See {@link storeWrites}. */
export type StoreWrites = ReturnType<typeof storeWrites>;
