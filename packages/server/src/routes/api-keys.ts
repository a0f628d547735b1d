import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { newApiKeySecret } from '../auth/api-key-secret';
import { can, roleAtLeast } from '../auth/permissions';
import { ownerIdOf } from '../auth/actor';
import { ApiError, forbidden, notFound } from '../errors';
import { resource, type ResourceObject } from '../http/envelope';
import { afterOf, pageMeta, pageQuery } from '../http/pagination';
import { route, type RouteDef } from '../http/route';
import { commitMutation, originOf, type ServerContext } from '../services/context';
import { onLatestVersion } from '../services/config/latest-version';
import { ROLES, type ApiKeyRow } from '../store/types';
import { keySchema } from '@switchyard/core/schema';

/** Longest metric allowlist of one key. */
const MAX_ALLOWED_METRICS = 100;

const apiKeyBody = z
  .strictObject({
    name: z.string().min(1).max(128),
    kind: z.enum(['server', 'client', 'management']),
    role: z.enum(ROLES).optional(),
    environment: keySchema.optional().describe('server and client keys: the environment everything the key reads and sends belongs to'),
    allowed_metrics: z
      .array(keySchema)
      .min(1)
      .max(MAX_ALLOWED_METRICS)
      .optional()
      .describe('client keys: the only metric keys its track events may name (others are refused per event); default any'),
  })
  .meta({ id: 'ApiKeyInput' });

/** An API key as listed: prefix, creator, times; never the secret or its hash. */
export function apiKeyResource(k: ApiKeyRow): ResourceObject {
  return resource(
    'api-key',
    k.id,
    {
      name: k.name,
      kind: k.kind,
      role: k.role,
      environment: k.environment,
      prefix: k.prefix,
      created_at: k.createdAt,
      last_used_at: k.lastUsedAt,
      revoked_at: k.revokedAt,
      revoked: k.revokedAt !== null,
      allowed_metrics: k.allowedMetrics ?? null,
      version: k.version,
    },
    k.createdBy,
  );
}

const auditView = (k: ApiKeyRow) => ({
  name: k.name,
  kind: k.kind,
  role: k.role,
  environment: k.environment,
  prefix: k.prefix,
  revoked_at: k.revokedAt,
  allowed_metrics: k.allowedMetrics ?? null,
});

/**
 * API keys. ADMIN creates any kind; everyone may create management keys for themselves with a
 * role no higher than their own. The secret is in the creation response only.
 */
