import type { ExperimentAggregates, ExperimentCovariates, ResourceRow } from '../../store/types';
import type { ServerContext } from '../context';
import { metricsOf } from './metrics-of';

const DAY_MS = 86_400_000;

/**
 * The sufficient statistics of an experiment as they were when it completed: what the results of
 * a COMPLETED (and later ARCHIVED) experiment are computed from, so the same request returns the
 * same numbers however many events arrive afterwards.
 */
export interface ResultsSnapshot {
  taken_at: string;
  aggregates: ExperimentAggregates;
  /** CUPED covariates of the metrics that set a window then, with that window. */
  covariates: Record<string, { window_ms: number; sums: ExperimentCovariates[string] }>;
}

/** Where a run's snapshot is kept: beside the server's settings, under the experiment's id (one per run). */
const settingKey = (row: ResourceRow) => `results-snapshot:${row.id}`;

/** Statuses whose results come from the snapshot taken at completion. */
export const isFrozen = (row: ResourceRow): boolean => row.data.status === 'COMPLETED' || row.data.status === 'ARCHIVED';

/**
 * Takes and stores the snapshot of `row`'s run, about to complete: every event stored so far is
 * summarized first, so it holds everything acknowledged before the completion.
 *
 * @example
 * ```ts
 * await takeResultsSnapshot(ctx, row); // then commit the COMPLETED status
 * ```
 */
export async function takeResultsSnapshot(ctx: ServerContext, row: ResourceRow): Promise<ResultsSnapshot> {
  const environment = row.environment ?? 'production';
  const metrics = metricsOf(row.data);
  await ctx.events.drain();
  const aggregates = await ctx.store.experimentAggregates(environment, row.key, metrics);
  const adjusted = metrics.filter((m) => m.cupedWindowDays !== undefined);
  const covariates: ResultsSnapshot['covariates'] = {};
  if (adjusted.length > 0) {
    const sums = await ctx.store.experimentCovariates(
      environment,
      row.key,
      adjusted.map((m) => ({ key: m.key, type: m.type, windowMs: m.cupedWindowDays! * DAY_MS })),
    );
    for (const m of adjusted) covariates[m.key] = { window_ms: m.cupedWindowDays! * DAY_MS, sums: sums[m.key] ?? {} };
  }
  const snapshot: ResultsSnapshot = { taken_at: new Date(ctx.now()).toISOString(), aggregates, covariates };
  await ctx.store.setSetting(settingKey(row), JSON.stringify(snapshot));
  return snapshot;
}

/** The snapshot of a completed run; `null` for one completed before snapshots were taken. */
export async function readResultsSnapshot(ctx: ServerContext, row: ResourceRow): Promise<ResultsSnapshot | null> {
  const raw = await ctx.store.getSetting(settingKey(row));
  return raw === null ? null : (JSON.parse(raw) as ResultsSnapshot);
}
