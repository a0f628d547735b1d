import { randomUUID } from 'node:crypto';
import type { ConfigPatch } from '@switchyard/core';
import { checkReferences, formatPath, segmentRefs } from '@switchyard/core/schema';
import type { z } from 'zod';
import type { Action, Subject } from '../auth/permissions';
import { can } from '../auth/permissions';
import { ownerIdOf } from '../auth/actor';
import { ApiError, conflict, forbidden, notFound, type ErrorDetail } from '../errors';
import { resource, type ResourceObject } from '../http/envelope';
import { zodDetails } from '../http/route';
import type { Page, ResourceKind, ResourceRow } from '../store/types';
import { commitMutation, type RequestOrigin, type ServerContext } from './context';
import { configFormOf, toConfigExperiment } from './config-state';

/** Fields a client may send back from a GET that the server owns; they are ignored on write. */
export const READ_ONLY_FIELDS = ['id', 'created_at', 'updated_at', 'owner_id'] as const;

/** How one kind of resource is named, defaulted, validated and projected into the config. */
export interface KindSpec {
  kind: ResourceKind;
  /** The API's `type` and the permission subject. */
  type: Subject & ('feature-flag' | 'segment' | 'experiment');
  label: string;
  /** Fills defaults of a complete input (POST, PUT, or a PATCH merged onto the stored fields). */
  normalize(input: Record<string, unknown>): Record<string, unknown>;
  /** The core schema the normalized resource must pass. */
  schema: z.ZodType;
  /** Column the `status` filter matches. */
  statusOf(data: Record<string, unknown>): string | null;
  /** Key of this kind's map in the config document. */
  docField: 'flags' | 'segments' | 'experiments';
}

function stripReadOnly(input: Record<string, unknown>): Record<string, unknown> {
  const out = { ...input };
  for (const f of READ_ONLY_FIELDS) delete out[f];
  return out;
}

/** The API representation of a stored row. */
export function toResource(spec: Pick<KindSpec, 'type'>, row: ResourceRow): ResourceObject {
  return resource(spec.type, row.id, { ...row.data, created_at: row.createdAt, updated_at: row.updatedAt }, row.ownerId);
}

/** Problems from core's reference checks, with paths relative to the resource when they are inside it. */
function referenceProblems(spec: KindSpec, key: string, patch: Omit<ConfigPatch, 'version'>, ctx: ServerContext): ErrorDetail[] {
  const doc = ctx.config.preview(patch);
  return checkReferences(doc).map((i) => {
    const own = i.path[0] === spec.docField && i.path[1] === key;
    return { path: formatPath(own ? i.path.slice(2) : i.path), message: i.message };
  });
}

/**
 * Create/read/update/delete for flags, segments and experiments: ownership-aware permission
 * checks, core's save-time validation, the audit record and the config patch, the same way for
 * every kind.
 */
export class ResourceService {
  constructor(
    readonly spec: KindSpec,
    protected readonly ctx: ServerContext,
  ) {}

  assert(origin: RequestOrigin, action: Action, row?: ResourceRow): void {
    const actor = origin.actor;
    if (actor === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'authentication required');
    const target = row === undefined ? {} : { ownerId: row.ownerId };
    if (!can(actor, action, this.spec.type, target)) {
      throw forbidden(
        row !== undefined && action !== 'read' && actor.role === 'EXPERIMENTER'
          ? `only the owner or an ADMIN may ${action} this ${this.spec.label}`
          : `your role does not allow ${action} on ${this.spec.label}s`,
      );
    }
  }

  async get(origin: RequestOrigin, idOrKey: string): Promise<ResourceRow> {
    this.assert(origin, 'read');
    const row = await this.ctx.store.getResource(this.spec.kind, idOrKey);
    if (row === null) throw notFound(this.spec.label, idOrKey);
    return row;
  }

  async list(
    origin: RequestOrigin,
    q: { status?: string; owner_id?: string; q?: string; after?: number; limit: number },
  ): Promise<Page<ResourceRow>> {
    this.assert(origin, 'read');
    const filter: Parameters<ServerContext['store']['listResources']>[1] = { limit: q.limit };
    if (q.status !== undefined) filter.status = q.status;
    if (q.owner_id !== undefined) filter.ownerId = q.owner_id;
    if (q.q !== undefined) filter.q = q.q;
    if (q.after !== undefined) filter.after = q.after;
    return this.ctx.store.listResources(this.spec.kind, filter);
  }

  /** Normalizes and validates; throws a 400 listing every problem with its path. */
  validate(input: Record<string, unknown>): Record<string, unknown> {
    const data = this.spec.normalize(stripReadOnly(input));
    const parsed = this.spec.schema.safeParse(data);
    if (!parsed.success) throw new ApiError('VALIDATION_ERROR', `the ${this.spec.label} is invalid`, zodDetails(parsed.error));
    return data;
  }

  private patchFor(key: string, row: ResourceRow | null): Omit<ConfigPatch, 'version'> | undefined {
    const form = row === null ? null : configFormOf(row);
    if (row !== null && form === null && this.spec.kind === 'experiment') return undefined;
    return { [this.spec.docField]: { [key]: form } };
  }

  /**
   * What the save-time reference check judges: a DRAFT experiment is not in the config, but is
   * checked as if it were, so it cannot be saved with references its start would reject.
   */
  private checkedPatch(key: string, row: ResourceRow): Omit<ConfigPatch, 'version'> | undefined {
    if (this.spec.kind === 'experiment' && row.data.status === 'DRAFT') return { experiments: { [key]: toConfigExperiment(row.data) } };
    return this.patchFor(key, row);
  }

