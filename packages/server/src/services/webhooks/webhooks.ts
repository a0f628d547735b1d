import { randomBytes, randomUUID } from 'node:crypto';
import { ownerIdOf } from '../../auth/actor';
import { conflict, forbidden, invalid, notFound } from '../../errors';
import type { WebhookDeliveryRow, WebhookRow } from '../../store/webhook-rows';
import { commitMutation, type RequestOrigin, type ServerContext } from '../context';
import { checkTarget, WebhookTargetError } from './webhook-target';

/** What a create or update may set. */
export interface WebhookInput {
  url?: string | undefined;
  events?: string[] | undefined;
  enabled?: boolean | undefined;
  description?: string | null | undefined;
}

/**
 * A new signing secret in the Standard Webhooks form: `whsec_` and the base64 of 32 random bytes.
 *
 * @example
 * ```ts
 * newWebhookSecret(); // 'whsec_3q2+7w...'
 * ```
 */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** What the audit log shows of a webhook: never its secret. */
const auditView = (w: WebhookRow) => ({
  url: w.url,
  events: w.events,
  enabled: w.enabled,
  description: w.description,
  disabled_reason: w.disabledReason,
});

/**
 * Webhook subscriptions and their deliveries: ADMIN only, every change audited. A target URL is
 * checked when saved (form, and unless private targets are allowed, every address it resolves
 * to) and again at every attempt.
 */
export class WebhookService {
  constructor(private readonly ctx: ServerContext) {}

  private assertAdmin(origin: RequestOrigin): void {
    if (origin.actor?.role !== 'ADMIN') throw forbidden('only an ADMIN may manage webhooks');
  }

  private async checkUrl(url: string): Promise<void> {
    try {
      await checkTarget(url, this.ctx.options.webhookAllowPrivate);
    } catch (e) {
      if (!(e instanceof WebhookTargetError)) throw e;
      throw invalid('the webhook URL cannot be used', [{ path: 'url', message: `${url} ${e.message}` }]);
    }
  }

  async list(origin: RequestOrigin, after: number | undefined, limit: number) {
    this.assertAdmin(origin);
    return this.ctx.store.listWebhooks(after, limit);
  }

  async get(origin: RequestOrigin, id: string): Promise<WebhookRow> {
    this.assertAdmin(origin);
    const row = await this.ctx.store.getWebhook(id);
    if (row === null) throw notFound('webhook', id);
    return row;
  }

  async create(origin: RequestOrigin, input: WebhookInput & { url: string; events: string[] }): Promise<WebhookRow> {
    this.assertAdmin(origin);
    await this.checkUrl(input.url);
    const at = new Date(this.ctx.now()).toISOString();
    const row: WebhookRow = {
      seq: 0,
      id: randomUUID(),
      url: input.url,
      events: [...new Set(input.events)],
      enabled: input.enabled ?? true,
      description: input.description ?? null,
      secret: newWebhookSecret(),
      version: 1,
      createdBy: ownerIdOf(origin.actor!),
      createdAt: at,
      updatedAt: at,
      failureStreak: 0,
      failingSince: null,
      disabledReason: null,
    };
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'webhooks', action: 'insert', row }],
      audit: this.audit('webhook.create', row, null, auditView(row)),
    });
    return row;
  }

  async update(origin: RequestOrigin, id: string, input: WebhookInput): Promise<WebhookRow> {
    const row = await this.get(origin, id);
    if (input.url !== undefined && input.url !== row.url) await this.checkUrl(input.url);
    const enabled = input.enabled ?? row.enabled;
    const next: WebhookRow = {
      ...row,
      url: input.url ?? row.url,
      events: input.events === undefined ? row.events : [...new Set(input.events)],
      enabled,
      description: input.description === undefined ? row.description : input.description,
      // Enabled again by hand: the reason it was switched off no longer holds.
      disabledReason: enabled ? null : row.disabledReason,
      version: row.version + 1,
      updatedAt: new Date(this.ctx.now()).toISOString(),
    };
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'webhooks', action: 'update', row: next }],
      audit: this.audit('webhook.update', row, auditView(row), auditView(next)),
    });
    if (enabled && !row.enabled) this.ctx.pipeline.webhooksDue();
    return this.get(origin, id);
  }

  /** A new secret, returned once; deliveries are signed with it from now on. */
  async rotateSecret(origin: RequestOrigin, id: string): Promise<WebhookRow> {
    const row = await this.get(origin, id);
    const next: WebhookRow = {
      ...row,
      secret: newWebhookSecret(),
      version: row.version + 1,
      updatedAt: new Date(this.ctx.now()).toISOString(),
    };
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'webhooks', action: 'update', row: next }],
      audit: this.audit('webhook.rotate_secret', row, null, { secret_rotated: true }),
    });
    return next;
  }

  async remove(origin: RequestOrigin, id: string): Promise<void> {
    const row = await this.get(origin, id);
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'webhooks', action: 'delete', id: row.id }],
      audit: this.audit('webhook.delete', row, auditView(row), null),
    });
  }

  async delivery(origin: RequestOrigin, webhookId: string, deliveryId: string): Promise<WebhookDeliveryRow> {
    await this.get(origin, webhookId);
    const d = await this.ctx.store.getWebhookDelivery(webhookId, deliveryId);
    if (d === null) throw notFound('delivery', deliveryId);
    return d;
  }

  /**
   * Sends a delivery again, soon, with the same `webhook-id` (receivers that already have it
   * drop it). A delivery whose retry window is over gets this one attempt.
   */
  async redeliver(origin: RequestOrigin, webhookId: string, deliveryId: string): Promise<WebhookDeliveryRow> {
    const hook = await this.get(origin, webhookId);
    if (!hook.enabled) throw conflict('the webhook is disabled; enable it before redelivering', { webhook_id: webhookId });
    const d = await this.delivery(origin, webhookId, deliveryId);
    const next: WebhookDeliveryRow = { ...d, status: 'pending', nextAttemptAt: this.ctx.now() };
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'webhook_deliveries', action: 'update', row: next }],
      audit: this.audit('webhook.redeliver', hook, { delivery_id: d.id, status: d.status }, { delivery_id: d.id, status: 'pending' }),
    });
    this.ctx.pipeline.webhooksDue();
    return next;
  }

  private audit(action: string, row: WebhookRow, before: unknown, after: unknown) {
    return { action, resourceType: 'webhook', resourceId: row.id, resourceKey: null, before, after };
  }
}
