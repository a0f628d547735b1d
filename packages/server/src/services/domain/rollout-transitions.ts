import type { ConfigPatch } from '@switchyard/core';
import type { ResourceRow, WriteOp } from '../../store/types';
import { toConfigExperiment, toConfigFlag } from '../config/config-state';
import { commitMutation, type AuditInput, type RequestOrigin, type ServerContext } from '../context';
import { takeResultsSnapshot } from '../results/results-snapshot';
import { armsAt, flagServes, withDefaultServe, type RolloutData, type RolloutHistoryEntry } from './rollout-state';
import { emit, type WebhookEventType } from '../webhooks/webhook-events';
import { flagAttributes } from './flag-spec';
import { environmentKeys } from './environment-guards';

/** How a rollout ends. */
export type RolloutEnding = 'completed' | 'rolled_back' | 'stopped';

const AUDIT_ACTION: Record<RolloutEnding, string> = {
  completed: 'rollout.complete',
  rolled_back: 'rollout.rollback',
  stopped: 'rollout.stop',
};

/** Who a transition is by, why, and the checks it rested on. */
export interface TransitionCause {
  by: RolloutHistoryEntry['by'];
  reason?: string;
  checks?: RolloutHistoryEntry['checks'];
}

const iso = (ctx: ServerContext) => new Date(ctx.now()).toISOString();

/**
 * A rollout's change to its flag's `default_serve`, announced by webhook as a person's edit would
 * be (`flag.updated`, `action` naming the rollout transition) so subscribers to flag changes see
 * it; its audit record is the rollout's (pass it as `announced` of the commit).
 */
export async function flagChange(
  ctx: ServerContext,
  before: ResourceRow,
  after: Record<string, unknown>,
  environment: string,
  action: string,
): Promise<AuditInput> {
  const environments = await environmentKeys(ctx);
  return {
    action,
    resourceType: 'feature-flag',
    resourceId: before.id,
    resourceKey: before.key,
    environment,
    before: flagAttributes(before.data, environment, environments),
    after: flagAttributes(after, environment, environments),
  };
}

function entry(ctx: ServerContext, action: RolloutHistoryEntry['action'], data: RolloutData, cause: TransitionCause): RolloutHistoryEntry {
  const stage = data.stages[data.stage - 1]!;
  return {
    at: iso(ctx),
    action,
    stage: data.stage,
    percent: stage.percent,
    by: cause.by,
    ...(cause.reason === undefined ? {} : { reason: cause.reason }),
    ...(cause.checks === undefined ? {} : { checks: cause.checks }),
  };
}

/** What every rollout webhook says. */
const eventData = (rollout: ResourceRow, data: RolloutData, extra: Record<string, unknown>) => ({
  environment: data.environment,
  flag: data.flag,
  rollout: rollout.id,
  variant: data.variant,
  control: data.control,
  stage: data.stage,
  percent: data.share,
  ...extra,
});

/**
 * Commits one transition of a rollout: its new row (a compare-and-set on its version and its
 * status, so of two instances or a request and the monitor only one applies it), the other rows it
 * changes, the environment's config patch, the audit record and the webhook event, in one
 * transaction.
 */
async function commitTransition(
  ctx: ServerContext,
  origin: RequestOrigin,
  rollout: ResourceRow,
  next: RolloutData,
  change: {
    writes: WriteOp[];
    patch: Omit<ConfigPatch, 'version'>;
    auditAction: string;
    event: WebhookEventType;
    extra?: Record<string, unknown>;
    /** The flag's change, if any (see {@link flagChange}). */
    announced?: AuditInput[];
  },
): Promise<ResourceRow> {
  const row: ResourceRow = {
    ...rollout,
    // A rollout that ended gives its flag's active slot back (see ResourceKind).
    key: next.status === 'running' || next.status === 'paused' ? rollout.key : rollout.id,
    status: next.status,
    data: next as unknown as Record<string, unknown>,
    updatedAt: iso(ctx),
  };
  const hasPatch = Object.keys(change.patch).length > 0;
  await commitMutation(ctx, origin, {
    writes: [{ table: 'resources', action: 'update', row, ifStatus: rollout.status }, ...change.writes],
    ...(hasPatch ? { patches: { [next.environment]: change.patch } } : {}),
    audit: {
      action: change.auditAction,
      resourceType: 'rollout',
      resourceId: rollout.id,
      resourceKey: next.flag,
      environment: next.environment,
      before: rollout.data,
      after: next,
    },
    events: [emit(change.event, eventData(rollout, next, change.extra ?? {}))],
    ...(change.announced === undefined ? {} : { announced: change.announced }),
  });
  ctx.pipeline.experimentsChanged();
  return { ...row, version: rollout.version + 1 };
}

