import { allowedMetricsColumn, envColumn, ns } from '../rows';
import { expectWritten, statusCasFailure, type WriteOp } from '../types';

/** What a write runs its statement on: the unit of work's transaction. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
}

/**
 * One write of a unit of work, inside its transaction. Updates (and deletes given a version) are
 * compare-and-sets on the version: under READ COMMITTED an `UPDATE ... WHERE version = $n` that
 * waited for a concurrent writer's row lock re-checks the committed row, so of two writers that
 * read the same version exactly one succeeds and the other's unit of work is rolled back.
 *
 * @example
 * ```ts
 * await writeRow(client, { table: 'resources', action: 'update', row }); // row.version: the version read
 * ```
 */
export async function writeRow(c: Queryable, w: Extract<WriteOp, { table: 'resources' | 'users' | 'api_keys' }>): Promise<void> {
  if (w.table === 'resources') {
    if (w.action === 'delete') {
      const r = await c.query('DELETE FROM resources WHERE id = $1 AND ($2::integer IS NULL OR version = $2)', [w.id, w.version ?? null]);
      return expectWritten(r.rowCount ?? 0, w.table, w.id, w.version);
    }
    const r = w.row;
    if (w.action === 'insert') {
      await c.query(
        `INSERT INTO resources (id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`,
        [r.id, r.kind, ns(r.kind), envColumn(r.environment), r.key, r.ownerId, r.status, JSON.stringify(r.data), r.createdAt, r.updatedAt],
      );
      return;
    }
    const params = [r.id, r.key, ns(r.kind), r.ownerId, r.status, JSON.stringify(r.data), r.updatedAt, r.version];
    if (w.ifStatus === undefined) {
      const res = await c.query(
        `UPDATE resources SET key = $2, ns = $3, owner_id = $4, status = $5, data = $6, updated_at = $7, version = version + 1
        WHERE id = $1 AND version = $8`,
        params,
      );
      return expectWritten(res.rowCount ?? 0, w.table, r.id, r.version);
    }
    // Compare-and-set on the status as well: a status that moved on is a stale write (the
    // transition happened elsewhere); only a newer version with the same status is a conflict to rebuild on.
    const res = await c.query(
      `UPDATE resources SET key = $2, ns = $3, owner_id = $4, status = $5, data = $6, updated_at = $7, version = version + 1
      WHERE id = $1 AND version = $8 AND status IS NOT DISTINCT FROM $9`,
      [...params, w.ifStatus],
    );
    if ((res.rowCount ?? 0) === 1) return;
    const current = (await c.query('SELECT status FROM resources WHERE id = $1', [r.id])).rows[0] as { status: string | null } | undefined;
    throw statusCasFailure(r, w.ifStatus, current);
  }
  if (w.table === 'users') {
    if (w.action === 'delete') {
      const r = await c.query('DELETE FROM users WHERE id = $1 AND ($2::integer IS NULL OR version = $2)', [w.id, w.version ?? null]);
      return expectWritten(r.rowCount ?? 0, w.table, w.id, w.version);
    }
    const u = w.row;
    if (w.action === 'insert') {
      await c.query(
        `INSERT INTO users (id, email, name, role, password_hash, source, token_version, created_at, updated_at, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)`,
        [u.id, u.email, u.name, u.role, u.passwordHash, u.source, u.tokenVersion, u.createdAt, u.updatedAt],
      );
      return;
    }
    const res = await c.query(
      `UPDATE users SET email = $2, name = $3, role = $4, password_hash = $5, token_version = $6, updated_at = $7,
      version = version + 1 WHERE id = $1 AND version = $8`,
      [u.id, u.email, u.name, u.role, u.passwordHash, u.tokenVersion, u.updatedAt, u.version],
    );
    return expectWritten(res.rowCount ?? 0, w.table, u.id, u.version);
  }
  const k = w.row;
  if (w.action === 'insert') {
    await c.query(
      `INSERT INTO api_keys (id, name, kind, role, environment, prefix, hash, created_by, created_at, last_used_at, revoked_at, allowed_metrics, version)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)`,
      [
        k.id,
        k.name,
        k.kind,
        k.role,
        k.environment,
        k.prefix,
        k.hash,
        k.createdBy,
        k.createdAt,
        k.lastUsedAt,
        k.revokedAt,
        allowedMetricsColumn(k.allowedMetrics),
      ],
    );
    return;
  }
  const res = await c.query(
    'UPDATE api_keys SET name = $2, role = $3, revoked_at = $4, version = version + 1 WHERE id = $1 AND version = $5',
    [k.id, k.name, k.role, k.revokedAt, k.version],
  );
  expectWritten(res.rowCount ?? 0, w.table, k.id, k.version);
}
