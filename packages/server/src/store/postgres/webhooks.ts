import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { page, type Row } from '../rows';
import {
  deliveryParams,
  subscribes,
  toDelivery,
  toWebhook,
  webhookParams,
  type OutboxEvent,
  type WebhookReads,
  type WebhookWriteOp,
} from '../webhook-rows';

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * One webhook write inside a PostgreSQL unit of work's transaction.
 *
 * @example
 * ```ts
 * await postgresWebhookWrite(client, { table: 'webhooks', action: 'delete', id });
 * ```
 */
export async function postgresWebhookWrite(c: Queryable, w: WebhookWriteOp): Promise<void> {
  if (w.table === 'webhook_deliveries') {
    const d = deliveryParams(w.row);
    await c.query(
      `UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_attempt_at = $5, response_status = $6,
      response_excerpt = $7, last_error = $8 WHERE id = $1`,
      [d.id, d.status, d.attempts, d.nextAttemptAt, d.lastAttemptAt, d.responseStatus, d.responseExcerpt, d.lastError],
    );
    return;
  }
  switch (w.action) {
    case 'insert': {
      const p = webhookParams(w.row);
      await c.query(
        `INSERT INTO webhooks (id, url, events, enabled, description, secret, version, created_by, created_at, updated_at, disabled_reason)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [p.id, p.url, p.events, p.enabled, p.description, p.secret, p.version, p.createdBy, p.createdAt, p.updatedAt, p.disabledReason],
      );
      return;
    }
    case 'update': {
      const p = webhookParams(w.row);
      // Enabling a disabled webhook starts its failure streak over.
      await c.query(
        `UPDATE webhooks SET url = $2, events = $3, enabled = $4::smallint, description = $5, secret = $6, version = $7, updated_at = $8,
        disabled_reason = $9, failure_streak = CASE WHEN $4::smallint = 1 AND enabled = 0 THEN 0 ELSE failure_streak END,
        failing_since = CASE WHEN $4::smallint = 1 AND enabled = 0 THEN NULL ELSE failing_since END WHERE id = $1`,
        [p.id, p.url, p.events, p.enabled, p.description, p.secret, p.version, p.updatedAt, p.disabledReason],
      );
      return;
    }
    case 'delete':
      await c.query('DELETE FROM webhook_deliveries WHERE webhook_id = $1', [w.id]);
      await c.query('DELETE FROM webhooks WHERE id = $1', [w.id]);
      return;
    case 'record-attempt':
      if (w.ok) await c.query('UPDATE webhooks SET failure_streak = 0, failing_since = NULL WHERE id = $1', [w.id]);
      else
        await c.query(
          'UPDATE webhooks SET failure_streak = failure_streak + 1, failing_since = COALESCE(failing_since, $2) WHERE id = $1',
          [w.id, w.at],
        );
      return;
    case 'auto-disable':
      await c.query('UPDATE webhooks SET enabled = 0, disabled_reason = $2, version = version + 1, updated_at = $3 WHERE id = $1', [
        w.id,
        w.reason,
        w.at,
      ]);
      return;
  }
}

/** The outbox, inside the unit of work's transaction: one pending delivery per event and enabled subscriber. */
export async function postgresOutbox(c: Queryable, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  const hooks = ((await c.query('SELECT * FROM webhooks WHERE enabled = 1')).rows as Row[]).map(toWebhook);
  for (const e of events)
    for (const h of hooks)
      if (subscribes(h.events, e.type))
        await c.query(
          `INSERT INTO webhook_deliveries (id, webhook_id, message_id, event_type, environment, payload, status, attempts, next_attempt_at,
          created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8)`,
          [randomUUID(), h.id, e.id, e.type, e.environment, e.payload, e.dueAt, e.createdAt],
        );
}

/**
 * Webhook reads of the PostgreSQL store. A claim takes due rows with `FOR UPDATE SKIP LOCKED`
 * and moves their next attempt past the lease in one statement, so two instances never claim the
 * same delivery.
 */
export function postgresWebhookReads(q: (sql: string, params?: unknown[]) => Promise<Row[]>): WebhookReads {
  const one = async <T>(sql: string, params: unknown[], map: (r: Row) => T): Promise<T | null> => {
    const rows = await q(sql, params);
    return rows[0] === undefined ? null : map(rows[0]);
  };
  return {
    getWebhook: (id) => one('SELECT * FROM webhooks WHERE id = $1', [id], toWebhook),
    listWebhooks: async (after, limit) =>
      page((await q('SELECT * FROM webhooks WHERE seq > $1 ORDER BY seq LIMIT $2', [after ?? 0, limit + 1])).map(toWebhook), limit),
    getWebhookDelivery: (webhookId, id) =>
      one('SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2', [webhookId, id], toDelivery),
    listWebhookDeliveries: async (webhookId, f) => {
      const before = f.before ?? Number.MAX_SAFE_INTEGER;
      const rows =
        f.status === undefined
          ? await q('SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3', [
              webhookId,
              before,
              f.limit + 1,
            ])
          : await q('SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND status = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4', [
              webhookId,
              f.status,
              before,
              f.limit + 1,
            ]);
      return page(rows.map(toDelivery), f.limit);
    },
    claimWebhookDeliveries: async (nowMs, leaseMs, limit) => {
      const rows = await q(
        `UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id IN (
          SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled = 1
          WHERE d.status = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.seq LIMIT $3 FOR UPDATE OF d SKIP LOCKED)
        RETURNING *`,
        [nowMs, nowMs + leaseMs, limit],
      );
      return rows.map(toDelivery).sort((a, b) => a.seq - b.seq);
    },
  };
}
