import { bayesianSummary } from './bayesian.js';
import { cupedAdjust } from './cuped.js';
import type { ArmEstimate } from './frequentist.js';
import { absoluteDifference, finiteOrNull, relativeDifference, twoSidedTTest, welchDegreesOfFreedom } from './frequentist.js';
import { metricMoments } from './moments.js';
import { sequentialTest } from './sequential.js';
import type { Comparison, CupedFigures, SequentialFigures, TestFigures } from './result-types.js';
import { ComparisonError } from './result-types.js';
import type { CovariateStats, MetricType, NormalPrior } from './types.js';

/**
 * One arm of one metric, as {@link compareArms} needs it.
 *
 * @example
 * ```ts
 * const control: ArmStats = { key: 'control', units: 10000, sum: 1000, sumSquares: 1000 };
 * ```
 */
export interface ArmStats {
  key: string;
  units: number;
  sum: number;
  sumSquares: number;
  covariate?: CovariateStats;
}

/**
 * Settings shared by every comparison of an analysis.
 *
 * @example
 * ```ts
 * const options: CompareOptions = { alpha: 0.05, sequentialTuning: 5000, prior: { mean: 0, variance: 0.09 } };
 * ```
 */
export interface CompareOptions {
  alpha: number;
  /** N* of the sequential test, or `null` to leave the sequential figures out. */
  sequentialTuning: number | null;
  prior?: NormalPrior;
}

function noTest(): TestFigures {
  return { se: null, dof: null, ci: null, pValue: null };
}

function noSequential(): SequentialFigures {
  return { ci: null, pValue: null, absolute: { ci: null, pValue: null } };
}

function plainEstimate(type: MetricType, arm: ArmStats): ArmEstimate | null {
  const { mean, variance } = metricMoments(type, arm.units, arm.sum, arm.sumSquares);
  // A variance that cannot be estimated (one unit) is treated as 0, as GrowthBook does: no inference.
  return mean === null ? null : { n: arm.units, mean, variance: variance ?? 0 };
}

/**
 * Compares one treatment with the control for one metric: lifts, Welch t tests of the relative
 * (delta method) and absolute differences, Bayesian chance to beat control and, when
 * `sequentialTuning` is set, always-valid figures. CUPED is applied when both arms carry a covariate.
 * Data edge cases give `null` figures and an `error` reason, never NaN or a throw.
 *
 * @example
 * ```ts
 * const c = compareArms('conversion',
 *   { key: 'control', units: 10000, sum: 1000, sumSquares: 1000 },
 *   { key: 'treatment', units: 10000, sum: 1100, sumSquares: 1100 },
 *   { alpha: 0.05, sequentialTuning: null });
 * c.relativeLift; // 0.1
 * ```
 */
export function compareArms(type: MetricType, control: ArmStats, treatment: ArmStats, options: CompareOptions): Comparison {
  const { alpha, sequentialTuning, prior } = options;
  let c: ArmEstimate | null;
  let t: ArmEstimate | null;
  let cuped: CupedFigures | null = null;
  const adjustment =
    control.covariate && treatment.covariate
      ? cupedAdjust(
          type,
          { units: control.units, sum: control.sum, sumSquares: control.sumSquares, covariate: control.covariate },
          { units: treatment.units, sum: treatment.sum, sumSquares: treatment.sumSquares, covariate: treatment.covariate },
        )
      : null;
  if (adjustment) {
    const { theta, control: ac, treatment: at } = adjustment;
    c = { n: ac.n, mean: ac.mean, variance: ac.variance, rawMean: ac.unadjustedMean };
    t = { n: at.n, mean: at.mean, variance: at.variance, rawMean: at.unadjustedMean };
    cuped = { theta, control: { mean: ac.mean, variance: ac.variance }, treatment: { mean: at.mean, variance: at.variance } };
  } else {
    c = plainEstimate(type, control);
    t = plainEstimate(type, treatment);
  }

  const empty = (error: ComparisonError, absoluteLift: number | null, relativeLift: number | null): Comparison => ({
    variant: treatment.key,
    absoluteLift,
    relativeLift,
    error,
    relative: noTest(),
    absolute: noTest(),
    chanceToBeatControl: null,
    credibleInterval: null,
    posterior: null,
    ...(sequentialTuning === null ? {} : { sequential: noSequential() }),
    cuped,
  });

  if (!c || !t) return empty(ComparisonError.ZERO_VARIANCE, null, null);
  const absolute = absoluteDifference(c, t);
  const relative = relativeDifference(c, t);
  const absoluteLift = finiteOrNull(absolute.estimate);
  const relativeLift = relative ? finiteOrNull(relative.estimate) : null;
  if (!(c.variance > 0 && t.variance > 0)) return empty(ComparisonError.ZERO_VARIANCE, absoluteLift, relativeLift);

  const dof = welchDegreesOfFreedom(c, t);
  const absoluteTest = twoSidedTTest(absolute, dof, alpha);
  // Positive variances that still give no test underflowed (values near 1e-300): no usable variance either.
  if (absoluteTest.pValue === null) return empty(ComparisonError.ZERO_VARIANCE, absoluteLift, relativeLift);
  const relativeTest = relative ? twoSidedTTest(relative, dof, alpha) : null;
  // A control mean so close to 0 that the relative lift overflows is treated as a zero baseline.
  const usableRelative = relative && relativeTest?.pValue !== null ? relative : null;
  const bayes = usableRelative ? bayesianSummary(usableRelative, alpha, prior) : null;
  const n = c.n + t.n;
  const result: Comparison = {
    variant: treatment.key,
    absoluteLift,
    relativeLift: usableRelative ? relativeLift : null,
    error: usableRelative ? null : ComparisonError.BASELINE_ZERO,
    relative: usableRelative && relativeTest ? relativeTest : noTest(),
    absolute: absoluteTest,
    chanceToBeatControl: bayes?.chanceToBeatControl ?? null,
    credibleInterval: bayes?.credibleInterval ?? null,
    posterior: bayes?.posterior ?? null,
    cuped,
  };
  if (sequentialTuning !== null) {
    const rel = usableRelative ? sequentialTest(usableRelative, n, alpha, sequentialTuning) : { ci: null, pValue: null };
    result.sequential = { ...rel, absolute: sequentialTest(absolute, n, alpha, sequentialTuning) };
  }
  return result;
}
