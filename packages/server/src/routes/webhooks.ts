import { z } from 'zod';
import { resource, type ResourceObject } from '../http/envelope';
import { afterOf, pageMeta, pageQuery } from '../http/pagination';
import { route, type RouteDef } from '../http/route';
import { originOf, type ServerContext } from '../services/context';
import { WEBHOOK_EVENT_TYPES } from '../services/webhooks/webhook-events';
import { WebhookService } from '../services/webhooks/webhooks';
import { DELIVERY_STATUSES, type WebhookDeliveryRow, type WebhookRow } from '../store/webhook-rows';

const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length * 2)
  .describe('event types this webhook receives');
const fields = {
  url: z.string().min(1).max(2048).describe('http(s) URL the deliveries are POSTed to; private and loopback addresses are refused'),
  events: eventTypes,
  enabled: z.boolean().optional().describe('default true'),
  description: z.string().max(1024).nullable().optional(),
};
const createBody = z.strictObject(fields).meta({ id: 'WebhookInput' });
const updateBody = z
  .strictObject({ url: fields.url.optional(), events: eventTypes.optional(), enabled: fields.enabled, description: fields.description })
  .meta({ id: 'WebhookUpdate' });

const webhookAttributes = z.object({
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  enabled: z.boolean(),
  description: z.string().nullable(),
  version: z.number().int(),
  failure_streak: z.number().int().describe('failed attempts in a row'),
  failing_since: z.string().nullable(),
  disabled_reason: z.string().nullable().describe('set when the server disabled the webhook after a long failure streak'),
  created_at: z.string(),
  updated_at: z.string(),
  secret: z.string().optional().describe('`whsec_` + base64 signing secret: only in the responses to creation and secret rotation'),
});
const webhookObject = z
  .object({ id: z.string(), type: z.literal('webhook'), attributes: webhookAttributes, relationships: z.object({}).optional() })
  .meta({ id: 'Webhook' });
const deliveryObject = z
  .object({
    id: z.string(),
    type: z.literal('webhook-delivery'),
    attributes: z.object({
      webhook_id: z.string(),
      message_id: z.string().describe('the `webhook-id` header: one per event, the same on every attempt'),
      event_type: z.string(),
      environment: z.string().nullable(),
      status: z.enum(DELIVERY_STATUSES),
      attempts: z.number().int(),
      next_attempt_at: z.string().nullable(),
      last_attempt_at: z.string().nullable(),
      response_status: z.number().int().nullable().describe('HTTP status of the last response; null when none came'),
      response_excerpt: z.string().nullable().describe('the first 512 bytes of the last response body'),
      last_error: z.string().nullable(),
      created_at: z.string(),
      payload: z.unknown().describe('the body as sent: {type, timestamp, data}'),
    }),
  })
  .meta({ id: 'WebhookDelivery' });
const one = (item: z.ZodType) => z.object({ data: item });
const many = (item: z.ZodType) => z.object({ data: z.array(item), meta: z.object({ pagination: z.unknown() }) });

/** A webhook as the API serves it; the secret only when `withSecret`. */
export function webhookResource(w: WebhookRow, withSecret = false): ResourceObject {
  return resource(
    'webhook',
    w.id,
    {
      url: w.url,
      events: w.events,
      enabled: w.enabled,
      description: w.description,
      version: w.version,
      failure_streak: w.failureStreak,
      failing_since: w.failingSince,
      disabled_reason: w.disabledReason,
      created_at: w.createdAt,
      updated_at: w.updatedAt,
      ...(withSecret ? { secret: w.secret } : {}),
    },
    w.createdBy,
  );
}

/** A delivery as the API serves it. */
export function deliveryResource(d: WebhookDeliveryRow): ResourceObject {
  return resource('webhook-delivery', d.id, {
    webhook_id: d.webhookId,
    message_id: d.messageId,
    event_type: d.eventType,
    environment: d.environment,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.nextAttemptAt === null ? null : new Date(d.nextAttemptAt).toISOString(),
    last_attempt_at: d.lastAttemptAt,
    response_status: d.responseStatus,
    response_excerpt: d.responseExcerpt,
    last_error: d.lastError,
    created_at: d.createdAt,
    payload: JSON.parse(d.payload) as unknown,
  });
}

const deliveryQuery = pageQuery.extend({ status: z.enum(DELIVERY_STATUSES).optional() });

