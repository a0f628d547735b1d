import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { z } from 'zod';
import type { EvaluationContext } from '@switchyard/core';
import { configEtag, etagMatches, LAST_EVENT_ID_PARAM, resumeVersion } from '@switchyard/core/protocol';
import { can } from '../auth/permissions';
import { ApiError, forbidden } from '../errors';
import type { AppEnv } from '../http/app-env';
import { readBodyText } from '../http/read-body';
import { MAX_JSON_DEPTH, parseJsonBody, route, tooDeep, type RouteDef } from '../http/route';
import type { ServerContext } from '../services/context';
import { admitEvents } from '../services/events/event-admission';
import { MAX_EVENTS_PER_BATCH, validateBatch } from '../services/events/event-validation';
import { evaluateForWire } from '../services/config/stream-hub';

const eventDoc = z.object({
  id: z.string().describe('client-made unique id; a resent id is counted once'),
  type: z.enum(['exposure', 'track']),
  key: z.string(),
  unit_id: z.string(),
  experiment: z.string().optional(),
  variant: z.string().optional(),
  value: z.number().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  timestamp: z.union([z.string(), z.number()]).describe('ISO 8601 or epoch milliseconds'),
});
const eventsBodyDoc = z.object({ events: z.array(eventDoc).max(1000) }).meta({ id: 'EventBatch' });

const contextSchema = z
  .record(z.string(), z.unknown())
  .meta({ id: 'EvaluationContext', description: 'key identifies the unit; other attributes feed targeting' });
const evaluateBodyDoc = z.strictObject({ context: contextSchema }).meta({ id: 'EvaluateInput' });

/**
 * Reads `{context}` by hand rather than through zod: a context is any JSON object, taken as
 * parsed (zod would copy it and drop an own `__proto__` attribute), exactly as core sees it.
 */
async function readContext(c: Context<AppEnv>): Promise<EvaluationContext> {
  const raw = parseJsonBody(await readBodyText(c));
  const context = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as { context?: unknown }).context : undefined;
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new ApiError('VALIDATION_ERROR', 'the body must be {"context": {...}}', [{ path: 'context', message: 'must be an object' }]);
  }
  return context as EvaluationContext;
}

