import type Database from 'better-sqlite3';
import { envColumn, json, ns } from '../rows';
import { staleWriteError } from '../store-errors';
import { lastAdminError, type CommitResult, type ResourceRow, type UnitOfWork } from '../types';
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
    insertResource: db.prepare(`INSERT INTO resources (id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at)
      VALUES (@id, @kind, @ns, @environment, @key, @ownerId, @status, @data, @createdAt, @updatedAt)`),
    updateResource: db.prepare(`UPDATE resources SET key = @key, ns = @ns, owner_id = @ownerId, status = @status, data = @data,
      updated_at = @updatedAt WHERE id = @id`),
    updateResourceIfStatus: db.prepare(`UPDATE resources SET key = @key, ns = @ns, owner_id = @ownerId, status = @status, data = @data,
      updated_at = @updatedAt WHERE id = @id AND status IS @ifStatus`),
    deleteResource: db.prepare('DELETE FROM resources WHERE id = ?'),
    insertUser: db.prepare(`INSERT INTO users (id, email, name, role, password_hash, source, token_version, created_at, updated_at)
      VALUES (@id, @email, @name, @role, @passwordHash, @source, @tokenVersion, @createdAt, @updatedAt)`),
    updateUser: db.prepare(`UPDATE users SET email = @email, name = @name, role = @role, password_hash = @passwordHash,
      token_version = @tokenVersion, updated_at = @updatedAt WHERE id = @id`),
    countAdmins: db.prepare(`SELECT COUNT(*) AS n FROM users WHERE role = 'ADMIN'`),
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    insertKey: db.prepare(`INSERT INTO api_keys (id, name, kind, role, environment, prefix, hash, created_by, created_at, last_used_at,
      revoked_at) VALUES (@id, @name, @kind, @role, @environment, @prefix, @hash, @createdBy, @createdAt, @lastUsedAt, @revokedAt)`),
    updateKey: db.prepare('UPDATE api_keys SET name = @name, role = @role, revoked_at = @revokedAt WHERE id = @id'),
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
  });

  const commit = db.transaction(function commitUnitOfWork(work: UnitOfWork): CommitResult {
    for (const w of work.writes) {
      if (w.table === 'resources') {
        if (w.action === 'delete') s.deleteResource.run(w.id);
        else if (w.action === 'update' && w.ifStatus !== undefined) {
          // Compare-and-set: matches nothing once the status moved on (the unit is rolled back).
          const { changes } = s.updateResourceIfStatus.run({ ...resourceParams(w.row), ifStatus: w.ifStatus });
          if (changes !== 1) throw staleWriteError(`the ${w.row.kind} '${w.row.key}'`);
        } else (w.action === 'insert' ? s.insertResource : s.updateResource).run(resourceParams(w.row));
      } else if (w.table === 'users') {
        if (w.action === 'delete') s.deleteUser.run(w.id);
        else (w.action === 'insert' ? s.insertUser : s.updateUser).run({ ...w.row });
      } else if (w.table === 'api_keys') {
        (w.action === 'insert' ? s.insertKey : s.updateKey).run({ ...w.row });
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
    if (work.audit !== undefined) {
      const a = work.audit;
      s.insertAudit.run({ ...a, environment: a.environment ?? null, before: json(a.before), after: json(a.after) });
    }
    return { versions };
  });

  return {
    commit: (work: UnitOfWork): CommitResult => commit(work),
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
