import { randomUUID } from 'node:crypto';
import type { ConfigPatch } from '@switchyard/core';
import { ownerIdOf } from '../../auth/actor';
import { ApiError, conflict, type ErrorDetail } from '../../errors';
import { isUniqueViolation } from '../../store/store-errors';
import type { AuditRecord, ResourceRow, WriteOp } from '../../store/types';
import { commitMutation, type RequestOrigin, type ServerContext } from '../context';
import { configFormOf } from '../config/config-state';
import { configuredEnvironments, flagAttributes } from './flag-spec';
import { FlagService } from './flags';
import { ResourceService } from './resource-service';
import { assertUnprotected, environmentKeys } from './environment-guards';
import { placeIssue, referenceProblemsOf } from './reference-problems';
import { segmentSpec } from './segment-spec';

/** A bulk import: flags and segments as their create bodies. */
export interface ImportInput {
  flags?: Record<string, unknown>[] | undefined;
  segments?: Record<string, unknown>[] | undefined;
}

/** What an import stored: counts, and the config version it produced in each environment. */
export interface ImportResult {
  flags: number;
  segments: number;
  configVersions: Record<string, number>;
}

type Part = 'flags' | 'segments';

/**
 * Creates many flags and segments at once (a migration from another tool): everything is
 * validated first, each item as its own create would be plus the references between them, and
 * one bad item rejects the whole import with every problem listed by item index. Then one
 * transaction stores every row, one audit record per resource and ONE config version per
 * environment, whose patch carries them all.
 *
 * @example
 * ```ts
 * const { configVersions } = await new ImportService(ctx).run(origin, { flags: [{ key: 'a', type: 'boolean' }] });
 * ```
 */
export class ImportService {
  private readonly flags: FlagService;
  private readonly segments: ResourceService;

  constructor(private readonly ctx: ServerContext) {
    this.flags = new FlagService(ctx);
    this.segments = new ResourceService(segmentSpec, ctx);
  }

