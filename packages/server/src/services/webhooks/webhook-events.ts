import { randomBytes } from 'node:crypto';
import type { AuditRecord } from '../../store/types';
import type { OutboxEvent } from '../../store/webhook-rows';

/** Every event type a webhook can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'flag.created',
  'flag.updated',
  'flag.deleted',
  'experiment.status_changed',
  'experiment.auto_paused',
  'experiment.srm_detected',
  'experiment.safety_check_failed',
  'rollout.started',
  'rollout.stage_changed',
  'rollout.paused',
  'rollout.rolled_back',
  'rollout.completed',
  'rollout.stopped',
] as const;

/** One of {@link WEBHOOK_EVENT_TYPES}. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What an event says; `environment` is the one it happened in (`null` when it spans several). */
export type WebhookEventData = { environment: string | null } & Record<string, unknown>;

/** An event about to be committed with the change that caused it. */
export interface WebhookEventInput<T extends WebhookEventType = WebhookEventType> {
  type: T;
  data: WebhookEventData;
}

/**
 * Declares a webhook event for a mutation. Pass it in `events` of `commitMutation` so that it is
 * written to the outbox in the same transaction as the change (never sent for a change that
 * rolled back, never lost for one that committed), or to {@link emitWebhookEvents} when the
 * event goes with no write.
 *
 * @example
 * ```ts
 * await commitMutation(ctx, origin, {
 *   writes: [{ table: 'resources', action: 'update', row: next }],
 *   audit: { action: 'rollout.advance', resourceType: 'rollout', resourceId: id, resourceKey: flag, before, after },
 *   events: [emit('rollout.stage_changed', { environment: 'production', flag: 'new-checkout', stage: 2, percent: 25 })],
 * });
 * ```
 */
export function emit<T extends WebhookEventType>(type: T, data: WebhookEventData): WebhookEventInput<T> {
  return { type, data };
}

/** A `webhook-id`: one per event, the same on every attempt, so receivers can drop repeats. */
export const newMessageId = (): string => `msg_${randomBytes(16).toString('base64url')}`;

/** The outbox entry of an event at `nowMs`: the body `{type, timestamp, data}` every subscriber receives. */
export function toOutbox(event: WebhookEventInput, nowMs: number): OutboxEvent {
  const timestamp = new Date(nowMs).toISOString();
  return {
    id: newMessageId(),
    type: event.type,
    environment: event.data.environment,
    payload: JSON.stringify({ type: event.type, timestamp, data: event.data }),
    createdAt: timestamp,
    dueAt: nowMs,
  };
}

type AuditLike = Pick<AuditRecord, 'action' | 'resourceType' | 'resourceId' | 'resourceKey' | 'before' | 'after' | 'environment'> & {
  actorType: AuditRecord['actorType'];
  actorId: string | null;
  actorLabel: string | null;
};

/** The flag and experiment changes every mutation already records, as webhook events. */
export function eventsFromAudit(audit: AuditLike, changedEnvironments: readonly string[]): WebhookEventInput[] {
  const actor = { type: audit.actorType, id: audit.actorId, label: audit.actorLabel };
  if (audit.resourceType === 'feature-flag') {
    const base = {
      environment: audit.environment ?? null,
      environments: changedEnvironments,
      actor,
      key: audit.resourceKey,
      id: audit.resourceId,
    };
    if (audit.action === 'feature-flag.create') return [emit('flag.created', { ...base, flag: audit.after })];
    if (audit.action === 'feature-flag.delete') return [emit('flag.deleted', { ...base, previous: audit.before })];
    return [emit('flag.updated', { ...base, action: audit.action, flag: audit.after, previous: audit.before })];
  }
  if (audit.resourceType !== 'experiment') return [];
  const before = audit.before as { status?: string } | null;
  const after = audit.after as { status?: string; pause_reason?: { rule?: string } } | null;
  const base = { environment: audit.environment ?? null, actor, key: audit.resourceKey, id: audit.resourceId };
  const out: WebhookEventInput[] = [];
  if (before !== null && after !== null && before.status !== after.status)
    out.push(emit('experiment.status_changed', { ...base, action: audit.action, from: before.status, to: after.status }));
  if (audit.action === 'experiment.auto_pause') {
    const reason = after?.pause_reason ?? null;
    out.push(emit('experiment.auto_paused', { ...base, reason }));
    if (reason?.rule === 'srm') out.push(emit('experiment.srm_detected', { ...base, srm_action: 'pause', details: reason }));
  }
  if (audit.action === 'experiment.srm_warning')
    out.push(emit('experiment.srm_detected', { ...base, srm_action: 'warn', details: audit.after }));
  return out;
}
