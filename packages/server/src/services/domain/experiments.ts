import { ApiError, invalid, notFound } from '../../errors';
import type { ResourceRow } from '../../store/types';
import type { RequestOrigin, ServerContext } from '../context';
import { experimentSpec, TRANSITIONS, type LifecycleAction } from './experiment-spec';
import { onLatestVersion } from '../config/latest-version';
import { ResourceService } from './resource-service';
import { assertUnprotected } from './environment-guards';
import { takeResultsSnapshot } from '../results/results-snapshot';
import { assertNotServed } from './flag-experiments';
import { sameJson } from './same-json';

/** Fields that would reassign enrolled units if they changed mid-experiment. */
const FROZEN_WHILE_LIVE = ['variants', 'bucket_by', 'salt', 'namespace'] as const;

/** Lifecycle timestamps: written by the server only. */
const STAMPS = ['started_at', 'paused_at', 'completed_at', 'archived_at'] as const;

function withoutStamps(input: Record<string, unknown>): Record<string, unknown> {
  const out = { ...input };
  for (const k of STAMPS) delete out[k];
  return out;
}

/**
 * Experiments: the shared resource behaviour plus the lifecycle state machine
 * `DRAFT -> RUNNING <-> PAUSED -> COMPLETED -> ARCHIVED` (DRAFT may be archived; RUNNING may
 * complete directly). Status only changes through lifecycle actions.
 */
export class ExperimentService extends ResourceService {
  constructor(ctx: ServerContext) {
    super(experimentSpec, ctx);
  }

  override async create(origin: RequestOrigin, input: Record<string, unknown>): Promise<ResourceRow> {
    if (input.status !== undefined && input.status !== 'DRAFT') {
      throw new ApiError('INVALID_STATE_TRANSITION', 'experiments are created as DRAFT; start one with POST /experiments/{id}/start');
    }
    return super.create(origin, { ...withoutStamps(input), status: 'DRAFT' });
  }

  /** A new experiment belongs to the environment its body names, else the request's; for good. */
  protected override async buildNew(
    origin: RequestOrigin,
    input: Record<string, unknown>,
    environments: readonly string[],
  ): Promise<Record<string, unknown>> {
    const environment = (input.environment as string | undefined) ?? origin.environment;
    if (!environments.includes(environment))
      throw invalid('the experiment names an unknown environment', [
        { path: 'environment', message: `unknown environment '${environment}'` },
      ]);
    return this.validate({ ...input, environment });
  }

  /**
   * The environment and status never change through an update, frozen fields not while live,
   * and the lifecycle timestamps are the server's; checked against the row the update is built on.
   */
  protected override prepareUpdate(row: ResourceRow, input: Record<string, unknown>, mode: 'patch' | 'put'): Record<string, unknown> {
    if (input.environment !== undefined && input.environment !== row.environment)
      throw invalid('an experiment stays in the environment it was created in', [
        { path: 'environment', message: `expected '${row.environment}'` },
      ]);
    if (input.status !== undefined && input.status !== row.data.status) {
      throw new ApiError(
        'INVALID_STATE_TRANSITION',
        `status changes through lifecycle actions (POST /experiments/${row.key}/start|pause|resume|complete|archive)`,
      );
    }
    const live = row.data.status === 'RUNNING' || row.data.status === 'PAUSED';
    if (live) {
      for (const f of FROZEN_WHILE_LIVE) {
        const next =
          mode === 'patch' && !(f in input) ? row.data[f] : (input[f] ?? (f === 'salt' ? row.key : f === 'bucket_by' ? 'key' : undefined));
        if (!sameJson(next, row.data[f]))
          throw new ApiError('INVALID_STATE_TRANSITION', `${f} cannot change while the experiment is ${String(row.data.status)}`, [
            { path: f, message: 'frozen while RUNNING or PAUSED' },
          ]);
      }
    }
    const stamps = Object.fromEntries(STAMPS.filter((k) => row.data[k] !== undefined).map((k) => [k, row.data[k]]));
    return { ...withoutStamps(input), ...stamps, status: row.data.status, environment: row.environment };
  }

