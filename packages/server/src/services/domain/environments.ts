import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { can } from '../../auth/permissions';
import { ApiError, conflict, forbidden, notFound } from '../../errors';
import type { AppEnv } from '../../http/app-env';
import { isUniqueViolation } from '../../store/store-errors';
import type { ResourceRow, WriteOp } from '../../store/types';
import { commitMutation, type RequestOrigin, type ServerContext } from '../context';
import { onLatestVersion } from '../config/latest-version';

/** The fields of an environment. */
export interface EnvironmentInput {
  key?: string;
  name?: string;
  color?: string | null;
  protected?: boolean;
}

/**
 * The environment a request acts in: an SDK key's own; otherwise `?environment=<key>`;
 * otherwise the default environment. An unknown environment is a 404.
 *
 * @example
 * ```ts
 * c.set('environment', await resolveEnvironment(ctx, c));
 * ```
 */
export async function resolveEnvironment(ctx: ServerContext, c: Context<AppEnv>): Promise<string> {
  const actor = c.get('actor');
  if (actor?.type === 'api_key' && actor.kind !== 'management' && typeof actor.environment === 'string') return actor.environment;
  const named = c.req.query('environment');
  if (named === undefined || named === '') return ctx.options.defaultEnvironment;
  if ((await ctx.store.getResource('environment', named)) === null) throw notFound('environment', named);
  return named;
}

/**
 * Environments: everyone reads, an ADMIN creates, changes and deletes. Deleting one that API
 * keys (not revoked) or experiments still use, or the default environment, is a 409; deleting
 * one also drops every flag's state there, in the same transaction.
 */
export class EnvironmentService {
  constructor(private readonly ctx: ServerContext) {}

  private assert(origin: RequestOrigin, action: 'read' | 'create' | 'update' | 'delete'): void {
    const actor = origin.actor;
    if (actor === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'authentication required');
    if (!can(actor, action, 'environment')) throw forbidden(`only an ADMIN may ${action} environments`);
  }

  async list(origin: RequestOrigin): Promise<ResourceRow[]> {
    this.assert(origin, 'read');
    return this.ctx.store.allResources('environment');
  }

  async get(origin: RequestOrigin, idOrKey: string): Promise<ResourceRow> {
    this.assert(origin, 'read');
    const row = await this.ctx.store.getResource('environment', idOrKey);
    if (row === null) throw notFound('environment', idOrKey);
    return row;
  }

  async create(origin: RequestOrigin, input: EnvironmentInput & { key: string }): Promise<ResourceRow> {
    this.assert(origin, 'create');
    if ((await this.ctx.store.getResource('environment', input.key)) !== null)
      throw conflict(`the environment '${input.key}' already exists`, { key: input.key });
    const now = new Date(this.ctx.now()).toISOString();
    const data = normalize({ ...input });
    const row: ResourceRow = {
      seq: 0,
      id: randomUUID(),
      kind: 'environment',
      environment: null,
      key: input.key,
      ownerId: null,
      status: null,
      data,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await commitMutation(this.ctx, origin, {
        writes: [{ table: 'resources', action: 'insert', row }],
        audit: this.audit('environment.create', row, null, data),
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`the environment '${input.key}' already exists`, { key: input.key });
      throw e;
    }
    return row;
  }

  async update(origin: RequestOrigin, idOrKey: string, input: EnvironmentInput, mode: 'patch' | 'put'): Promise<ResourceRow> {
    this.assert(origin, 'update');
    return onLatestVersion({
      load: () => this.get(origin, idOrKey),
      ifMatch: origin.ifMatch,
      what: `the environment '${idOrKey}'`,
      apply: async (row) => {
        if (input.key !== undefined && input.key !== row.key)
          throw new ApiError('VALIDATION_ERROR', 'the key of an environment cannot change', [
            { path: 'key', message: `expected '${row.key}'` },
          ]);
        const data = normalize(mode === 'patch' ? { ...row.data, ...input, key: row.key } : { ...input, key: row.key });
        const next: ResourceRow = { ...row, data, updatedAt: new Date(this.ctx.now()).toISOString() };
        await commitMutation(this.ctx, origin, {
          writes: [{ table: 'resources', action: 'update', row: next }],
          audit: this.audit('environment.update', row, row.data, data),
        });
        return { ...next, version: row.version + 1 };
      },
    });
  }

  /** Deletes an environment as stored now (with `If-Match`, only the version it names). */
  async remove(origin: RequestOrigin, idOrKey: string): Promise<void> {
    this.assert(origin, 'delete');
    await onLatestVersion({
      load: () => this.get(origin, idOrKey),
      ifMatch: origin.ifMatch,
      what: `the environment '${idOrKey}'`,
      apply: (row) => this.removeRow(origin, row),
    });
  }

  private async removeRow(origin: RequestOrigin, row: ResourceRow): Promise<void> {
    const key = row.key;
    if (key === this.ctx.options.defaultEnvironment)
      throw conflict(`'${key}' is the default environment; it cannot be deleted`, { environment: key });
    const users: string[] = [];
    for (let after: number | undefined = undefined; ;) {
      const page = await this.ctx.store.listApiKeys(undefined, after, 200);
      for (const k of page.items) if (k.environment === key && k.revokedAt === null) users.push(`API key '${k.name}' (${k.prefix}…)`);
      if (page.nextCursor === null) break;
      after = page.nextCursor;
    }
    for (const e of await this.ctx.store.allResources('experiment', key)) users.push(`experiment '${e.key}'`);
    if (users.length > 0) throw new ApiError('CONFLICT', `the environment '${key}' is still in use`, { environment: key, used_by: users });
    // Every flag's state there goes with it, so that a new environment of the same key starts
    // clean. Each flag is a compare-and-set too: a flag edited meanwhile makes the delete start over.
    const writes: WriteOp[] = [{ table: 'resources', action: 'delete', id: row.id, version: row.version }];
    const at = new Date(this.ctx.now()).toISOString();
    for (const f of await this.ctx.store.allResources('flag')) {
      const states = f.data.environments as Record<string, unknown> | undefined;
      if (states === undefined || !(key in states)) continue;
      const { [key]: _dropped, ...rest } = states;
      writes.push({ table: 'resources', action: 'update', row: { ...f, data: { ...f.data, environments: rest }, updatedAt: at } });
    }
    await commitMutation(this.ctx, origin, { writes, audit: this.audit('environment.delete', row, row.data, null) });
    this.ctx.environments.drop(key);
  }

  private audit(action: string, row: ResourceRow, before: unknown, after: unknown) {
    return { action, resourceType: 'environment', resourceId: row.id, resourceKey: row.key, environment: row.key, before, after };
  }
}

/** Defaults: named after its key, unprotected, no colour. */
function normalize(input: EnvironmentInput & { key: string }): Record<string, unknown> {
  const out: Record<string, unknown> = { key: input.key, name: input.name ?? input.key };
  if (input.color !== undefined && input.color !== null) out.color = input.color;
  out.protected = input.protected ?? false;
  return out;
}