  async run(origin: RequestOrigin, input: ImportInput): Promise<ImportResult> {
    const flagInputs = input.flags ?? [];
    const segmentInputs = input.segments ?? [];
    if (flagInputs.length > 0) this.flags.assert(origin, 'create');
    if (segmentInputs.length > 0) this.segments.assert(origin, 'create');
    const environments = await environmentKeys(this.ctx);
    const problems: ErrorDetail[] = [];
    const live = (await this.ctx.environments.get(origin.environment)).config.document;
    // Keys of experiments in any environment: flags and experiments share one namespace.
    const experimentKeys = new Set((await this.ctx.store.allResources('experiment')).map((r) => r.key));

    const build = async (part: Part, inputs: Record<string, unknown>[], service: ResourceService) => {
      const rows: ResourceRow[] = [];
      const seen = new Map<string, number>();
      const now = new Date(this.ctx.now()).toISOString();
      for (const [i, item] of inputs.entries()) {
        let data: Record<string, unknown>;
        try {
          data = await service.prepareNew(origin, item, environments);
        } catch (e) {
          if (!(e instanceof ApiError) || e.code !== 'VALIDATION_ERROR') throw e;
          const details = Array.isArray(e.details) ? e.details : [{ message: e.message }];
          for (const d of details) problems.push({ ...d, index: i, path: `${part}.${i}${d.path ? `.${d.path}` : ''}` });
          continue;
        }
        const key = data.key as string;
        const first = seen.get(key);
        const taken =
          first !== undefined
            ? `the key '${key}' is also given at ${part}.${first}`
            : part === 'flags' && Object.prototype.hasOwnProperty.call(live.flags, key)
              ? `the key '${key}' is already used by a feature flag`
              : part === 'flags' && experimentKeys.has(key)
                ? `the key '${key}' is already used by an experiment`
                : part === 'segments' && Object.prototype.hasOwnProperty.call(live.segments, key)
                  ? `the key '${key}' is already used by a segment`
                  : null;
        if (taken !== null) problems.push({ index: i, path: `${part}.${i}.key`, message: taken });
        seen.set(key, first ?? i);
        const kind = part === 'flags' ? 'flag' : 'segment';
        rows.push({
          seq: 0,
          id: randomUUID(),
          kind,
          environment: null,
          key,
          ownerId: ownerIdOf(origin.actor!),
          status: service.spec.statusOf(data),
          data,
          version: 1,
          createdAt: now,
          updatedAt: now,
        });
      }
      return { rows, index: seen };
    };
    const flags = await build('flags', flagInputs, this.flags);
    const segments = await build('segments', segmentInputs, this.segments);

    // Like each flag's create: a non-ADMIN may not give a flag non-default state in a protected environment.
    const touched = new Set(flags.rows.flatMap((r) => configuredEnvironments(r.data, environments)));
    await assertUnprotected(this.ctx, origin, touched, 'change feature flag state');

    const patches: Record<string, Omit<ConfigPatch, 'version'>> = {};
    for (const env of environments) {
      const patch: Omit<ConfigPatch, 'version'> = {};
      if (flags.rows.length > 0) patch.flags = Object.fromEntries(flags.rows.map((r) => [r.key, configFormOf(r, env) as never]));
      if (segments.rows.length > 0) patch.segments = Object.fromEntries(segments.rows.map((r) => [r.key, configFormOf(r, env) as never]));
      if (patch.flags !== undefined || patch.segments !== undefined) patches[env] = patch;
    }
    if (problems.length === 0)
      problems.push(...(await this.referenceProblems(origin, patches, { flags: flags.index, segments: segments.index })));
    if (problems.length > 0) {
      problems.sort((a, b) => (a.path ?? '').localeCompare(b.path ?? '', 'en', { numeric: true }));
      throw new ApiError('VALIDATION_ERROR', `the import has ${problems.length} problem(s); nothing was stored`, problems);
    }

    const rows = [...segments.rows, ...flags.rows];
    const writes: WriteOp[] = rows.map((row) => ({ table: 'resources', action: 'insert', row }));
    const audit = rows.map((row): Omit<AuditRecord, 'at' | 'actorType' | 'actorId' | 'actorLabel' | 'requestId' | 'ip' | 'userAgent'> => ({
      action: row.kind === 'flag' ? 'feature-flag.create' : 'segment.create',
      resourceType: row.kind === 'flag' ? 'feature-flag' : 'segment',
      resourceId: row.id,
      resourceKey: row.key,
      environment: null,
      before: null,
      after: row.kind === 'flag' ? flagAttributes(row.data, origin.environment, environments) : row.data,
    }));
    let configVersions: Record<string, number>;
    try {
      configVersions = await commitMutation(this.ctx, origin, { writes, patches, audit });
    } catch (e) {
      // Another request created one of these keys after the checks above.
      if (isUniqueViolation(e)) throw conflict('a key of the import was created meanwhile; nothing was stored');
      throw e;
    }
    return { flags: flags.rows.length, segments: segments.rows.length, configVersions };
  }

  /** The save-time reference checks of the whole import, by item index, placed as each item's own create would place them. */
  private referenceProblems(
    origin: RequestOrigin,
    patches: Record<string, Omit<ConfigPatch, 'version'>>,
    index: Record<Part, Map<string, number>>,
  ): Promise<ErrorDetail[]> {
    return referenceProblemsOf(this.ctx, patches, (issue, env) => {
      const [part, key] = issue.path as [Part, string];
      const i = index[part]?.get(key);
      if (i === undefined) return placeIssue(issue, env, origin, null);
      const { path, message } = placeIssue(issue, env, origin, {
        spec: part === 'flags' ? this.flags.spec : this.segments.spec,
        key,
      });
      return { index: i, path: `${part}.${i}${path === '' ? '' : `.${path}`}`, message };
    });
  }
}
