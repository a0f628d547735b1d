import type { AuditFilter, AuditRow, Page, ResourceFilter, ResourceKind, ResourceRow } from '../types';
import { page, toAudit, toResource, type Row } from '../rows';

/**
 * The filtered, paged listings on PostgreSQL: resources (oldest first by `seq`) and the audit
 * log (newest first), each page one row longer than asked to tell whether another follows.
 *
 * @example
 * ```ts
 * const { listResources } = postgresListings(q);
 * const flags = await listResources('flag', { limit: 50 });
 * ```
 */
export function postgresListings(q: (sql: string, params?: unknown[]) => Promise<Row[]>) {
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

  return { listResources, listAudit };
}
