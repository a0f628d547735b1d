import { z } from 'zod';
import { keySchema } from '@switchyard/core/schema';
import { resource, type ResourceObject } from '../http/envelope';
import { afterOf, pageMeta, pageQuery } from '../http/pagination';
import { route, type RouteDef } from '../http/route';
import { page } from '../store/rows';
import { originOf, type ServerContext } from '../services/context';
import { EnvironmentService } from '../services/domain/environments';
import type { ResourceRow } from '../store/types';

const fields = {
  name: z.string().min(1).max(256).optional(),
  color: z
    .string()
    .regex(/^#[0-9A-Fa-f]{6}$/, 'a colour is #rrggbb')
    .nullable()
    .optional(),
  protected: z.boolean().optional().describe('only an ADMIN changes flag state or runs experiment lifecycle actions here'),
  id: z.string().optional(),
  version: z.number().int().optional().describe('read-only (ignored); send If-Match to write only that version'),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
};
const createBody = z.strictObject({ key: keySchema, ...fields }).meta({ id: 'EnvironmentInput' });
const updateBody = z.strictObject({ key: keySchema.optional(), ...fields }).meta({ id: 'EnvironmentUpdate' });

/** An environment as the API serves it. */
export function environmentResource(row: ResourceRow): ResourceObject {
  return resource('environment', row.id, { ...row.data, version: row.version, created_at: row.createdAt, updated_at: row.updatedAt });
}

const inputOf = (body: Record<string, unknown>) => {
  const { id: _i, created_at: _c, updated_at: _u, version: _v, ...rest } = body;
  return rest;
};

/** `/environments`: everyone reads; an ADMIN creates, changes and deletes. */
export function environmentRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const service = new EnvironmentService(ctx);
  const tag = 'Environments';
  return [
    route({
      method: 'get',
      path: '/environments',
      summary: 'List environments (oldest first)',
      tag,
      auth: 'user',
      query: pageQuery,
      success: { status: 200, description: 'A page of environments, with meta.default_environment' },
      handler: async (c, { query }) => {
        // Paged like every other list (a store holds few environments, so the page is cut here).
        const after = afterOf(query.cursor);
        const rows = (await service.list(originOf(c))).filter((r) => after === undefined || r.seq > after);
        const { items, nextCursor } = page(rows, query.limit);
        return {
          data: items.map(environmentResource),
          meta: { ...pageMeta(nextCursor, query.limit), default_environment: ctx.options.defaultEnvironment },
        };
      },
    }),
    route({
      method: 'post',
      path: '/environments',
      summary: 'Create an environment (ADMIN)',
      tag,
      auth: 'user',
      body: createBody,
      success: { status: 201, description: 'The created environment' },
      versioned: 'read',
      errors: ['CONFLICT'],
      handler: async (c, { body }) => ({ data: environmentResource(await service.create(originOf(c), inputOf(body) as { key: string })) }),
    }),
    route({
      method: 'get',
      path: '/environments/:id',
      summary: 'Get an environment by id or key',
      tag,
      auth: 'user',
      success: { status: 200, description: 'The environment' },
      versioned: 'read',
      handler: async (c, { params }) => ({ data: environmentResource(await service.get(originOf(c), params.id!)) }),
    }),
    route({
      method: 'patch',
      path: '/environments/:id',
      summary: 'Change the named fields of an environment (ADMIN)',
      tag,
      auth: 'user',
      body: updateBody,
      success: { status: 200, description: 'The updated environment' },
      versioned: 'write',
      handler: async (c, { body, params }) => ({
        data: environmentResource(await service.update(originOf(c), params.id!, inputOf(body), 'patch')),
      }),
    }),
    route({
      method: 'put',
      path: '/environments/:id',
      summary: 'Replace an environment (ADMIN)',
      tag,
      auth: 'user',
      body: updateBody,
      success: { status: 200, description: 'The replaced environment' },
      versioned: 'write',
      handler: async (c, { body, params }) => ({
        data: environmentResource(await service.update(originOf(c), params.id!, inputOf(body), 'put')),
      }),
    }),
    route({
      method: 'delete',
      path: '/environments/:id',
      summary: 'Delete an environment no API key or experiment uses (ADMIN)',
      versioned: 'write',
      tag,
      auth: 'user',
      success: { status: 204, description: 'Deleted' },
      errors: ['CONFLICT'],
      handler: async (c, { params }) => {
        await service.remove(originOf(c), params.id!);
        return { status: 204, data: null };
      },
    }),
  ];
}
