import { randomUUID } from 'node:crypto';
import { can } from '../../auth/permissions';
import { ownerIdOf } from '../../auth/actor';
import { ApiError, conflict, forbidden, invalid, notFound, type ErrorDetail } from '../../errors';
import { resource, type ResourceObject } from '../../http/envelope';
import { onLatestVersion } from '../config/latest-version';
import { isUniqueViolation } from '../../store/store-errors';
import type { ResourceRow } from '../../store/types';
import { toConfigExperiment, toConfigFlag } from '../config/config-state';
import { commitMutation, type RequestOrigin, type ServerContext } from '../context';
import { stateIn } from './flag-spec';
import { assertUnprotected, environmentKeys } from './environment-guards';
import type { ResultsService } from '../results/results';
import { ACTIVE_ROLLOUT_STATUSES, checkRolloutPlan, storedGuardrails, storedStages, type RolloutInput } from './rollout-spec';
import { experimentData, rolloutFigures, servesExperiment, withDefaultServe, type RolloutData } from './rollout-state';
import { endRollout, flagChange } from './rollout-transitions';
import { emit } from '../webhooks/webhook-events';

const LABEL = 'rollout';

/**
 * Guarded rollouts of a flag in one environment: create, read (with live figures), stop. The
 * stages themselves are moved by the rollout monitor (rollout-monitor.ts). Permissions are those
 * of changing the flag's state in that environment (protected environments: ADMIN only); reading
 * is reading the flag.
 */
export class RolloutService {
  constructor(
    private readonly ctx: ServerContext,
    private readonly results: ResultsService,
  ) {}

  private async flagIn(origin: RequestOrigin, flagKey: string, environment: string, action: 'read' | 'update'): Promise<ResourceRow> {
    const actor = origin.actor;
    if (actor === null) throw new ApiError('AUTHENTICATION_REQUIRED', 'authentication required');
    if (!(await environmentKeys(this.ctx)).includes(environment)) throw notFound('environment', environment);
    const flag = await this.ctx.store.getResource('flag', flagKey);
    if (flag === null) throw notFound('feature flag', flagKey);
    if (!can(actor, action, 'feature-flag', { ownerId: flag.ownerId }))
      throw forbidden(
        action === 'read'
          ? 'your role does not allow reading feature flags'
          : actor.role === 'EXPERIMENTER'
            ? 'only the owner of the feature flag or an ADMIN may run rollouts of it'
            : 'your role does not allow changing feature flags',
      );
    if (action === 'update') await assertUnprotected(this.ctx, origin, [environment], 'change feature flag state');
    return flag;
  }

  /** Rollouts of a flag in an environment, newest first. */
  async list(origin: RequestOrigin, flagKey: string, environment: string): Promise<ResourceRow[]> {
    const flag = await this.flagIn(origin, flagKey, environment, 'read');
    const rows = await this.ctx.store.allResources('rollout', environment);
    return rows.filter((r) => r.data.flag === flag.key).sort((a, b) => b.seq - a.seq);
  }

  /** One rollout of a flag in an environment. */
  async get(origin: RequestOrigin, flagKey: string, environment: string, id: string): Promise<ResourceRow> {
    const flag = await this.flagIn(origin, flagKey, environment, 'read');
    return this.find(flag, environment, id);
  }

  private async find(flag: ResourceRow, environment: string, id: string): Promise<ResourceRow> {
    const row = await this.ctx.store.getResource('rollout', id);
    if (row === null || row.id !== id || row.data.flag !== flag.key || row.environment !== environment) throw notFound(LABEL, id);
    return row;
  }

  /** Starts a guarded rollout: the environment's `default_serve` serves its internal experiment at the first stage's share. */
  async create(origin: RequestOrigin, flagKey: string, environment: string, input: RolloutInput): Promise<ResourceRow> {
    checkRolloutPlan(input);
    // The flag's row is written with a compare-and-set: an edit committed meanwhile makes it start over on the newer flag.
    return onLatestVersion({
      load: () => this.flagIn(origin, flagKey, environment, 'update'),
      apply: (flag) => this.createOn(origin, flag, environment, input),
      what: `the feature flag '${flagKey}'`,
    });
  }

