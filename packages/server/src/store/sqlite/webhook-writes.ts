import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { deliveryParams, subscribes, toWebhook, webhookParams, type OutboxEvent, type WebhookWriteOp } from '../webhook-rows';
import type { Row } from '../rows';

/**
 * The webhook part of a SQLite unit of work: subscription rows, attempt bookkeeping and the
 * outbox. Runs inside the commit's transaction on the writing connection.
 *
 * @example
 * ```ts
 * const hooks = sqliteWebhookWrites(db);
 * hooks.outbox([{ id: 'msg_1', type: 'flag.updated', environment: 'production', payload: '{}', createdAt, dueAt: Date.now() }]);
 * ```
 */
export function sqliteWebhookWrites(db: Database.Database) {
  const s = {
    insert: db.prepare(`INSERT INTO webhooks (id, url, events, enabled, description, secret, version, created_by, created_at, updated_at,
      disabled_reason) VALUES (@id, @url, @events, @enabled, @description, @secret, @version, @createdBy, @createdAt, @updatedAt,
      @disabledReason)`),
    update: db.prepare(`UPDATE webhooks SET url = @url, events = @events, enabled = @enabled, description = @description,
      secret = @secret, version = @version, updated_at = @updatedAt, disabled_reason = @disabledReason,
      failure_streak = CASE WHEN @enabled = 1 AND enabled = 0 THEN 0 ELSE failure_streak END,
      failing_since = CASE WHEN @enabled = 1 AND enabled = 0 THEN NULL ELSE failing_since END WHERE id = @id`),
    remove: db.prepare('DELETE FROM webhooks WHERE id = ?'),
    removeDeliveries: db.prepare('DELETE FROM webhook_deliveries WHERE webhook_id = ?'),
    succeeded: db.prepare('UPDATE webhooks SET failure_streak = 0, failing_since = NULL WHERE id = ?'),
    failed: db.prepare('UPDATE webhooks SET failure_streak = failure_streak + 1, failing_since = COALESCE(failing_since, ?) WHERE id = ?'),
    disable: db.prepare('UPDATE webhooks SET enabled = 0, disabled_reason = ?, version = version + 1, updated_at = ? WHERE id = ?'),
    updateDelivery: db.prepare(`UPDATE webhook_deliveries SET status = @status, attempts = @attempts, next_attempt_at = @nextAttemptAt,
      last_attempt_at = @lastAttemptAt, response_status = @responseStatus, response_excerpt = @responseExcerpt, last_error = @lastError
      WHERE id = @id`),
    enabled: db.prepare('SELECT * FROM webhooks WHERE enabled = 1'),
    insertDelivery: db.prepare(`INSERT INTO webhook_deliveries (id, webhook_id, message_id, event_type, environment, payload, status,
      attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`),
  };

  return {
    write(w: WebhookWriteOp): void {
      if (w.table === 'webhook_deliveries') {
        s.updateDelivery.run(deliveryParams(w.row));
        return;
      }
      switch (w.action) {
        case 'insert':
          s.insert.run(webhookParams(w.row));
          break;
        case 'update':
          s.update.run(webhookParams(w.row));
          break;
        case 'delete':
          s.removeDeliveries.run(w.id);
          s.remove.run(w.id);
          break;
        case 'record-attempt':
          if (w.ok) s.succeeded.run(w.id);
          else s.failed.run(w.at, w.id);
          break;
        case 'auto-disable':
          s.disable.run(w.reason, w.at, w.id);
          break;
      }
    },
    /** One pending delivery per event and enabled subscriber, read in this same transaction. */
    outbox(events: readonly OutboxEvent[]): void {
      if (events.length === 0) return;
      const hooks = (s.enabled.all() as Row[]).map(toWebhook);
      for (const e of events)
        for (const h of hooks)
          if (subscribes(h.events, e.type))
            s.insertDelivery.run(randomUUID(), h.id, e.id, e.type, e.environment, e.payload, e.dueAt, e.createdAt);
    },
  };
}
