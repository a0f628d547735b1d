import { z } from 'zod';
import { route, type RouteDef } from '../http/route';
import { originOf, type ServerContext } from '../services/context';
import { ImportService } from '../services/domain/import';
import { flagCreateBody } from './feature-flags';
import { segmentCreateBody } from './segments';

/** Where bulk imports are posted (it has its own body limit). */
export const IMPORT_PATH = '/api/v1/import';

/** Most resources one import may carry. */
export const MAX_IMPORT_ITEMS = 50_000;

const importBody = z
  .strictObject({
    flags: z.array(flagCreateBody).max(MAX_IMPORT_ITEMS).optional().describe('feature flags, each as the body of POST /feature-flags'),
    segments: z.array(segmentCreateBody).max(MAX_IMPORT_ITEMS).optional().describe('segments, each as the body of POST /segments'),
  })
  .meta({ id: 'ImportInput' });

const importResponse = z
  .object({
    data: z.object({
      flags: z.number().int().meta({ description: 'feature flags created' }),
      segments: z.number().int().meta({ description: 'segments created' }),
      config_versions: z
        .record(z.string(), z.number().int())
        .meta({ description: 'the config version the import committed in each environment (one per environment)' }),
    }),
  })
  .meta({ id: 'ImportResult' });

/**
 * `POST /api/v1/import`: many flags and segments created in one transaction and one config
 * version per environment, validated whole (a `400` lists every bad item by its index; nothing
 * is stored), one audit record per resource.
 */
export function importRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const service = new ImportService(ctx);
  return [
    route({
      method: 'post',
      path: '/import',
      summary: 'Create many feature flags and segments at once (one transaction, one config version per environment)',
      tag: 'Import',
      auth: 'user',
      body: importBody,
      success: {
        status: 201,
        description: 'How many flags and segments were created, and the config version of each environment',
        schema: importResponse,
      },
      errors: ['CONFLICT', 'PAYLOAD_TOO_LARGE'],
      handler: async (c, { body }) => {
        const r = await service.run(originOf(c), body);
        return { status: 201, data: { flags: r.flags, segments: r.segments, config_versions: r.configVersions } };
      },
    }),
  ];
}
