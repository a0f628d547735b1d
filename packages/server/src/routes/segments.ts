import { z } from 'zod';
import { conditionSchema, keySchema } from '@switchyard/core/schema';
import type { RouteDef } from '../http/route';
import type { ServerContext } from '../services/context';
import { ResourceService } from '../services/domain/resource-service';
import { segmentSpec } from '../services/domain/segment-spec';
import { resourceRoutes } from './resource-routes';

const segmentFields = {
  name: z.string().max(256).optional(),
  description: z.string().max(4096).optional(),
  included: z.array(z.string()).optional(),
  excluded: z.array(z.string()).optional(),
  when: conditionSchema.nullable().optional(),
  id: z.string().optional(),
  version: z.number().int().optional().describe('read-only (ignored); send If-Match to write only that version'),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  owner_id: z.string().optional(),
};

export const segmentCreateBody = z.strictObject({ key: keySchema, ...segmentFields }).meta({ id: 'SegmentInput' });
export const segmentUpdateBody = z.strictObject({ key: keySchema.optional(), ...segmentFields }).meta({ id: 'SegmentUpdate' });

/** Segment CRUD. */
export function segmentRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  return resourceRoutes('/segments', 'Segments', new ResourceService(segmentSpec, ctx), segmentCreateBody, segmentUpdateBody);
}
