import type { ArmStats } from './compare.js';
import { compareArms } from './compare.js';
import { metricMoments } from './moments.js';
import { DEFAULT_SEQUENTIAL_TUNING } from './sequential.js';
import { sampleRatioMismatch } from './srm.js';
import type { AnalysisResult, MetricResult } from './result-types.js';
import type { AnalyzeInput, MetricDefinition, VariantInput } from './types.js';
import { validateAnalyzeInput } from './validate.js';

/**
 * Default two-sided significance level.
 *
 * @example
 * ```ts
 * analyze({ ...input, alpha: DEFAULT_ALPHA }); // same as leaving alpha out
 * ```
 */
export const DEFAULT_ALPHA = 0.05;

function armStats(variant: VariantInput, metric: MetricDefinition): ArmStats {
  const s = variant.stats[metric.key];
  // A metric absent from a variant's stats means no unit had an event: all sums are 0.
  const arm: ArmStats = { key: variant.key, units: variant.units, sum: s?.sum ?? 0, sumSquares: s?.sumSquares ?? 0 };
  if (s?.covariate) arm.covariate = s.covariate;
  return arm;
}

function analyzeMetric(input: AnalyzeInput, metric: MetricDefinition, alpha: number, sequentialTuning: number | null): MetricResult {
  const [control, ...treatments] = input.variants as [VariantInput, ...VariantInput[]];
  const controlArm = armStats(control, metric);
  return {
    key: metric.key,
    type: metric.type,
    cuped: controlArm.covariate !== undefined,
    variants: input.variants.map((v) => {
      const arm = armStats(v, metric);
      const { mean, variance } = metricMoments(metric.type, arm.units, arm.sum, arm.sumSquares);
      return { key: v.key, units: v.units, count: v.stats[metric.key]?.count ?? v.units, mean, variance };
    }),
    comparisons: treatments.map((t) =>
      compareArms(metric.type, controlArm, armStats(t, metric), {
        alpha,
        sequentialTuning,
        ...(input.prior ? { prior: input.prior } : {}),
      }),
    ),
  };
}

/**
 * Analyzes an experiment from per-variant sufficient statistics: per-variant summaries, every
 * treatment against the control (first variant) with Welch t tests on the relative (delta method)
 * and absolute lift, Bayesian chance to beat control, optional sequential figures and CUPED, plus
 * a sample ratio mismatch check. Pure: no I/O, same output for the same input.
 *
 * Throws {@link StatsError} only for malformed input; awkward data give `null` figures with a reason.
 *
 * @example
 * ```ts
 * const r = analyze({
 *   alpha: 0.05,
 *   sequentialTuning: 5000,
 *   metrics: [{ key: 'purchase', type: 'conversion' }],
 *   variants: [
 *     { key: 'control', weight: 50, units: 10000, stats: { purchase: { count: 10000, sum: 1000, sumSquares: 1000 } } },
 *     { key: 'treatment', weight: 50, units: 10000, stats: { purchase: { count: 10000, sum: 1100, sumSquares: 1100 } } },
 *   ],
 * });
 * r.srm.mismatch;                                   // false
 * r.metrics.purchase?.comparisons[0]?.relativeLift; // 0.1
 * ```
 */
export function analyze(input: AnalyzeInput): AnalysisResult {
  validateAnalyzeInput(input);
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const included = input.sequential ?? input.sequentialTuning !== undefined;
  const sequentialTuning = included ? (input.sequentialTuning ?? DEFAULT_SEQUENTIAL_TUNING) : null;
  const metrics: AnalysisResult['metrics'] = {};
  for (const metric of input.metrics) metrics[metric.key] = analyzeMetric(input, metric, alpha, sequentialTuning);
  return {
    alpha,
    sequential: { included, tuning: sequentialTuning },
    prior: input.prior ? { mean: input.prior.mean, variance: input.prior.variance } : null,
    srm: sampleRatioMismatch(
      input.variants.map((v) => v.units),
      input.variants.map((v) => v.weight),
    ),
    metrics,
  };
}