/**
 * Ends a rollout: `completed` serves the new variant, `rolled_back` and `stopped` the control, as
 * the environment's `default_serve` — unless someone already replaced the rollout's serve there,
 * which is then left as they set it. The internal experiment completes (its results frozen).
 */
export async function endRollout(
  ctx: ServerContext,
  origin: RequestOrigin,
  rollout: ResourceRow,
  ending: RolloutEnding,
  cause: TransitionCause,
): Promise<ResourceRow> {
  const data = rollout.data as unknown as RolloutData;
  const env = data.environment;
  const now = iso(ctx);
  const writes: WriteOp[] = [];
  const announced: AuditInput[] = [];
  const patch: Omit<ConfigPatch, 'version'> = {};
  const flag = await ctx.store.getResource('flag', data.flag);
  if (flag !== null && flagServes(flag, env, data.experiment)) {
    const serve = { variant: ending === 'completed' ? data.variant : data.control };
    const next: ResourceRow = { ...flag, data: withDefaultServe(flag, env, serve), updatedAt: now };
    writes.push({ table: 'resources', action: 'update', row: next });
    patch.flags = { [flag.key]: toConfigFlag(next.data, env) };
    announced.push(await flagChange(ctx, flag, next.data, env, AUDIT_ACTION[ending]));
  }
  const experiment = await ctx.store.getResource('experiment', data.experiment, env);
  if (experiment !== null && (experiment.status === 'RUNNING' || experiment.status === 'PAUSED')) {
    await takeResultsSnapshot(ctx, experiment);
    const next: ResourceRow = {
      ...experiment,
      status: 'COMPLETED',
      data: { ...experiment.data, status: 'COMPLETED', completed_at: now },
      updatedAt: now,
    };
    writes.push({ table: 'resources', action: 'update', row: next, ifStatus: experiment.status });
    patch.experiments = { [experiment.key]: null };
  }
  const next: RolloutData = {
    ...data,
    status: ending,
    ended_at: now,
    ...(cause.reason === undefined ? {} : { end_reason: cause.reason }),
    history: [...data.history, entry(ctx, ending, data, cause)],
  };
  return commitTransition(ctx, origin, rollout, next, {
    writes,
    patch,
    auditAction: AUDIT_ACTION[ending],
    event: `rollout.${ending}`,
    extra: { reason: cause.reason ?? null, checks: cause.checks ?? null },
    announced,
  });
}

/** Moves a running rollout to its next stage: the internal experiment's split grows to the stage's share. */
export async function advanceRollout(
  ctx: ServerContext,
  origin: RequestOrigin,
  rollout: ResourceRow,
  experiment: ResourceRow,
  cause: TransitionCause,
): Promise<ResourceRow> {
  const data = rollout.data as unknown as RolloutData;
  const stage = data.stage + 1;
  const percent = data.stages[stage - 1]!.percent;
  const now = iso(ctx);
  const nextExperiment: ResourceRow = {
    ...experiment,
    data: { ...experiment.data, variants: armsAt(data.variant, data.control, percent) },
    updatedAt: now,
  };
  const moved: RolloutData = { ...data, stage, share: percent, stage_started_at: now };
  const next: RolloutData = { ...moved, history: [...data.history, entry(ctx, 'advanced', moved, cause)] };
  return commitTransition(ctx, origin, rollout, next, {
    writes: [{ table: 'resources', action: 'update', row: nextExperiment, ifStatus: 'RUNNING' }],
    patch: { experiments: { [experiment.key]: toConfigExperiment(nextExperiment.data) } },
    auditAction: 'rollout.advance',
    event: 'rollout.stage_changed',
    extra: { previous_stage: data.stage, previous_percent: data.share },
  });
}

/** Pauses a running rollout after a regression: the share stays where it is and the monitor stops advancing it. */
export async function pauseRollout(
  ctx: ServerContext,
  origin: RequestOrigin,
  rollout: ResourceRow,
  cause: TransitionCause,
): Promise<ResourceRow> {
  const data = rollout.data as unknown as RolloutData;
  const next: RolloutData = { ...data, status: 'paused', history: [...data.history, entry(ctx, 'paused', data, cause)] };
  return commitTransition(ctx, origin, rollout, next, {
    writes: [],
    patch: {},
    auditAction: 'rollout.pause',
    event: 'rollout.paused',
    extra: { reason: cause.reason ?? null, checks: cause.checks ?? null },
  });
}