  private async createOn(origin: RequestOrigin, flag: ResourceRow, environment: string, input: RolloutInput): Promise<ResourceRow> {
    const state = stateIn(flag.data, environment);
    const variants = ((flag.data.variants as { key: string }[] | undefined) ?? []).map((v) => v.key);
    const current = (state.default_serve as { variant?: string } | undefined)?.variant;
    const control =
      input.control ?? (current !== undefined && current !== input.variant ? current : (state.off_variant as string | undefined));
    const problems: ErrorDetail[] = [];
    if (!variants.includes(input.variant))
      problems.push({ path: 'variant', message: `'${input.variant}' is not a variant of the flag (${variants.join(', ')})` });
    if (control === undefined) problems.push({ path: 'control', message: 'the flag has no variant to use as control; name one' });
    else if (!variants.includes(control))
      problems.push({ path: 'control', message: `'${control}' is not a variant of the flag (${variants.join(', ')})` });
    else if (control === input.variant) problems.push({ path: 'control', message: 'must differ from variant' });
    if (problems.length > 0) throw invalid('the rollout is invalid', problems);
    const active = (await this.ctx.store.allResources('rollout', environment)).find(
      (r) => r.data.flag === flag.key && ACTIVE_ROLLOUT_STATUSES.has(r.status ?? ''),
    );
    if (active !== undefined) throw this.busy(flag.key, environment, active.id);
    const served = (state.default_serve as { experiment?: string } | undefined)?.experiment;
    if (served !== undefined)
      throw conflict(
        `the default serve of '${flag.key}' in '${environment}' is the experiment '${served}': complete it or serve a variant before rolling one out`,
        { flag: flag.key, environment, experiment: served },
      );
    if (state.enabled !== true)
      throw conflict(`the feature flag '${flag.key}' is disabled in '${environment}': enable it before rolling out a variant`, {
        flag: flag.key,
        environment,
      });

    const id = randomUUID();
    const now = new Date(this.ctx.now()).toISOString();
    const stages = storedStages(input);
    const guardrails = storedGuardrails(input);
    const experimentKey = `rollout.${id.slice(0, 8)}`;
    const percent = stages[0]!.percent;
    const plan = { id, flag: flag.key, environment, variant: input.variant, control: control!, percent };
    const experiment: ResourceRow = {
      seq: 0,
      id: randomUUID(),
      kind: 'experiment',
      environment,
      key: experimentKey,
      ownerId: ownerIdOf(origin.actor!),
      status: 'RUNNING',
      data: experimentData(plan, flag, experimentKey, guardrails, now),
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const nextFlag: ResourceRow = { ...flag, data: withDefaultServe(flag, environment, servesExperiment(experimentKey)), updatedAt: now };
    const data: RolloutData = {
      flag: flag.key,
      environment,
      variant: input.variant,
      control: control!,
      stages,
      guardrails,
      on_regression: input.on_regression ?? 'rollback',
      status: 'running',
      stage: 1,
      share: percent,
      stage_started_at: now,
      experiment: experimentKey,
      previous_default_serve: state.default_serve ?? null,
      history: [{ at: now, action: 'started', stage: 1, percent, by: 'user' }],
    };
    const row: ResourceRow = {
      seq: 0,
      id,
      kind: 'rollout',
      environment,
      // The flag's key while active: the store refuses a second active rollout of it (see ResourceKind).
      key: flag.key,
      ownerId: ownerIdOf(origin.actor!),
      status: 'running',
      data: data as unknown as Record<string, unknown>,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await commitMutation(this.ctx, origin, {
        writes: [
          { table: 'resources', action: 'insert', row },
          { table: 'resources', action: 'insert', row: experiment },
          { table: 'resources', action: 'update', row: nextFlag },
        ],
        patches: {
          [environment]: {
            flags: { [flag.key]: toConfigFlag(nextFlag.data, environment) },
            experiments: { [experimentKey]: toConfigExperiment(experiment.data) },
          },
        },
        audit: {
          action: 'rollout.create',
          resourceType: 'rollout',
          resourceId: id,
          resourceKey: flag.key,
          environment,
          before: null,
          after: data,
        },
        announced: [await flagChange(this.ctx, flag, nextFlag.data, environment, 'rollout.create')],
        events: [
          emit('rollout.started', {
            environment,
            flag: flag.key,
            rollout: id,
            variant: data.variant,
            control: data.control,
            stage: 1,
            percent,
          }),
        ],
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw this.busy(flag.key, environment, null);
      throw e;
    }
    this.ctx.pipeline.experimentsChanged();
    return row;
  }

  private busy(flag: string, environment: string, id: string | null): ApiError {
    return conflict(`the feature flag '${flag}' already has an active rollout in '${environment}'; stop it first`, {
      flag,
      environment,
      ...(id === null ? {} : { rollout: id }),
    });
  }

  /** Stops an active rollout by hand: the environment serves the control again. Honours `If-Match`. */
  async stop(origin: RequestOrigin, flagKey: string, environment: string, id: string): Promise<ResourceRow> {
    const flag = await this.flagIn(origin, flagKey, environment, 'update');
    return onLatestVersion({
      load: () => this.find(flag, environment, id),
      ifMatch: origin.ifMatch,
      what: `the rollout '${id}'`,
      apply: async (row) => {
        if (!ACTIVE_ROLLOUT_STATUSES.has(row.status ?? ''))
          throw new ApiError('INVALID_STATE_TRANSITION', `cannot stop a rollout that is ${row.status}; only running or paused ones stop`, {
            status: row.status,
            action: 'stop',
            allowed_from: [...ACTIVE_ROLLOUT_STATUSES],
          });
        return endRollout(this.ctx, origin, row, 'stopped', { by: 'user', reason: 'stopped by a person' });
      },
    });
  }

  /** The API form: stored attributes plus, from the internal experiment, units per arm and each guardrail's figures. */
  async view(row: ResourceRow): Promise<ResourceObject> {
    const data = row.data as unknown as RolloutData;
    const stage = data.stages[data.stage - 1]!;
    const holdEndsAt = new Date(Date.parse(data.stage_started_at) + stage.hold_minutes * 60_000).toISOString();
    let figures: Record<string, unknown>;
    const experiment = await this.ctx.store.getResource('experiment', data.experiment, data.environment);
    try {
      if (experiment === null) throw new Error(`its experiment '${data.experiment}' no longer exists`);
      const f = await rolloutFigures(this.results, experiment, data, false);
      figures = { units: f.units, guardrail_checks: f.guardrails, figures_error: null };
    } catch (err) {
      figures = { units: null, guardrail_checks: null, figures_error: err instanceof Error ? err.message : String(err) };
    }
    return resource(
      'rollout',
      row.id,
      {
        ...data,
        hold_ends_at: ACTIVE_ROLLOUT_STATUSES.has(data.status) ? holdEndsAt : null,
        ...figures,
        version: row.version,
        created_at: row.createdAt,
        updated_at: row.updatedAt,
      },
      row.ownerId,
    );
  }
}
