import { z } from 'zod';
import { evaluate, FLAG_TYPES } from '@switchyard/core';
import { conditionSchema, keySchema, serveSchema } from '@switchyard/core/schema';
import { notFound } from '../errors';
import { route, type RouteDef } from '../http/route';
import { type ServerContext } from '../services/context';
import { ResourceService } from '../services/resource-service';
import { flagSpec } from '../services/flag-spec';
import { resourceRoutes } from './resource-routes';
import { toWire } from '../services/wire';

const readOnly = {
  id: z.string().optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  owner_id: z.string().optional(),
};

const flagFields = {
  name: z.string().max(256).optional(),
  description: z.string().max(4096).optional(),
  type: z.enum(FLAG_TYPES),
  enabled: z.boolean().optional(),
  variants: z.array(z.object({ key: keySchema, value: z.json() })).optional(),
  off_variant: z.string().optional(),
  bucket_by: z.string().optional(),
  salt: z.string().optional(),
  prerequisites: z.array(z.object({ flag: keySchema, variants: z.array(z.string()) })).optional(),
  rules: z.array(z.object({ id: z.string(), when: conditionSchema.optional(), serve: serveSchema })).optional(),
  default_serve: serveSchema.optional(),
  ...readOnly,
};

/** POST body: `key` and `type` required, everything else defaulted. */
export const flagCreateBody = z.strictObject({ key: keySchema, ...flagFields }).meta({ id: 'FeatureFlagInput' });
/** PATCH/PUT body. */
export const flagUpdateBody = z
  .strictObject({ key: keySchema.optional(), ...flagFields, type: flagFields.type.optional() })
  .meta({ id: 'FeatureFlagUpdate' });

/** `user_id` becomes the context key; every other query value is a string attribute. */
const evaluateQuery = z.looseObject({ user_id: z.string().optional() });

/** Feature flag CRUD plus server-side evaluation. */
export function featureFlagRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const service = new ResourceService(flagSpec, ctx);
  return [
    ...resourceRoutes('/feature-flags', 'Feature flags', service, flagCreateBody, flagUpdateBody),
    route({
      method: 'get',
      path: '/feature-flags/:key/evaluate',
      summary: 'Evaluate a flag on the server for one context',
      tag: 'Feature flags',
      auth: 'any',
      query: evaluateQuery,
      success: { status: 200, description: '{key, value, variant, reason}' },
      handler: async (_c, { params, query }) => {
        const key = params.key!;
        const compiled = ctx.config.compiled();
        if (!compiled.entries.has(key)) throw notFound('feature flag', key);
        const { user_id: userId, ...attrs } = query as Record<string, string>;
        const context: Record<string, unknown> = { ...attrs };
        if (userId !== undefined) context.key = userId;
        const d = evaluate(compiled, key, context, null);
        return { data: { key, ...toWire(d) }, meta: { config_version: compiled.version } };
      },
    }),
  ];
}
