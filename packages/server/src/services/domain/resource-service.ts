import { randomUUID } from 'node:crypto';
import { formatPath, segmentRefs } from '@switchyard/core/schema';
import type { Action } from '../../auth/permissions';
import { can } from '../../auth/permissions';
import { ownerIdOf } from '../../auth/actor';
import { ApiError, conflict, forbidden, notFound, type ErrorDetail } from '../../errors';
import { zodDetails } from '../../http/route';
import { isUniqueViolation } from '../../store/store-errors';
import type { Page, ResourceKind, ResourceRow } from '../../store/types';
import { commitMutation, type RequestOrigin, type ServerContext } from '../context';
import { configFormOf, toConfigExperiment } from '../config/config-state';
import { onLatestVersion } from '../config/latest-version';
import { environmentKeys } from './environment-guards';
import { stripReadOnly, type EnvironmentPatches, type KindSpec } from './kind-spec';
import { placeIssue, referenceProblemsOf } from './reference-problems';

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

  /** The server this service acts on. */
  get context(): ServerContext {
    return this.ctx;
  }

  assert(origin: RequestOrigin, action: Action, row?: ResourceRow): void {
    const actor = origin.actor;
    if (actor === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'authentication required');
    const target = row === undefined ? {} : { ownerId: row.ownerId };
    if (!can(actor, action, this.spec.type, target)) {
      // `lifecycle` is a permission name, not a verb a person reads well in a sentence.
      const verb = action === 'lifecycle' ? 'start, pause, resume, complete or archive' : action;
      throw forbidden(
        row !== undefined && action !== 'read' && actor.role === 'EXPERIMENTER'
          ? `only the owner or an ADMIN may ${verb} this ${this.spec.label}`
          : `your role does not allow ${action} on ${this.spec.label}s`,
      );
    }
  }

  /** The environment a row of this kind is looked up in (experiments only). */
  protected scopeOf(origin: RequestOrigin): string | undefined {
    return this.spec.kind === 'experiment' ? origin.environment : undefined;
  }

  async get(origin: RequestOrigin, idOrKey: string): Promise<ResourceRow> {
    this.assert(origin, 'read');
    const row = await this.ctx.store.getResource(this.spec.kind, idOrKey, this.scopeOf(origin));
    if (row === null) throw notFound(this.spec.label, idOrKey);
    return row;
  }

  async list(
    origin: RequestOrigin,
    q: { status?: string | undefined; owner_id?: string | undefined; q?: string | undefined; after?: number | undefined; limit: number },
  ): Promise<Page<ResourceRow>> {
    this.assert(origin, 'read');
    const filter: Parameters<ServerContext['store']['listResources']>[1] = { limit: q.limit };
    const scope = this.scopeOf(origin);
    if (scope !== undefined) filter.environment = scope;
    if (this.spec.kind === 'flag' && (q.status === 'enabled' || q.status === 'disabled'))
      filter.flagEnabled = { environment: origin.environment, enabled: q.status === 'enabled' };
    else if (q.status !== undefined) filter.status = q.status;
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

  /** Whether a saved row's form in `environment` changed (flags refine this per environment). */
  protected changedIn(_before: ResourceRow | null, _after: ResourceRow | null, _environment: string): boolean {
    return true;
  }

  /**
   * The config patch of each environment whose document the change touches: a flag or segment
   * is in every environment's document, an experiment only in its own while live.
   */
  protected patchesFor(before: ResourceRow | null, after: ResourceRow | null, environments: readonly string[]): EnvironmentPatches {
    const key = (after ?? before)!.key;
    const out: EnvironmentPatches = {};
    for (const env of environments) {
      const form = after === null ? null : configFormOf(after, env);
      const was = before === null ? null : configFormOf(before, env);
      if (form === null && was === null) continue;
      if (!this.changedIn(before, after, env)) continue;
      out[env] = { [this.spec.docField]: { [key]: form } };
    }
    return out;
  }

  /**
   * What the save-time reference check judges: a DRAFT experiment is not in the config, but is
   * checked as if it were, so it cannot be saved with references its start would reject.
   */
  private checkedPatches(before: ResourceRow | null, row: ResourceRow, environments: readonly string[]): EnvironmentPatches {
    if (this.spec.kind === 'experiment' && row.data.status === 'DRAFT' && row.environment !== null)
      return { [row.environment]: { experiments: { [row.key]: toConfigExperiment(row.data) } } };
    return this.patchesFor(before, row, environments);
  }

  /** Problems from core's reference checks in every environment a patch goes to (see {@link placeIssue}). */
  protected async referenceProblems(origin: RequestOrigin, key: string, patches: EnvironmentPatches): Promise<ErrorDetail[]> {
    return referenceProblemsOf(this.ctx, patches, (issue, env) => placeIssue(issue, env, origin, { spec: this.spec, key }));
  }

  /** Throws the 400 of a save whose references do not resolve. */
  protected async checkReferencesOf(origin: RequestOrigin, before: ResourceRow | null, row: ResourceRow, environments: readonly string[]) {
    const problems = await this.referenceProblems(origin, row.key, this.checkedPatches(before, row, environments));
    if (problems.length > 0)
      // Not only missing resources: a prerequisite cycle, or an experiment whose arms are not flag variants.
      throw new ApiError('VALIDATION_ERROR', `the ${this.spec.label}'s references are invalid (see details)`, problems);
  }

  /** The stored form of a new resource from its input (flags and experiments refine this). */
  protected async buildNew(
    origin: RequestOrigin,
    input: Record<string, unknown>,
    _environments: readonly string[],
  ): Promise<Record<string, unknown>> {
    void origin;
    return this.validate(input);
  }

  /** The stored, validated form of a new resource from its create body (bulk import); throws the 400 its create would. */
  prepareNew(origin: RequestOrigin, input: Record<string, unknown>, environments: readonly string[]): Promise<Record<string, unknown>> {
    return this.buildNew(origin, input, environments);
  }

  /** The stored form after a PATCH (merge) or PUT (replace) of an existing row. */
  protected async buildUpdate(
    _origin: RequestOrigin,
    row: ResourceRow,
    input: Record<string, unknown>,
    mode: 'patch' | 'put',
    _environments: readonly string[],
  ): Promise<Record<string, unknown>> {
    const merged = mode === 'patch' ? { ...row.data, ...stripReadOnly(input), key: row.key } : { ...input, key: row.key };
    return this.validate(merged);
  }

  /** The environment of a change's audit record: the one environment it touched, if only one. */
  protected auditEnvironment(_before: ResourceRow | null, after: ResourceRow | null, patches: EnvironmentPatches): string | null {
    if (this.spec.kind === 'experiment') return after?.environment ?? null;
    if (this.spec.kind === 'segment') return null;
    const envs = Object.keys(patches);
    return envs.length === 1 ? envs[0]! : null;
  }

  /** What an audit record shows of stored data (flags: as the API shows them in the request environment). */
  protected auditView(data: Record<string, unknown> | null, _origin: RequestOrigin, _environments: readonly string[]): unknown {
    return data;
  }

  /** Permission checks a save needs beyond the role matrix (protected environments, for flags). */
  protected async assertChange(_origin: RequestOrigin, _before: ResourceRow | null, _after: ResourceRow | null, _envs: readonly string[]) {}

  /** Lets background jobs (the scheduler) hear about experiment changes. */
  private changed(): void {
    if (this.spec.kind === 'experiment') this.ctx.pipeline.experimentsChanged();
  }

  async create(origin: RequestOrigin, input: Record<string, unknown>): Promise<ResourceRow> {
    this.assert(origin, 'create');
    const environments = await environmentKeys(this.ctx);
    const data = await this.buildNew(origin, input, environments);
    const key = data.key as string;
    const environment = this.spec.kind === 'experiment' ? (data.environment as string) : null;
    const kinds: ResourceKind[] = this.spec.kind === 'segment' ? ['segment'] : ['flag', 'experiment'];
    const existing = await this.ctx.store.findByKey(kinds, key, environment ?? undefined);
    if (existing !== null)
      throw conflict(
        `the key '${key}' is already used by ${existing.kind === 'flag' ? 'a feature flag' : existing.kind === 'experiment' ? 'an experiment' : `a ${existing.kind}`}${
          existing.environment !== null ? ` in environment '${existing.environment}'` : ''
        }`,
        { key },
      );
    const now = new Date(this.ctx.now()).toISOString();
    const row: ResourceRow = {
      seq: 0,
      id: randomUUID(),
      kind: this.spec.kind,
      environment,
      key,
      ownerId: ownerIdOf(origin.actor!),
      status: this.spec.statusOf(data),
      data,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await this.assertChange(origin, null, row, environments);
    const patches = this.patchesFor(null, row, environments);
    await this.checkReferencesOf(origin, null, row, environments);
    try {
      await commitMutation(this.ctx, origin, {
        writes: [{ table: 'resources', action: 'insert', row }],
        patches,
        audit: {
          action: `${this.spec.type}.create`,
          resourceType: this.spec.type,
          resourceId: row.id,
          resourceKey: key,
          environment: this.auditEnvironment(null, row, patches),
          before: null,
          after: this.auditView(data, origin, environments),
        },
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`the key '${key}' is already in use`, { key });
      throw e;
    }
    this.changed();
    return row;
  }

  /**
   * `patch` merges the named top-level fields onto the stored ones; `put` replaces the whole
   * resource (defaults re-applied). The key never changes. Built on the latest stored row: a
   * concurrent change committed in between makes it start over on the newer row, or, with an
   * `If-Match` naming a version, a `412` (see {@link onLatestVersion}).
   */
  async update(
    origin: RequestOrigin,
    idOrKey: string,
    input: Record<string, unknown>,
    mode: 'patch' | 'put',
    action: Action = 'update',
  ): Promise<ResourceRow> {
    return this.onLatest(origin, idOrKey, action, async (row) => {
      if (input.key !== undefined && input.key !== row.key) {
        throw new ApiError('VALIDATION_ERROR', 'the key of a resource cannot change', [{ path: 'key', message: `expected '${row.key}'` }]);
      }
      const prepared = this.prepareUpdate(row, input, mode);
      const environments = await environmentKeys(this.ctx);
      const data = await this.buildUpdate(origin, row, prepared, mode, environments);
      return this.save(origin, row, data, `${this.spec.type}.${action === 'update' ? 'update' : action}`, environments);
    });
  }

  /**
   * Runs a read-modify-write of one row on its latest version (see {@link onLatestVersion}),
   * after the permission check for `action`, which comes before any `412`.
   */
  protected onLatest<T>(origin: RequestOrigin, idOrKey: string, action: Action, apply: (row: ResourceRow) => Promise<T>): Promise<T> {
    return onLatestVersion({
      load: async () => {
        const row = await this.get(origin, idOrKey);
        this.assert(origin, action, row);
        return row;
      },
      apply,
      ifMatch: origin.ifMatch,
      what: `the ${this.spec.label} '${idOrKey}'`,
    });
  }

  /** Checks an update's input against the stored row and adjusts it (experiments refine this). */
  protected prepareUpdate(_row: ResourceRow, input: Record<string, unknown>, _mode: 'patch' | 'put'): Record<string, unknown> {
    return input;
  }

  /**
   * Writes new data for an existing row, with reference checks, audit and config patches. A
   * compare-and-set on `row.version`: it fails with a version conflict if `row` is no longer the
   * stored version. Resolves to the row as stored.
   */
  async save(
    origin: RequestOrigin,
    row: ResourceRow,
    data: Record<string, unknown>,
    auditAction: string,
    environments?: readonly string[],
    /** Compare-and-set on the stored status (see `WriteOp.ifStatus`): for transitions that must happen once. */
    guard?: { ifStatus: string | null },
  ): Promise<ResourceRow> {
    const envs = environments ?? (await environmentKeys(this.ctx));
    const next: ResourceRow = { ...row, data, status: this.spec.statusOf(data), updatedAt: new Date(this.ctx.now()).toISOString() };
    await this.assertChange(origin, row, next, envs);
    const patches = this.patchesFor(row, next, envs);
    await this.checkReferencesOf(origin, row, next, envs);
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'resources', action: 'update', row: next, ...(guard ?? {}) }],
      patches,
      audit: {
        action: auditAction,
        resourceType: this.spec.type,
        resourceId: row.id,
        resourceKey: row.key,
        environment: this.auditEnvironment(row, next, patches),
        before: this.auditView(row.data, origin, envs),
        after: this.auditView(data, origin, envs),
      },
    });
    this.changed();
    return { ...next, version: row.version + 1 };
  }

  /** Deletes a row as it is stored now; with `If-Match`, only the version it names. */
  async remove(origin: RequestOrigin, idOrKey: string): Promise<void> {
    await this.onLatest(origin, idOrKey, 'delete', (row) => this.removeRow(origin, row));
  }

  /** Deletes `row` (a compare-and-set on its version), after the checks that it may go. */
  protected async removeRow(origin: RequestOrigin, row: ResourceRow): Promise<void> {
    const environments = await environmentKeys(this.ctx);
    await this.assertChange(origin, row, null, environments);
    const patches = this.patchesFor(row, null, environments);
    const problems = await this.referenceProblems(origin, row.key, patches);
    if (problems.length > 0) {
      throw new ApiError('CONFLICT', `the ${this.spec.label} '${row.key}' is still referenced`, problems);
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
            message: `DRAFT experiment '${e.key}' in environment '${e.environment}' targets this segment`,
          })),
        );
      }
    }
    await commitMutation(this.ctx, origin, {
      writes: [{ table: 'resources', action: 'delete', id: row.id, version: row.version }],
      patches,
      audit: {
        action: `${this.spec.type}.delete`,
        resourceType: this.spec.type,
        resourceId: row.id,
        resourceKey: row.key,
        environment: this.auditEnvironment(row, null, patches),
        before: this.auditView(row.data, origin, environments),
        after: null,
      },
    });
    this.changed();
  }
}