/** Parses a context passed on a query string: JSON, or base64url-encoded JSON (what EventSource URLs carry best). */
export function contextFromQuery(raw: string | undefined): EvaluationContext {
  if (raw === undefined || raw === '')
    throw new ApiError('VALIDATION_ERROR', 'a client-key stream needs ?context=<JSON or base64url JSON>', [
      { path: 'context', message: 'required' },
    ]);
  for (const text of [raw, Buffer.from(raw, 'base64url').toString('utf8')]) {
    let v: unknown;
    try {
      v = JSON.parse(text) as unknown;
    } catch {
      continue; // try the next encoding
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue;
    // Checked before the stream opens: past this point a failure could only end a 200 stream.
    if (tooDeep(v))
      throw new ApiError('VALIDATION_ERROR', `context nests deeper than ${MAX_JSON_DEPTH} levels`, [
        { path: 'context', message: 'too deep' },
      ]);
    return v as EvaluationContext;
  }
  throw new ApiError('VALIDATION_ERROR', 'context must be a JSON object', [{ path: 'context', message: 'not a JSON object' }]);
}

function corsHeaders(c: Context<AppEnv>, origins: string[]): Record<string, string> {
  const origin = c.req.header('origin');
  if (origins.includes('*')) return { 'Access-Control-Allow-Origin': '*' };
  if (origin !== undefined && origins.includes(origin)) return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  return {};
}

/** The ETag of a config version (the protocol's format). */
export const etagOf = configEtag;

/**
 * Accepts an events batch for an already-authorized caller: 202 only after the commit. Events are
 * stored under the request's environment (a key's own).
 */
export async function ingestEvents(ctx: ServerContext, c: Context<AppEnv>): Promise<{ status: number; data: unknown }> {
  // validateBatch bounds the nesting of each event's properties, the only part anything recurses into.
  const raw = parseJsonBody(await readBodyText(c), false);
  // Who sent the batch is kept on each event, so that a key sending forged events can be found.
  const actor = c.get('actor');
  const sentBy = actor === undefined || actor === null ? null : `${actor.type}:${actor.id}`;
  const checked = validateBatch(raw, ctx.now(), ctx.options.maxEventValue, { environment: c.get('environment'), sentBy });
  if ('details' in checked) {
    if (checked.tooMany === true)
      throw new ApiError('PAYLOAD_TOO_LARGE', `a batch may carry at most ${MAX_EVENTS_PER_BATCH} events`, checked.details);
    throw new ApiError('VALIDATION_ERROR', `${checked.details.length} event(s) are invalid; nothing was stored`, checked.details);
  }
  const admitted =
    ctx.eventAdmission === undefined
      ? { events: checked.events, refused: [] }
      : await admitEvents(ctx.eventAdmission, actor, checked.events, ctx.now());
  const result = await ctx.events.write(admitted.events);
  // Refusals are per event and final (not worth resending): the batch's other events are stored.
  return { status: 202, data: admitted.refused.length === 0 ? result : { ...result, rejected: admitted.refused } };
}

/** `/sdk/v1`: what SDKs talk to. */
export function sdkRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  return [
    route({
      method: 'get',
      path: '/config',
      summary: 'The whole config document (server keys), with ETag / If-None-Match',
      tag: 'SDK',
      auth: 'sdk',
      success: { status: 200, description: 'The config document {schema_version, version, flags, segments, experiments}' },
      handler: async (c) => {
        const actor = c.get('actor')!;
        if (actor.type !== 'api_key' || actor.kind !== 'server')
          throw forbidden('the config document needs a server key; client keys use POST /sdk/v1/evaluate');
        const { config, hub } = await ctx.environments.get(c.get('environment'));
        const doc = config.document;
        const etag = etagOf(doc.version);
        const inm = c.req.header('if-none-match');
        if (etagMatches(inm, etag)) {
          return c.body(null, 304, { ETag: etag, 'Cache-Control': 'no-cache' });
        }
        return c.body(hub.documentJson(), 200, {
          ETag: etag,
          'Content-Type': 'application/json; charset=utf-8',
          'Cache-Control': 'no-cache',
        });
      },
    }),
    route({
      method: 'get',
      path: '/stream',
      summary: 'SSE: config stream (server key) or re-evaluated results for ?context= (client key)',
      tag: 'SDK',
      auth: 'sdk',
      success: { status: 200, description: 'text/event-stream: put, patch, heartbeat (a named event, plus a comment for older clients)' },
      handler: async (c) => {
        const actor = c.get('actor')!;
        const context = actor.type === 'api_key' && actor.kind === 'client' ? contextFromQuery(c.req.query('context')) : null;
        const { hub } = await ctx.environments.get(c.get('environment'));
        const res = (c.env as { outgoing: ServerResponse }).outgoing;
        const last = resumeVersion(c.req.header('last-event-id') ?? c.req.query(LAST_EVENT_ID_PARAM));
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache, no-transform',
          Connection: 'keep-alive',
          'X-Accel-Buffering': 'no',
          'X-Request-ID': c.get('requestId'),
          ...corsHeaders(c, ctx.options.corsOrigins),
        });
        res.socket?.setNoDelay(true);
        const keyId = actor.type === 'api_key' ? actor.id : null;
        if (context === null) hub.openConfigStream(res, last, keyId);
        else hub.openRemoteStream(res, context, keyId);
        return RESPONSE_ALREADY_SENT;
      },
    }),
    route({
      method: 'post',
      path: '/evaluate',
      summary: 'Every flag evaluated for a context (client or server keys); never rules',
      tag: 'SDK',
      auth: 'sdk',
      docBody: evaluateBodyDoc,
      success: { status: 200, description: '{version, flags: {<key>: {value, variant, reason}}}' },
      handler: async (c) => {
        const context = await readContext(c);
        const { config } = await ctx.environments.get(c.get('environment'));
        return { data: { version: config.version, flags: evaluateForWire(config, context) } };
      },
    }),
    route({
      method: 'post',
      path: '/events',
      summary: 'Ingest a batch of exposure/track events; 202 after the commit',
      tag: 'Events',
      auth: 'sdk',
      docBody: eventsBodyDoc,
      success: {
        status: 202,
        description:
          '{accepted, duplicates, rejected?}: rejected lists, by index, events a client key may not send (a metric outside its allowed_metrics, or a new unit over its per-minute limit); the others are stored',
      },
      errors: ['PAYLOAD_TOO_LARGE'],
      handler: async (c) => ingestEvents(ctx, c),
    }),
  ];
}

/** `POST /api/v1/events/batch`: the same ingestion for users, management keys and server keys. */
export function eventBatchRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  return [
    route({
      method: 'post',
      path: '/events/batch',
      summary: 'Ingest a batch of events (server keys, EXPERIMENTER and ADMIN)',
      tag: 'Events',
      auth: 'any',
      docBody: eventsBodyDoc,
      success: { status: 202, description: '{accepted, duplicates}' },
      errors: ['PAYLOAD_TOO_LARGE'],
      handler: async (c) => {
        if (!can(c.get('actor')!, 'create', 'events'))
          throw forbidden('sending events needs a server key or an EXPERIMENTER or ADMIN role');
        return ingestEvents(ctx, c);
      },
    }),
  ];
}
