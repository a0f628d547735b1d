import { analyze, type AnalysisResult, type MetricStats, type VariantInput } from '@switchyard/stats';
import { cupedReport, withoutCovariates } from './cuped-report';
import type { ExperimentAggregates, ExperimentCovariates, ResourceRow } from '../../store/types';
import { noExclusions, type ExclusionReason, type Exclusions } from '../../store/run-attribution';
import type { ServerContext } from '../context';

/** How often a cached result may be served without new events: the 60 s staleness bound. */
export const RESULTS_MAX_AGE_MS = 60_000;

const DAY_MS = 86_400_000;

export interface ResultsOptions {
  alpha: number;
  sequential: boolean;
  sequentialTuning: number;
  /** Apply CUPED to the metrics that configure a window (default true). */
  cuped?: boolean;
}

import { metricsOf, type MetricDef } from './metrics-of';
import { isFrozen, readResultsSnapshot } from './results-snapshot';

export { metricsOf, type MetricDef } from './metrics-of';

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** camelCase keys to the API's snake_case, leaving map keys (metric and variant keys) alone. */
function toSnake(value: unknown, keepKeys = false): unknown {
  if (Array.isArray(value)) return value.map((v) => toSnake(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[keepKeys ? k : snake(k)] = toSnake(v, k === 'metrics');
  return out;
}

/** A computed result as the API returns it. */
export interface ResultsPayload {
  experiment: { id: string; key: string; status: unknown };
  computed_at: string;
  method: Record<string, unknown>;
  variants: { key: string; weight: number; units: number }[];
  excluded_units: number;
  /** What was left out of the run and why: exposures per reason (`multiple_variants`: units). */
  exclusions: Exclusions;
  /** The same per sender (`api_key:<id>` or `user:<id>`), largest first, to find a key sending forged exposures. */
  exclusions_by_sender: { reason: ExclusionReason; sent_by: string | null; events: number }[];
  /** When the figures were frozen (the experiment completed); `null` while they still move. */
  frozen_at: string | null;
  srm: unknown;
  metrics: Record<string, unknown>;
  analysis: AnalysisResult;
}

/** Why a metric of a completed experiment has no figures: it was not among its metrics when it completed. */
export const ADDED_AFTER_COMPLETION_REASON = 'this metric was added after the experiment completed; its results were frozen without it';

/** What {@link ResultsService.sufficientStats} returns. */
export interface SufficientStats {
  metrics: MetricDef[];
  variants: VariantInput[];
  excludedUnits: number;
  exclusions: Exclusions;
  exclusionsBySender: ExperimentAggregates['exclusionsBySender'];
  /** When a completed run's figures were frozen; `null` for live summaries. */
  frozenAt: string | null;
  /** Metrics a completed run's snapshot has no figures for. */
  missing: ReadonlySet<string>;
}

/** Why a metric whose stored sums are not finite numbers has no figures. */
export const NOT_COMPUTABLE_REASON =
  'the stored sums of this metric are not finite (events recorded before values were bounded overflowed them); rebuild the summaries from valid events';

/**
 * Results of one experiment from the store's sufficient statistics: units from their first
 * exposure, metric events only after it, units seen in two variants excluded and counted.
 * Cached per experiment and options; a cached result is reused until new events arrive or
 * it is 60 s old.
 */
export class ResultsService {
  private readonly cache = new Map<string, { at: number; eventsVersion: number; payload: ResultsPayload }>();

  constructor(private readonly ctx: ServerContext) {}

  /**
   * The per-variant sufficient statistics of every metric the experiment analyzes (control
   * first), as the analysis and the safety monitor read them; `count` is units with an event.
   * With `cuped`, metrics that set `cuped_window_days` carry their pre-exposure covariate.
   */
  async sufficientStats(row: ResourceRow, options: { cuped?: boolean } = {}): Promise<SufficientStats> {
    const metrics = metricsOf(row.data);
    const configured = row.data.variants as { key: string; weight: number }[];
    // An experiment's results count only its own environment's events.
    const environment = row.environment ?? 'production';
    const adjusted = options.cuped === true ? metrics.filter((m) => m.cupedWindowDays !== undefined) : [];
    // A completed run is read from what it was at completion; one completed before snapshots
    // existed falls back to the live summaries.
    const snapshot = isFrozen(row) ? await readResultsSnapshot(this.ctx, row) : null;
    let agg: ExperimentAggregates;
    let covariates: ExperimentCovariates = {};
    const missing = new Set<string>();
    if (snapshot !== null) {
      agg = snapshot.aggregates;
      for (const m of metrics) if (agg.metrics[m.key] === undefined) missing.add(m.key);
      for (const m of adjusted) {
        const c = snapshot.covariates[m.key];
        if (c !== undefined && c.window_ms === m.cupedWindowDays! * DAY_MS) covariates[m.key] = c.sums;
      }
    } else {
      agg = await this.ctx.store.experimentAggregates(environment, row.key, metrics);
      if (adjusted.length > 0)
        covariates = await this.ctx.store.experimentCovariates(
          environment,
          row.key,
          adjusted.map((m) => ({ key: m.key, type: m.type, windowMs: m.cupedWindowDays! * DAY_MS })),
        );
    }
    const variants = configured.map((v) => ({
      key: v.key,
      weight: v.weight,
      units: agg.units[v.key] ?? 0,
      stats: Object.fromEntries(
        metrics.map((m) => {
          const s = agg.metrics[m.key]?.[v.key];
          const stats: MetricStats = { count: s?.unitsWithEvents ?? 0, sum: s?.sum ?? 0, sumSquares: s?.sumSquares ?? 0 };
          // Every variant of a CUPED metric gets a covariate, zeros when none of its units had a pre-exposure event.
          if (covariates[m.key] !== undefined) stats.covariate = covariates[m.key]![v.key] ?? { sum: 0, sumSquares: 0, sumProducts: 0 };
          return [m.key, stats];
        }),
      ),
    }));
    return {
      metrics,
      variants,
      excludedUnits: agg.excludedUnits,
      // Snapshots taken by older servers lack these.
      exclusions: { ...noExclusions(), ...agg.exclusions, multiple_variants: agg.excludedUnits },
      exclusionsBySender: agg.exclusionsBySender ?? [],
      frozenAt: snapshot?.taken_at ?? null,
      missing,
    };
  }

  async compute(row: ResourceRow, options: ResultsOptions): Promise<ResultsPayload> {
    const cuped = options.cuped ?? true;
    const cacheKey = `${row.id}|${row.updatedAt}|${options.alpha}|${options.sequential}|${options.sequentialTuning}|${cuped}`;
    const now = this.ctx.now();
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined && hit.eventsVersion === this.ctx.events.version && now - hit.at < RESULTS_MAX_AGE_MS) {
      this.ctx.metrics.resultsCache.inc({ outcome: 'hit' });
      return hit.payload;
    }
    this.ctx.metrics.resultsCache.inc({ outcome: 'miss' });
    const eventsVersion = this.ctx.events.version;
    const {
      metrics: all,
      variants,
      excludedUnits,
      exclusions,
      exclusionsBySender,
      frozenAt,
      missing,
    } = await this.sufficientStats(row, {
      cuped,
    });
    // Sums stored before event values were bounded may have overflowed (one value near 1e154 makes
    // the sum of squares infinite). Such a metric is reported as not computable; the others still are.
    // So is a metric added after the run completed: its snapshot has no figures for it.
    const finite = (m: MetricDef) =>
      !missing.has(m.key) &&
      variants.every((v) => Number.isFinite(v.stats[m.key]?.sum ?? 0) && Number.isFinite(v.stats[m.key]?.sumSquares ?? 0));
    const metrics = all.filter(finite);
    const input = {
      alpha: options.alpha,
      sequential: options.sequential,
      sequentialTuning: options.sequentialTuning,
      metrics: metrics.map(({ key, type }) => ({ key, type })),
    };
    const analysis = analyze({ ...input, variants });
    // The same analysis without covariates, so that CUPED's figures are reported beside the plain ones.
    const withCovariate = metrics.filter((m) => analysis.metrics[m.key]?.cuped === true);
    const plain =
      withCovariate.length === 0
        ? null
        : analyze({
            ...input,
            metrics: withCovariate.map(({ key, type }) => ({ key, type })),
            variants: withoutCovariates(variants),
          });
    const metricsOut: Record<string, unknown> = {};
    for (const m of all) {
      if (!metrics.includes(m)) {
        const reason = missing.has(m.key) ? ADDED_AFTER_COMPLETION_REASON : NOT_COMPUTABLE_REASON;
        metricsOut[m.key] = { role: m.role, key: m.key, type: m.type, computable: false, reason };
        continue;
      }
      const r = analysis.metrics[m.key]!;
      const out = { role: m.role, computable: true, ...(toSnake(r) as Record<string, unknown>) };
      const unadjusted = plain?.metrics[m.key];
      if (unadjusted !== undefined) Object.assign(out, cupedReport(r, unadjusted, m.cupedWindowDays!, toSnake));
      metricsOut[m.key] = out;
    }
    const payload: ResultsPayload = {
      experiment: { id: row.id, key: row.key, status: row.data.status },
      computed_at: new Date(now).toISOString(),
      method: {
        frequentist: "Welch's t-test; relative lift with the delta-method standard error",
        bayesian: 'normal approximation of the relative lift, uninformative prior',
        alpha: analysis.alpha,
        sequential: { included: analysis.sequential.included, tuning: analysis.sequential.tuning },
        srm_p_value_threshold: 0.001,
        units:
          "counted from their first exposure between started_at and completed_at; metric events count only after it; exposures outside that window or of a variant the experiment does not have, and units exposed to more than one variant, are excluded (see exclusions); a COMPLETED experiment's figures are those stored when it completed",
        cuped:
          "regression adjustment (CUPED) for metrics that set cuped_window_days: the covariate is the unit's value of the same metric in that many days before its first exposure; comparisons carry the unadjusted figures and the variance reduction in cuped",
      },
      variants: variants.map((v) => ({ key: v.key, weight: v.weight, units: v.units })),
      excluded_units: excludedUnits,
      exclusions,
      exclusions_by_sender: exclusionsBySender.map((x) => ({
        reason: x.reason,
        sent_by: x.sentBy === '' ? null : x.sentBy,
        events: x.events,
      })),
      frozen_at: frozenAt,
      srm: toSnake(analysis.srm),
      metrics: metricsOut,
      analysis,
    };
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(cacheKey, { at: now, eventsVersion, payload });
    return payload;
  }
}

/** The per-variant table as CSV: one row per metric and variant, with the comparison vs control. */
export function resultsCsv(p: ResultsPayload): string {
  const header = [
    'metric',
    'role',
    'variant',
    'units',
    'count',
    'mean',
    'variance',
    'absolute_lift',
    'relative_lift',
    'relative_ci_low',
    'relative_ci_high',
    'p_value',
    'chance_to_beat_control',
    'error',
  ];
  const rows = [header.join(',')];
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  for (const [key, m] of Object.entries(p.analysis.metrics)) {
    const role = (p.metrics[key] as { role: string }).role;
    m.variants.forEach((v, i) => {
      const c = i === 0 ? null : (m.comparisons[i - 1] ?? null);
      rows.push(
        [
          key,
          role,
          v.key,
          v.units,
          v.count,
          v.mean,
          v.variance,
          c?.absoluteLift,
          c?.relativeLift,
          c?.relative.ci?.[0],
          c?.relative.ci?.[1],
          c?.relative.pValue,
          c?.chanceToBeatControl,
          c?.error,
        ]
          .map(cell)
          .join(','),
      );
    });
  }
  return rows.join('\n') + '\n';
}