  /**
   * A RUNNING or PAUSED experiment is not deleted (its run is still collecting): `409
   * INVALID_STATE_TRANSITION`, like any action its status does not allow. Complete it first.
   * Checked on the row being deleted, the latest stored one (permission is checked before).
   */
  protected override async removeRow(origin: RequestOrigin, row: ResourceRow): Promise<void> {
    const status = row.data.status as string;
    if (status === 'RUNNING' || status === 'PAUSED')
      throw new ApiError('INVALID_STATE_TRANSITION', `cannot delete an experiment that is ${status}; complete it first`, {
        status,
        action: 'delete',
        allowed_from: ['DRAFT', 'COMPLETED', 'ARCHIVED'],
      });
    // Nor one a flag still serves (409 CONFLICT naming the flags).
    await assertNotServed(this.ctx, row, 'delete');
    return super.removeRow(origin, row);
  }

  /**
   * Applies a lifecycle action, audited as `experiment.<action>` and pushed to SDKs; on the
   * latest stored row, and with `If-Match` only on the version it names.
   */
  async transition(origin: RequestOrigin, idOrKey: string, action: LifecycleAction): Promise<ResourceRow> {
    return this.onLatest(origin, idOrKey, 'lifecycle', async (row) => {
      await assertUnprotected(this.ctx, origin, [row.environment!], 'run experiment lifecycle actions');
      return this.transitionFrom(origin, row, action);
    });
  }

  /**
   * The same, for a row already loaded and authorized (scheduler, safety monitor). If the row
   * changed meanwhile (a concurrent edit), the action is checked and applied again on the latest.
   */
  async transitionRow(
    origin: RequestOrigin,
    row: ResourceRow,
    action: LifecycleAction,
    extra: Record<string, unknown> = {},
    auditAction = `experiment.${action}`,
  ): Promise<ResourceRow> {
    let first: ResourceRow | null = row;
    return onLatestVersion({
      load: async () => {
        const latest = first ?? (await this.ctx.store.getResource('experiment', row.id));
        first = null;
        if (latest === null) throw notFound(this.spec.label, row.key);
        return latest;
      },
      apply: (latest) => this.transitionFrom(origin, latest, action, extra, auditAction),
      what: `the experiment '${row.key}'`,
    });
  }

  private async transitionFrom(
    origin: RequestOrigin,
    row: ResourceRow,
    action: LifecycleAction,
    extra: Record<string, unknown> = {},
    auditAction = `experiment.${action}`,
  ): Promise<ResourceRow> {
    const t = TRANSITIONS[action];
    const status = row.data.status as string;
    if (!(t.from as readonly string[]).includes(status)) {
      throw new ApiError(
        'INVALID_STATE_TRANSITION',
        `cannot ${action} an experiment that is ${status}; allowed from ${t.from.join(' or ')}`,
        {
          status,
          action,
          allowed_from: t.from,
        },
      );
    }
    // The results are frozen at completion: what the run counted so far is stored with it.
    if (action === 'complete') await takeResultsSnapshot(this.ctx, row);
    if (action === 'archive') await assertNotServed(this.ctx, row, 'archive');
    const data: Record<string, unknown> = { ...row.data, status: t.to, ...extra };
    // A stamp given in `extra` wins (the demo's experiment started a week before its seeded traffic ends).
    if (t.stamp !== null && extra[t.stamp] === undefined) data[t.stamp] = new Date(this.ctx.now()).toISOString();
    if (action !== 'pause') delete data.pause_reason;
    // Compare-and-set on the status read: of two instances (or a request and a job) acting on
    // the same transition at once, one writes and the other fails as a stale write.
    return this.save(origin, row, this.validate(data), auditAction, undefined, { ifStatus: row.status });
  }
}
