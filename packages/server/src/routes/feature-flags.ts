import { z } from 'zod';
import { evaluate } from '@switchyard/core';
import { FLAG_STATE_FIELDS, flagSchema, keySchema, type FlagStateField } from '@switchyard/core/schema';
import { notFound } from '../errors';
import { route, type RouteDef } from '../http/route';
import { originOf, type ServerContext } from '../services/context';
import { toResource } from '../services/domain/kind-spec';
import { environmentKeys } from '../services/domain/environment-guards';
import { FlagService } from '../services/domain/flags';
import { resourceRoutes } from './resource-routes';
import { toWire } from '../services/config/wire';

const readOnly = {
  id: z.string().optional(),
  version: z.number().int().optional().describe('read-only (ignored); send If-Match to write only that version'),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  owner_id: z.string().optional(),
};

/** Core's field schemas (what the config document holds), each made optional for a request body. */
const fromCore = <K extends keyof typeof flagSchema.shape>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, flagSchema.shape[k].optional()])) as { [P in K]: z.ZodOptional<(typeof flagSchema.shape)[P]> };

/** Definition fields a body may carry: core's flag fields that are not per-environment state (`key` is handled apart). */
export const FLAG_BODY_DEFINITION_FIELDS = [
  'name',
  'description',
  'type',
  'variants',
  'bucket_by',
  'salt',
] as const satisfies readonly Exclude<keyof typeof flagSchema.shape, FlagStateField | 'key'>[];

/** One environment's state of a flag. */
const stateFields = fromCore(FLAG_STATE_FIELDS);
/** `PATCH /feature-flags/{key}/environments/{env}` body, and each value of `environments`. */
export const flagStateBody = z.strictObject(stateFields).meta({ id: 'FeatureFlagEnvironmentState' });

const flagFields = {
  ...fromCore(FLAG_BODY_DEFINITION_FIELDS),
  // Required at creation (the update body makes it optional again); keeps its place in the order above.
  type: flagSchema.shape.type,
  // Server-side only: organizes flags in the console and API, not part of the config document.
  tags: z.array(z.string().max(128)).max(50).optional(),
  ...stateFields,
  environments: z
    .record(z.string(), flagStateBody)
    .optional()
    .describe("per-environment state; the request environment's may instead be given at the top level, not both"),
  ...readOnly,
};

/** POST body: `key` and `type` required, everything else defaulted. */
export const flagCreateBody = z.strictObject({ key: keySchema, ...flagFields }).meta({ id: 'FeatureFlagInput' });
/** PATCH/PUT body. */
export const flagUpdateBody = z
  .strictObject({ key: keySchema.optional(), ...flagFields, type: flagFields.type.optional() })
  .meta({ id: 'FeatureFlagUpdate' });

const promoteBody = z
  .strictObject({
    from: keySchema.describe('the environment whose state is copied'),
    to: keySchema.describe('the environment it is copied onto'),
  })
  .meta({ id: 'FeatureFlagPromote' });

/** `user_id` becomes the context key; every other query value (but `environment`) is a string attribute. */
const evaluateQuery = z.looseObject({ user_id: z.string().optional(), environment: z.string().optional() });

/** Feature flag CRUD, per-environment state, promotion, and server-side evaluation. */
export function featureFlagRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const service = new FlagService(ctx);
  const show = async (environment: string, row: Parameters<typeof toResource>[1]) =>
    toResource(service.spec, row, { environment, environments: await environmentKeys(ctx) });
  return [
    ...resourceRoutes('/feature-flags', 'Feature flags', service, flagCreateBody, flagUpdateBody),
    route({
      method: 'patch',
      path: '/feature-flags/:id/environments/:env',
      summary: "Change the named state fields of a flag in one environment (the response shows that environment's state at the top level)",
      tag: 'Feature flags',
      auth: 'user',
      body: flagStateBody,
      success: { status: 200, description: 'The updated feature flag' },
      versioned: 'write',
      handler: async (c, { body, params }) => {
        const row = await service.updateEnvironment(originOf(c), params.id!, params.env!, body);
        return { data: await show(params.env!, row) };
      },
    }),
    route({
      method: 'post',
      path: '/feature-flags/:id/promote',
      summary: "Copy one environment's state of a flag onto another (audited with before and after)",
      tag: 'Feature flags',
      auth: 'user',
      body: promoteBody,
      success: { status: 200, description: "The updated feature flag, showing the target environment's state at the top level" },
      versioned: 'write',
      handler: async (c, { body, params }) => {
        const row = await service.promote(originOf(c), params.id!, body.from, body.to);
        return { data: await show(body.to, row) };
      },
    }),
    route({
      method: 'get',
      path: '/feature-flags/:key/evaluate',
      summary: 'Evaluate a flag on the server for one context, in the request environment',
      tag: 'Feature flags',
      auth: 'any',
      query: evaluateQuery,
      success: { status: 200, description: '{key, value, variant, reason}' },
      handler: async (c, { params, query }) => {
        const key = params.key!;
        const compiled = (await ctx.environments.get(c.get('environment'))).config.compiled();
        if (!compiled.entries.has(key)) throw notFound('feature flag', key);
        const { user_id: userId, environment: _environment, ...attrs } = query as Record<string, string>;
        const context: Record<string, unknown> = { ...attrs };
        if (userId !== undefined) context.key = userId;
        const d = evaluate(compiled, key, context, null);
        return { data: { key, ...toWire(d) }, meta: { config_version: compiled.version, environment: c.get('environment') } };
      },
    }),
  ];
}
