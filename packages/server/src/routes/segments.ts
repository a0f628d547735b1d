import { z } from 'zod';
import { keySchema, segmentSchema } from '@switchyard/core/schema';
import type { RouteDef } from '../http/route';
import type { ServerContext } from '../services/context';
import { ResourceService } from '../services/domain/resource-service';
import { segmentSpec } from '../services/domain/segment-spec';
import { resourceRoutes } from './resource-routes';

const core = segmentSchema.shape;

/** Core's segment fields (what the config document holds), each optional in a body; `when` may also be `null` (removes it). */
const segmentFields = {
  name: core.name,
  description: core.description,
  included: core.included,
  excluded: core.excluded,
  when: core.when.unwrap().nullable().optional(),
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