export function apiKeyRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  return [
    route({
      method: 'get',
      path: '/api-keys',
      summary: 'List API keys (ADMIN: all; others: their own)',
      tag: 'API keys',
      auth: 'user',
      query: pageQuery,
      success: { status: 200, description: 'A page of API keys' },
      handler: async (c, { query }) => {
        const actor = c.get('actor')!;
        const page = await ctx.store.listApiKeys(
          actor.role === 'ADMIN' ? undefined : (ownerIdOf(actor) ?? ''),
          afterOf(query.cursor),
          query.limit,
        );
        return { data: page.items.map(apiKeyResource), meta: pageMeta(page.nextCursor, query.limit) };
      },
    }),
    route({
      method: 'post',
      path: '/api-keys',
      summary: 'Create an API key; the response is the only one with its secret',
      tag: 'API keys',
      auth: 'user',
      body: apiKeyBody,
      success: { status: 201, description: 'The key, with the secret in data.attributes.key' },
      versioned: 'read',
      handler: async (c, { body }) => {
        const origin = originOf(c);
        const actor = origin.actor!;
        const actorRole = actor.role!;
        if (body.kind !== 'management' && actorRole !== 'ADMIN') throw forbidden('only an ADMIN may create server and client keys');
        if (!can(actor, 'create', 'api-key')) throw forbidden();
        if (body.kind !== 'management' && body.role !== undefined) {
          throw new ApiError('VALIDATION_ERROR', 'only management keys have a role', [
            { path: 'role', message: 'omit role for server and client keys' },
          ]);
        }
        if (body.kind !== 'client' && body.allowed_metrics !== undefined) {
          throw new ApiError('VALIDATION_ERROR', 'only client keys have a metric allowlist', [
            { path: 'allowed_metrics', message: 'omit allowed_metrics for server and management keys' },
          ]);
        }
        if (body.kind === 'management' && body.environment !== undefined) {
          throw new ApiError('VALIDATION_ERROR', 'management keys belong to no environment', [
            { path: 'environment', message: 'omit environment for management keys' },
          ]);
        }
        const environment = body.kind === 'management' ? null : (body.environment ?? ctx.options.defaultEnvironment);
        if (environment !== null && (await ctx.store.getResource('environment', environment)) === null) {
          throw new ApiError('VALIDATION_ERROR', 'the key names an unknown environment', [
            { path: 'environment', message: `unknown environment '${environment}'` },
          ]);
        }
        const role = body.kind === 'management' ? (body.role ?? actorRole) : null;
        if (role !== null && !roleAtLeast(actorRole, role))
          throw forbidden(`a management key cannot have a role above your own (${actorRole})`);
        const { secret, hash, prefix } = newApiKeySecret(body.kind);
        const row: ApiKeyRow = {
          seq: 0,
          id: randomUUID(),
          name: body.name,
          kind: body.kind,
          role,
          environment,
          prefix,
          hash,
          createdBy: ownerIdOf(actor),
          version: 1,
          createdAt: new Date(ctx.now()).toISOString(),
          lastUsedAt: null,
          revokedAt: null,
          allowedMetrics: body.allowed_metrics === undefined ? null : [...new Set(body.allowed_metrics)],
        };
        await commitMutation(ctx, origin, {
          writes: [{ table: 'api_keys', action: 'insert', row }],
          audit: {
            action: 'api-key.create',
            resourceType: 'api-key',
            resourceId: row.id,
            resourceKey: row.name,
            environment,
            before: null,
            after: auditView(row),
          },
        });
        const r = apiKeyResource(row);
        r.attributes.key = secret;
        return { data: r };
      },
    }),
    route({
      method: 'get',
      path: '/api-keys/:id',
      summary: 'Get an API key',
      tag: 'API keys',
      auth: 'user',
      success: { status: 200, description: 'The key (without its secret)' },
      versioned: 'read',
      handler: async (c, { params }) => {
        const k = await ctx.store.getApiKey(params.id!);
        if (k === null) throw notFound('API key', params.id!);
        if (!can(c.get('actor')!, 'read', 'api-key', { ownerId: k.createdBy })) throw forbidden('you may only read your own API keys');
        return { data: apiKeyResource(k) };
      },
    }),
    route({
      method: 'delete',
      path: '/api-keys/:id',
      summary: 'Revoke an API key, effective immediately',
      tag: 'API keys',
      auth: 'user',
      success: { status: 204, description: 'Revoked' },
      versioned: 'write',
      handler: async (c, { params }) => {
        const origin = originOf(c);
        const load = async () => {
          const k = await ctx.store.getApiKey(params.id!);
          if (k === null) throw notFound('API key', params.id!);
          if (!can(origin.actor!, 'delete', 'api-key', { ownerId: k.createdBy })) throw forbidden('you may only revoke your own API keys');
          // As with creation: server and client keys are an ADMIN's, even when the caller (or a
          // scoped key's creator) created them, so a read-only key cannot cut SDKs off.
          if (k.kind !== 'management' && origin.actor!.role !== 'ADMIN') throw forbidden('only an ADMIN may revoke server and client keys');
          // Nor may a key capped below another key's role revoke it (a VIEWER-scoped key cutting off its creator's ADMIN key).
          if (k.role !== null && !roleAtLeast(origin.actor!.role!, k.role))
            throw forbidden(`revoking a ${k.role} key needs at least that role`);
          return k;
        };
        const k = await onLatestVersion({
          load,
          ifMatch: origin.ifMatch,
          what: `the API key '${params.id!}'`,
          apply: async (k) => {
            if (k.revokedAt !== null) return k;
            const row = { ...k, revokedAt: new Date(ctx.now()).toISOString() };
            await commitMutation(ctx, origin, {
              writes: [{ table: 'api_keys', action: 'update', row }],
              audit: {
                action: 'api-key.revoke',
                resourceType: 'api-key',
                resourceId: k.id,
                resourceKey: k.name,
                environment: k.environment,
                before: auditView(k),
                after: auditView(row),
              },
            });
            return k;
          },
        });
        // Also when it was revoked before: a stream that outlived an earlier revocation ends now.
        ctx.pipeline.credentialsChanged({ apiKeyIds: [k.id] });
        return { status: 204, data: null };
      },
    }),
  ];
}
