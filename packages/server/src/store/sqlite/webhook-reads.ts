import type Database from 'better-sqlite3';
import { page, type Row } from '../rows';
import type { UnitOfWork } from '../types';
import { toDelivery, toWebhook, type WebhookReads } from '../webhook-rows';

/**
 * Webhook reads of the SQLite store, on its reading connection. A claim is a read followed by a
 * unit of work that moves each claimed delivery's next attempt past the lease: one process owns
 * a SQLite file, and its one delivery worker never runs two passes at once.
 *
 * @example
 * ```ts
 * const reads = sqliteWebhookReads(db, (work) => writer.commit(work));
 * const due = await reads.claimWebhookDeliveries(Date.now(), 60_000, 20);
 * ```
 */
export function sqliteWebhookReads(db: Database.Database, commit: (work: UnitOfWork) => Promise<unknown>): WebhookReads {
  const s = {
    byId: db.prepare('SELECT * FROM webhooks WHERE id = ?'),
    list: db.prepare('SELECT * FROM webhooks WHERE seq > ? ORDER BY seq LIMIT ?'),
    delivery: db.prepare('SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND id = ?'),
    deliveries: db.prepare('SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?'),
    deliveriesByStatus: db.prepare(
      'SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
    ),
    due: db.prepare(`SELECT d.* FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled = 1
      WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.seq LIMIT ?`),
  };
  return {
    getWebhook: async (id) => {
      const r = s.byId.get(id) as Row | undefined;
      return r === undefined ? null : toWebhook(r);
    },
    listWebhooks: async (after, limit) => page((s.list.all(after ?? 0, limit + 1) as Row[]).map(toWebhook), limit),
    getWebhookDelivery: async (webhookId, id) => {
      const r = s.delivery.get(webhookId, id) as Row | undefined;
      return r === undefined ? null : toDelivery(r);
    },
    listWebhookDeliveries: async (webhookId, f) => {
      const before = f.before ?? Number.MAX_SAFE_INTEGER;
      const rows =
        f.status === undefined
          ? s.deliveries.all(webhookId, before, f.limit + 1)
          : s.deliveriesByStatus.all(webhookId, f.status, before, f.limit + 1);
      return page((rows as Row[]).map(toDelivery), f.limit);
    },
    claimWebhookDeliveries: async (nowMs, leaseMs, limit) => {
      const due = (s.due.all(nowMs, limit) as Row[]).map(toDelivery);
      if (due.length === 0) return [];
      await commit({
        writes: due.map((d) => ({ table: 'webhook_deliveries', action: 'update', row: { ...d, nextAttemptAt: nowMs + leaseMs } })),
      });
      return due;
    },
  };
}
