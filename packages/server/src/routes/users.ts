import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { can } from '../auth/permissions';
import { hashPassword } from '../auth/password';
import { conflict, forbidden, notFound } from '../errors';
import { resource, type ResourceObject } from '../http/envelope';
import { afterOf, pageMeta, pageQuery } from '../http/pagination';
import { route, type RouteDef } from '../http/route';
import { commitMutation, originOf, type RequestOrigin, type ServerContext } from '../services/context';
import { onLatestVersion } from '../services/config/latest-version';
import { LAST_ADMIN_ERROR_CODE, ROLES, type ApiKeyRow, type UserRow } from '../store/types';

const email = z.email().max(320);
const password = z.string().min(8, 'must be at least 8 characters').max(1024);
const userCreateBody = z
  .strictObject({ email, name: z.string().max(256).optional(), role: z.enum(ROLES), password })
  .meta({ id: 'UserInput' });
const userUpdateBody = z
  .strictObject({
    email: email.optional(),
    name: z.string().max(256).nullable().optional(),
    role: z.enum(ROLES).optional(),
    password: password.optional(),
  })
  .meta({ id: 'UserUpdate' });

/** A user as the API shows it: never the password hash. */
export function userResource(u: UserRow): ResourceObject {
  return resource('user', u.id, {
    email: u.email,
    name: u.name,
    role: u.role,
    source: u.source,
    version: u.version,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  });
}

const publicUser = (u: UserRow) => ({ email: u.email, name: u.name, role: u.role });

