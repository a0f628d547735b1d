import { z } from 'zod';
import { can } from '../auth/permissions';
import { forbidden } from '../errors';
import { afterOf, pageMeta, pageQuery } from '../http/pagination';
import { route, type RouteDef } from '../http/route';
import type { ServerContext } from '../services/context';
import type { AuditRow } from '../store/types';

const auditQuery = pageQuery.extend({
  actor_id: z.string().optional(),
  action: z.string().optional(),
  resource_type: z.string().optional(),
  resource_id: z.string().optional(),
  environment: z.string().optional().describe('only records of what changed in this environment'),
});

function auditResource(a: AuditRow) {
  return {
    id: String(a.seq),
    type: 'audit-record',
    attributes: {
      at: a.at,
      actor: { type: a.actorType, id: a.actorId, label: a.actorLabel },
      action: a.action,
      resource: { type: a.resourceType, id: a.resourceId, key: a.resourceKey },
      environment: a.environment ?? null,
      before: a.before,
      after: a.after,
      request_id: a.requestId,
      ip: a.ip,
      user_agent: a.userAgent,
    },
  };
}

/** The append-only audit log, newest first (ADMIN). */
export function auditLogRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  return [
    route({
      method: 'get',
      path: '/audit-log',
      summary: 'Read the audit log, newest first (ADMIN)',
      tag: 'Audit log',
      auth: 'user',
      query: auditQuery,
      success: { status: 200, description: 'A page of audit records' },
      handler: async (c, { query }) => {
        if (!can(c.get('actor')!, 'read', 'audit-log')) throw forbidden('only an ADMIN may read the audit log');
        const f: Parameters<typeof ctx.store.listAudit>[0] = { limit: query.limit };
        const after = afterOf(query.cursor);
        if (after !== undefined) f.after = after;
        if (query.actor_id !== undefined) f.actorId = query.actor_id;
        if (query.action !== undefined) f.action = query.action;
        if (query.resource_type !== undefined) f.resourceType = query.resource_type;
        if (query.resource_id !== undefined) f.resourceId = query.resource_id;
        // Named explicitly, the request's environment (checked to exist) filters the records.
        if (query.environment !== undefined) f.environment = c.get('environment');
        const page = await ctx.store.listAudit(f);
        return { data: page.items.map(auditResource), meta: pageMeta(page.nextCursor, query.limit) };
      },
    }),
  ];
}
