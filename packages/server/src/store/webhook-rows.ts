import { num, type Row } from './rows';
import type { Page } from './types';

/** A webhook subscription as stored. The secret is kept to sign deliveries; the API returns it only at creation. */
export interface WebhookRow {
  seq: number;
  id: string;
  url: string;
  /** Event types it receives. */
  events: string[];
  enabled: boolean;
  description: string | null;
  /** `whsec_` + base64 of the signing key (Standard Webhooks). */
  secret: string;
  version: number;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  /** Failed attempts in a row (any delivery); a success resets it. */
  failureStreak: number;
  /** When the current failure streak began; `null` after a success. */
  failingSince: string | null;
  /** Why the server disabled it by itself; `null` when it did not (or it was enabled again). */
  disabledReason: string | null;
}

/** Where a delivery stands. */
export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
/** One of {@link DELIVERY_STATUSES}. */
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event for one webhook: its outbox entry, attempt history summary and next attempt. */
export interface WebhookDeliveryRow {
  seq: number;
  id: string;
  webhookId: string;
  /** The `webhook-id` header: one per event, the same on every attempt. */
  messageId: string;
  eventType: string;
  environment: string | null;
  /** The JSON body exactly as it is signed and sent. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** Epoch ms of the next attempt while `pending`; `null` otherwise. */
  nextAttemptAt: number | null;
  lastAttemptAt: string | null;
  responseStatus: number | null;
  /** The first bytes of the last response body, for diagnosis; never the whole body. */
  responseExcerpt: string | null;
  lastError: string | null;
  createdAt: string;
}

/**
 * An event written to the outbox in the transaction of the change that caused it: the store
 * makes one pending delivery of it for every enabled webhook subscribed to its type.
 */
export interface OutboxEvent {
  /** The `webhook-id` of every delivery of this event. */
  id: string;
  type: string;
  environment: string | null;
  /** The JSON body: `{"type", "timestamp", "data"}`. */
  payload: string;
  createdAt: string;
  /** Epoch ms: when its deliveries are first due. */
  dueAt: number;
}

/** Writes of webhooks and their deliveries, part of a unit of work. */
export type WebhookWriteOp =
  | { table: 'webhooks'; action: 'insert' | 'update'; row: WebhookRow }
  /** Also deletes its deliveries. */
  | { table: 'webhooks'; action: 'delete'; id: string }
  /** Counts one attempt into the failure streak (or ends the streak), without touching what an ADMIN edits. */
  | { table: 'webhooks'; action: 'record-attempt'; id: string; ok: boolean; at: string }
  | { table: 'webhooks'; action: 'auto-disable'; id: string; reason: string; at: string }
  | { table: 'webhook_deliveries'; action: 'update'; row: WebhookDeliveryRow };

/** What the stores read of webhooks. */
export interface WebhookReads {
  getWebhook(id: string): Promise<WebhookRow | null>;
  listWebhooks(after: number | undefined, limit: number): Promise<Page<WebhookRow>>;
  getWebhookDelivery(webhookId: string, id: string): Promise<WebhookDeliveryRow | null>;
  /** Newest first; `before` is the cursor (a seq) of the previous page. */
  listWebhookDeliveries(
    webhookId: string,
    filter: { status?: DeliveryStatus; before?: number; limit: number },
  ): Promise<Page<WebhookDeliveryRow>>;
  /**
   * Pending deliveries of enabled webhooks due at `nowMs`, oldest first, each leased for
   * `leaseMs` (its next attempt moved to `nowMs + leaseMs`) so that no other pass or instance
   * takes it meanwhile; a sender that dies mid-attempt leaves it to be retried after the lease.
   */
  claimWebhookDeliveries(nowMs: number, leaseMs: number, limit: number): Promise<WebhookDeliveryRow[]>;
}

const bool = (v: unknown): boolean => v === true || v === 1 || v === '1';

export function toWebhook(r: Row): WebhookRow {
  return {
    seq: num(r.seq),
    id: r.id as string,
    url: r.url as string,
    events: JSON.parse(r.events as string) as string[],
    enabled: bool(r.enabled),
    description: (r.description as string | null) ?? null,
    secret: r.secret as string,
    version: num(r.version),
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    failureStreak: num(r.failure_streak ?? 0),
    failingSince: (r.failing_since as string | null) ?? null,
    disabledReason: (r.disabled_reason as string | null) ?? null,
  };
}

export function toDelivery(r: Row): WebhookDeliveryRow {
  return {
    seq: num(r.seq),
    id: r.id as string,
    webhookId: r.webhook_id as string,
    messageId: r.message_id as string,
    eventType: r.event_type as string,
    environment: (r.environment as string | null) ?? null,
    payload: r.payload as string,
    status: r.status as DeliveryStatus,
    attempts: num(r.attempts),
    nextAttemptAt: r.next_attempt_at === null || r.next_attempt_at === undefined ? null : num(r.next_attempt_at),
    lastAttemptAt: (r.last_attempt_at as string | null) ?? null,
    responseStatus: r.response_status === null || r.response_status === undefined ? null : num(r.response_status),
    responseExcerpt: (r.response_excerpt as string | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: r.created_at as string,
  };
}

/** Webhook columns in insert order, shared by both stores' statements. */
export const webhookParams = (w: WebhookRow) => ({
  id: w.id,
  url: w.url,
  events: JSON.stringify(w.events),
  enabled: w.enabled ? 1 : 0,
  description: w.description,
  secret: w.secret,
  version: w.version,
  createdBy: w.createdBy,
  createdAt: w.createdAt,
  updatedAt: w.updatedAt,
  disabledReason: w.disabledReason,
});

/** Delivery columns an update writes. */
export const deliveryParams = (d: WebhookDeliveryRow) => ({
  id: d.id,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt,
  lastAttemptAt: d.lastAttemptAt,
  responseStatus: d.responseStatus,
  responseExcerpt: d.responseExcerpt,
  lastError: d.lastError,
});

/** Whether a webhook subscribed to `events` receives an event of `type`. */
export const subscribes = (events: readonly string[], type: string): boolean => events.includes(type);