/** Users: ADMIN manages everyone; everyone else reads themselves. */
export function userRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const load = async (id: string): Promise<UserRow> => {
    const u = (await ctx.store.getUser(id)) ?? (await ctx.store.getUserByEmail(id));
    if (u === null) throw notFound('user', id);
    return u;
  };
  /** Commits a change that must leave an ADMIN; the store checks it inside the transaction. */
  const commitKeepingAnAdmin = async (origin: RequestOrigin, change: Parameters<typeof commitMutation>[2], refusal: string) => {
    try {
      await commitMutation(ctx, origin, { ...change, keepAnAdmin: true });
    } catch (err) {
      if ((err as { code?: unknown }).code === LAST_ADMIN_ERROR_CODE) throw conflict(refusal);
      throw err;
    }
  };
  /** Server and client keys the user created: revoked with the user, or they would outlive their creator unseen. */
  const sdkKeysOf = async (userId: string): Promise<ApiKeyRow[]> => {
    const out: ApiKeyRow[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await ctx.store.listApiKeys(userId, after, 200);
      out.push(...page.items.filter((k) => k.revokedAt === null));
      if (page.nextCursor === null) return out;
      after = page.nextCursor;
    }
  };
  return [
    route({
      method: 'get',
      path: '/users',
      summary: 'List users (ADMIN; others see only themselves)',
      tag: 'Users',
      auth: 'user',
      query: pageQuery,
      success: { status: 200, description: 'A page of users' },
      handler: async (c, { query }) => {
        const actor = c.get('actor')!;
        if (actor.role !== 'ADMIN') {
          const self = await ctx.store.getUser(actor.type === 'user' ? actor.id : (actor.ownerId ?? ''));
          return { data: self === null ? [] : [userResource(self)], meta: pageMeta(null, query.limit) };
        }
        const page = await ctx.store.listUsers(afterOf(query.cursor), query.limit);
        return { data: page.items.map(userResource), meta: pageMeta(page.nextCursor, query.limit) };
      },
    }),
    route({
      method: 'post',
      path: '/users',
      summary: 'Create a user (ADMIN)',
      tag: 'Users',
      auth: 'user',
      body: userCreateBody,
      success: { status: 201, description: 'The created user' },
      versioned: 'read',
      errors: ['CONFLICT'],
      handler: async (c, { body }) => {
        const origin = originOf(c);
        if (!can(origin.actor!, 'create', 'user')) throw forbidden('only an ADMIN may create users');
        if ((await ctx.store.getUserByEmail(body.email)) !== null) throw conflict(`a user with email '${body.email}' already exists`);
        const now = new Date(ctx.now()).toISOString();
        const row: UserRow = {
          seq: 0,
          id: randomUUID(),
          email: body.email,
          name: body.name ?? null,
          role: body.role,
          passwordHash: await hashPassword(body.password),
          source: 'local',
          tokenVersion: 0,
          version: 1,
          createdAt: now,
          updatedAt: now,
        };
        await commitMutation(ctx, origin, {
          writes: [{ table: 'users', action: 'insert', row }],
          audit: {
            action: 'user.create',
            resourceType: 'user',
            resourceId: row.id,
            resourceKey: row.email,
            before: null,
            after: publicUser(row),
          },
        });
        return { data: userResource(row) };
      },
    }),
    route({
      method: 'get',
      path: '/users/:id',
      summary: 'Get a user by id or email',
      tag: 'Users',
      auth: 'user',
      success: { status: 200, description: 'The user' },
      versioned: 'read',
      handler: async (c, { params }) => {
        const actor = c.get('actor')!;
        const u = (await ctx.store.getUser(params.id!)) ?? (await ctx.store.getUserByEmail(params.id!));
        if (actor.role !== 'ADMIN' && (u === null || !can(actor, 'read', 'user', { id: u.id })))
          throw forbidden('you may only read your own user');
        if (u === null) throw notFound('user', params.id!);
        return { data: userResource(u) };
      },
    }),
    route({
      method: 'patch',
      path: '/users/:id',
      summary: 'Change a user (ADMIN)',
      tag: 'Users',
      auth: 'user',
      body: userUpdateBody,
      success: { status: 200, description: 'The updated user' },
      versioned: 'write',
      handler: async (c, { params, body }) => {
        const origin = originOf(c);
        if (!can(origin.actor!, 'update', 'user')) throw forbidden('only an ADMIN may change users');
        // Hashed once: a retry on a newer row must not pay for scrypt again.
        const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password);
        const saved = await onLatestVersion({
          load: () => load(params.id!),
          ifMatch: origin.ifMatch,
          what: `the user '${params.id!}'`,
          apply: async (u) => {
            if (
              body.email !== undefined &&
              body.email.toLowerCase() !== u.email.toLowerCase() &&
              (await ctx.store.getUserByEmail(body.email)) !== null
            ) {
              throw conflict(`a user with email '${body.email}' already exists`);
            }
            const row: UserRow = {
              ...u,
              email: body.email ?? u.email,
              name: body.name === undefined ? u.name : body.name,
              role: body.role ?? u.role,
              passwordHash: passwordHash ?? u.passwordHash,
              updatedAt: new Date(ctx.now()).toISOString(),
            };
            // A new password or role ends the sessions issued before it.
            const revokesTokens = body.password !== undefined || row.role !== u.role;
            if (revokesTokens) row.tokenVersion = u.tokenVersion + 1;
            await commitKeepingAnAdmin(
              origin,
              {
                writes: [{ table: 'users', action: 'update', row }],
                audit: {
                  action: 'user.update',
                  resourceType: 'user',
                  resourceId: u.id,
                  resourceKey: row.email,
                  before: publicUser(u),
                  after: { ...publicUser(row), ...(body.password === undefined ? {} : { password_changed: true }) },
                },
              },
              'the last ADMIN cannot be demoted',
            );
            if (revokesTokens) ctx.pipeline.credentialsChanged({ userId: u.id });
            return { ...row, version: u.version + 1 };
          },
        });
        return { data: userResource(saved) };
      },
    }),
    route({
      method: 'delete',
      path: '/users/:id',
      summary: 'Delete a user (ADMIN)',
      versioned: 'write',
      tag: 'Users',
      auth: 'user',
      success: { status: 204, description: 'Deleted' },
      handler: async (c, { params }) => {
        const origin = originOf(c);
        if (!can(origin.actor!, 'delete', 'user')) throw forbidden('only an ADMIN may delete users');
        await onLatestVersion({
          load: () => load(params.id!),
          ifMatch: origin.ifMatch,
          what: `the user '${params.id!}'`,
          apply: async (u) => {
            const at = new Date(ctx.now()).toISOString();
            const keys = await sdkKeysOf(u.id);
            await commitKeepingAnAdmin(
              origin,
              {
                writes: [
                  ...keys.map((k) => ({ table: 'api_keys' as const, action: 'update' as const, row: { ...k, revokedAt: at } })),
                  { table: 'users', action: 'delete', id: u.id, version: u.version },
                ],
                audit: {
                  action: 'user.delete',
                  resourceType: 'user',
                  resourceId: u.id,
                  resourceKey: u.email,
                  before: publicUser(u),
                  after: { revoked_api_keys: keys.map((k) => ({ id: k.id, name: k.name, kind: k.kind })) },
                },
              },
              'the last ADMIN cannot be deleted',
            );
            ctx.pipeline.credentialsChanged({ userId: u.id, apiKeyIds: keys.map((k) => k.id) });
          },
        });
        return { status: 204, data: null };
      },
    }),
  ];
}
