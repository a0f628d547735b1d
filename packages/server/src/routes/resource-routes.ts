import type { Context } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../http/app-env';
import { route, type RouteDef } from '../http/route';
import { afterOf, pageMeta, pageQuery } from '../http/pagination';
import { originOf } from '../services/context';
import { toResource } from '../services/domain/kind-spec';
import type { ResourceService } from '../services/domain/resource-service';
import { environmentKeys } from '../services/domain/environment-guards';

const listQuery = pageQuery.extend({
  status: z.string().optional(),
  owner_id: z.string().optional(),
  q: z.string().max(200).optional(),
});

/**
 * The five CRUD routes every resource kind shares: list, create, get, PATCH (merge), PUT
 * (replace) and DELETE, addressed by id or key.
 */
export function resourceRoutes(
  base: string,
  tag: string,
  service: ResourceService,
  createBody: z.ZodType,
  patchBody: z.ZodType,
): RouteDef<any, any>[] {
  const label = service.spec.label;
  // A flag is shown in the request environment, with every environment's state beside it.
  const view = async (c: Context<AppEnv>) =>
    service.spec.kind === 'flag' ? { environment: c.get('environment'), environments: await environmentKeys(service.context) } : undefined;
  const show = async (c: Context<AppEnv>, row: Parameters<typeof toResource>[1]) => toResource(service.spec, row, await view(c));
  return [
    route({
      method: 'get',
      path: base,
      summary: `List ${label}s`,
      tag,
      auth: 'user',
      query: listQuery,
      success: { status: 200, description: `A page of ${label}s` },
      handler: async (c, { query }) => {
        const after = afterOf(query.cursor);
        const page = await service.list(originOf(c), { ...query, ...(after === undefined ? {} : { after }) });
        const v = await view(c);
        return { data: page.items.map((r) => toResource(service.spec, r, v)), meta: pageMeta(page.nextCursor, query.limit) };
      },
    }),
    route({
      method: 'post',
      path: base,
      summary: `Create a ${label}`,
      tag,
      auth: 'user',
      body: createBody,
      success: { status: 201, description: `The created ${label}` },
      versioned: 'read',
      errors: ['CONFLICT'],
      handler: async (c, { body }) => ({ data: await show(c, await service.create(originOf(c), body as Record<string, unknown>)) }),
    }),
    route({
      method: 'get',
      path: `${base}/:id`,
      summary: `Get a ${label} by id or key`,
      tag,
      auth: 'user',
      success: { status: 200, description: `The ${label}` },
      versioned: 'read',
      handler: async (c, { params }) => ({ data: await show(c, await service.get(originOf(c), params.id!)) }),
    }),
    route({
      method: 'patch',
      path: `${base}/:id`,
      summary: `Change the named top-level fields of a ${label}`,
      tag,
      auth: 'user',
      body: patchBody,
      success: { status: 200, description: `The updated ${label}` },
      versioned: 'write',
      handler: async (c, { body, params }) => ({
        data: await show(c, await service.update(originOf(c), params.id!, body as Record<string, unknown>, 'patch')),
      }),
    }),
    route({
      method: 'put',
      path: `${base}/:id`,
      summary: `Replace a ${label}`,
      tag,
      auth: 'user',
      body: patchBody,
      success: { status: 200, description: `The replaced ${label}` },
      versioned: 'write',
      handler: async (c, { body, params }) => ({
        data: await show(c, await service.update(originOf(c), params.id!, body as Record<string, unknown>, 'put')),
      }),
    }),
    route({
      method: 'delete',
      path: `${base}/:id`,
      summary: `Delete a ${label}`,
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
