import { analyze, type AnalysisResult, type VariantInput } from '@switchyard/stats';
import type { ResourceRow } from '../store/types';
import type { ServerContext } from './context';

/** How often a cached result may be served without new events: the 60 s staleness bound. */
export const RESULTS_MAX_AGE_MS = 60_000;

export interface ResultsOptions {
  alpha: number;
  sequential: boolean;
  sequentialTuning: number;
}

type MetricRole = 'primary' | 'secondary' | 'guardrail';
export interface MetricDef {
  key: string;
  type: 'conversion' | 'mean';
  role: MetricRole;
}

/** The metrics an experiment analyzes: its metrics, then guardrails that are not already among them. */
export function metricsOf(data: Record<string, unknown>): MetricDef[] {
  const metrics = (data.metrics as { key: string; type: 'conversion' | 'mean' }[] | undefined) ?? [];
  const out: MetricDef[] = metrics.map((m) => ({ ...m, role: m.key === data.primary_metric ? 'primary' : 'secondary' }));
  for (const g of (data.guardrails as { metric: string; type?: 'conversion' | 'mean' }[] | undefined) ?? []) {
    if (!out.some((m) => m.key === g.metric)) out.push({ key: g.metric, type: g.type ?? 'mean', role: 'guardrail' });
  }
  return out;
}

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
  srm: unknown;
  metrics: Record<string, unknown>;
  analysis: AnalysisResult;
}

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
   */
  async sufficientStats(row: ResourceRow): Promise<{ metrics: MetricDef[]; variants: VariantInput[]; excludedUnits: number }> {
    const metrics = metricsOf(row.data);
    const configured = row.data.variants as { key: string; weight: number }[];
    const agg = await this.ctx.store.experimentAggregates(row.key, metrics);
    const variants = configured.map((v) => ({
      key: v.key,
      weight: v.weight,
      units: agg.units[v.key] ?? 0,
      stats: Object.fromEntries(
        metrics.map((m) => {
          const s = agg.metrics[m.key]?.[v.key];
          return [m.key, { count: s?.unitsWithEvents ?? 0, sum: s?.sum ?? 0, sumSquares: s?.sumSquares ?? 0 }];
        }),
      ),
    }));
    return { metrics, variants, excludedUnits: agg.excludedUnits };
  }

  async compute(row: ResourceRow, options: ResultsOptions): Promise<ResultsPayload> {
    const cacheKey = `${row.id}|${row.updatedAt}|${options.alpha}|${options.sequential}|${options.sequentialTuning}`;
    const now = this.ctx.now();
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined && hit.eventsVersion === this.ctx.events.version && now - hit.at < RESULTS_MAX_AGE_MS) return hit.payload;
    const eventsVersion = this.ctx.events.version;
    const { metrics, variants, excludedUnits } = await this.sufficientStats(row);
    const analysis = analyze({
      alpha: options.alpha,
      sequential: options.sequential,
      sequentialTuning: options.sequentialTuning,
      metrics: metrics.map(({ key, type }) => ({ key, type })),
      variants,
    });
    const metricsOut: Record<string, unknown> = {};
    for (const m of metrics) {
      const r = analysis.metrics[m.key];
      metricsOut[m.key] = { role: m.role, ...(toSnake(r) as Record<string, unknown>) };
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
        units: 'counted from their first exposure; metric events count only after it; units exposed to more than one variant are excluded',
      },
      variants: variants.map((v) => ({ key: v.key, weight: v.weight, units: v.units })),
      excluded_units: excludedUnits,
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