/** `/webhooks`: subscriptions, their deliveries and redelivery; ADMIN only. */
export function webhookRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const service = new WebhookService(ctx);
  const tag = 'Webhooks';
  return [
    route({
      method: 'get',
      path: '/webhooks',
      summary: 'List webhooks (ADMIN)',
      tag,
      auth: 'user',
      query: pageQuery,
      success: { status: 200, description: 'A page of webhooks, oldest first (never their secrets)', schema: many(webhookObject) },
      handler: async (c, { query }) => {
        const page = await service.list(originOf(c), afterOf(query.cursor), query.limit);
        return { data: page.items.map((w) => webhookResource(w)), meta: pageMeta(page.nextCursor, query.limit) };
      },
    }),
    route({
      method: 'post',
      path: '/webhooks',
      summary: 'Create a webhook (ADMIN); the response is the only one with its signing secret',
      tag,
      auth: 'user',
      body: createBody,
      success: { status: 201, description: 'The webhook, with data.attributes.secret', schema: one(webhookObject) },
      handler: async (c, { body }) => ({ data: webhookResource(await service.create(originOf(c), body), true) }),
    }),
    route({
      method: 'get',
      path: '/webhooks/:id',
      summary: 'Get a webhook (ADMIN)',
      tag,
      auth: 'user',
      success: { status: 200, description: 'The webhook', schema: one(webhookObject) },
      handler: async (c, { params }) => ({ data: webhookResource(await service.get(originOf(c), params.id!)) }),
    }),
    route({
      method: 'patch',
      path: '/webhooks/:id',
      summary: 'Change the named fields of a webhook (ADMIN); enabling it again resets its failure streak',
      tag,
      auth: 'user',
      body: updateBody,
      success: { status: 200, description: 'The updated webhook', schema: one(webhookObject) },
      handler: async (c, { body, params }) => ({ data: webhookResource(await service.update(originOf(c), params.id!, body)) }),
    }),
    route({
      method: 'delete',
      path: '/webhooks/:id',
      summary: 'Delete a webhook and its deliveries (ADMIN)',
      tag,
      auth: 'user',
      success: { status: 204, description: 'Deleted' },
      handler: async (c, { params }) => {
        await service.remove(originOf(c), params.id!);
        return { status: 204, data: null };
      },
    }),
    route({
      method: 'post',
      path: '/webhooks/:id/rotate-secret',
      summary: 'Replace the signing secret (ADMIN); the response is the only one with the new secret',
      tag,
      auth: 'user',
      success: { status: 200, description: 'The webhook, with the new data.attributes.secret', schema: one(webhookObject) },
      handler: async (c, { params }) => ({ data: webhookResource(await service.rotateSecret(originOf(c), params.id!), true) }),
    }),
    route({
      method: 'get',
      path: '/webhooks/:id/deliveries',
      summary: "List a webhook's deliveries, newest first (ADMIN)",
      tag,
      auth: 'user',
      query: deliveryQuery,
      success: { status: 200, description: 'A page of deliveries', schema: many(deliveryObject) },
      handler: async (c, { params, query }) => {
        await service.get(originOf(c), params.id!);
        const before = afterOf(query.cursor);
        const page = await ctx.store.listWebhookDeliveries(params.id!, {
          ...(query.status !== undefined ? { status: query.status } : {}),
          ...(before !== undefined ? { before } : {}),
          limit: query.limit,
        });
        return { data: page.items.map(deliveryResource), meta: pageMeta(page.nextCursor, query.limit) };
      },
    }),
    route({
      method: 'get',
      path: '/webhooks/:id/deliveries/:delivery_id',
      summary: 'Get one delivery (ADMIN)',
      tag,
      auth: 'user',
      success: { status: 200, description: 'The delivery', schema: one(deliveryObject) },
      handler: async (c, { params }) => ({ data: deliveryResource(await service.delivery(originOf(c), params.id!, params.delivery_id!)) }),
    }),
    route({
      method: 'post',
      path: '/webhooks/:id/deliveries/:delivery_id/redeliver',
      summary: 'Send a delivery again with the same webhook-id (ADMIN)',
      tag,
      auth: 'user',
      success: { status: 202, description: 'The delivery, pending again', schema: one(deliveryObject) },
      errors: ['CONFLICT'],
      handler: async (c, { params }) => ({
        data: deliveryResource(await service.redeliver(originOf(c), params.id!, params.delivery_id!)),
      }),
    }),
  ];
}
