import type { CommitResult, UnitOfWork } from '../types';
import { auditsOf, lastAdminError } from '../types';
import { json, num, type Row } from '../rows';
import { writeRow } from './write-row';
import { postgresOutbox, postgresWebhookWrite } from './webhooks';
import { CONFIG_LOCK, LOCK_SPACE, USERS_LOCK } from './locks';
import type { Transaction } from './transaction';

/**
 * `Store.commit()` on PostgreSQL: one transaction for the unit's row writes, webhook outbox
 * rows, config versions and audit records. When it carries a config patch it first takes a
 * transaction-level advisory lock, so config versions commit in the order they are assigned:
 * a reader never sees version N+1 before N. A rolled-back commit can leave a gap;
 * `ConfigState.apply` reloads on gaps.
 *
 * @example
 * ```ts
 * const commit = postgresCommit(transactionRunner(pool));
 * const { versions } = await commit({ writes: [], configPatches: { production: patch } });
 * ```
 */
export function postgresCommit(tx: Transaction): (work: UnitOfWork) => Promise<CommitResult> {
  return (work) =>
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
}