  /** Lets background jobs (the scheduler) hear about experiment changes. */
  private changed(): void {
    if (this.spec.kind === 'experiment') this.ctx.onExperimentChanged?.();
  }

  async create(origin: RequestOrigin, input: Record<string, unknown>): Promise<ResourceRow> {
    this.assert(origin, 'create');
    const data = this.validate(input);
    const key = data.key as string;
    const kinds: ResourceKind[] = this.spec.kind === 'segment' ? ['segment'] : ['flag', 'experiment'];
    const existing = await this.ctx.store.findByKey(kinds, key);
    if (existing !== null)
      throw conflict(`the key '${key}' is already used by a ${existing.kind === 'flag' ? 'feature flag' : existing.kind}`, { key });
    const now = new Date(this.ctx.now()).toISOString();
    const row: ResourceRow = {
      seq: 0,
      id: randomUUID(),
      kind: this.spec.kind,
      key,
      ownerId: ownerIdOf(origin.actor!),
      status: this.spec.statusOf(data),
      data,
      createdAt: now,
      updatedAt: now,
    };
    const patch = this.patchFor(key, row);
    const checked = this.checkedPatch(key, row);
    if (checked !== undefined) {
      const problems = referenceProblems(this.spec, key, checked, this.ctx);
      if (problems.length > 0)
        throw new ApiError('VALIDATION_ERROR', `the ${this.spec.label} refers to something that does not exist`, problems);
    }
    try {
      await commitMutation(this.ctx, origin, {
        writes: [{ table: 'resources', action: 'insert', row }],
        ...(patch === undefined ? {} : { patch }),
        audit: {
          action: `${this.spec.type}.create`,
          resourceType: this.spec.type,
          resourceId: row.id,
          resourceKey: key,
          before: null,
          after: data,
        },
      });
    } catch (e) {
      if (String((e as Error).message).includes('UNIQUE')) throw conflict(`the key '${key}' is already in use`, { key });
      throw e;
    }
    this.changed();
    return row;
  }

  /**
   * `patch` merges the named top-level fields onto the stored ones; `put` replaces the whole
   * resource (defaults re-applied). The key never changes.
   */
  async update(
    origin: RequestOrigin,
    idOrKey: string,
    input: Record<string, unknown>,
    mode: 'patch' | 'put',
    action: Action = 'update',
  ): Promise<ResourceRow> {
    const row = await this.get(origin, idOrKey);
    this.assert(origin, action, row);
    if (input.key !== undefined && input.key !== row.key) {
      throw new ApiError('VALIDATION_ERROR', 'the key of a resource cannot change', [{ path: 'key', message: `expected '${row.key}'` }]);
    }
    const merged = mode === 'patch' ? { ...row.data, ...stripReadOnly(input), key: row.key } : { ...input, key: row.key };
    return this.save(origin, row, this.validate(merged), `${this.spec.type}.${action === 'update' ? 'update' : action}`);
  }

  /** Writes new data for an existing row, with reference checks, audit and config patch. */
  async save(origin: RequestOrigin, row: ResourceRow, data: Record<string, unknown>, auditAction: string): Promise<ResourceRow> {
    const next: ResourceRow = { ...row, data, status: this.spec.statusOf(data), updatedAt: new Date(this.ctx.now()).toISOString() };
    const wasLive = configFormOf(row) !== null;
    const patch = this.patchFor(row.key, next) ?? (wasLive ? this.patchFor(row.key, null) : undefined);
    const checked = this.checkedPatch(row.key, next) ?? patch;
    if (checked !== undefined) {
      const problems = referenceProblems(this.spec, row.key, checked, this.ctx);
      if (problems.length > 0)
        throw new ApiError('VALIDATION_ERROR', `the ${this.spec.label} refers to something that does not exist`, problems);
    }
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'resources', action: 'update', row: next }],
      ...(patch === undefined ? {} : { patch }),
      audit: { action: auditAction, resourceType: this.spec.type, resourceId: row.id, resourceKey: row.key, before: row.data, after: data },
    });
    this.changed();
    return next;
  }

  async remove(origin: RequestOrigin, idOrKey: string): Promise<void> {
    const row = await this.get(origin, idOrKey);
    this.assert(origin, 'delete', row);
    const patch = configFormOf(row) === null ? undefined : this.patchFor(row.key, null);
    if (patch !== undefined) {
      const problems = referenceProblems(this.spec, row.key, patch, this.ctx);
      if (problems.length > 0) {
        throw new ApiError('CONFLICT', `the ${this.spec.label} '${row.key}' is still referenced`, problems);
      }
    }
    if (this.spec.kind === 'segment') {
      // DRAFT experiments are not in the config the check above sees.
      const drafts = (await this.ctx.store.allResources('experiment')).filter(
        (e) => e.data.status === 'DRAFT' && segmentRefs(e.data.targeting).has(row.key),
      );
      if (drafts.length > 0) {
        throw new ApiError(
          'CONFLICT',
          `the segment '${row.key}' is still referenced`,
          drafts.map((e) => ({
            path: formatPath(['experiments', e.key, 'targeting']),
            message: `DRAFT experiment '${e.key}' targets this segment`,
          })),
        );
      }
    }
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'resources', action: 'delete', id: row.id }],
      ...(patch === undefined ? {} : { patch }),
      audit: {
        action: `${this.spec.type}.delete`,
        resourceType: this.spec.type,
        resourceId: row.id,
        resourceKey: row.key,
        before: row.data,
        after: null,
      },
    });
    this.changed();
  }
}
