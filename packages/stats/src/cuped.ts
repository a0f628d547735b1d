import { metricMoments, sampleCovariance, sampleVariance } from './moments.js';
import type { CovariateStats, MetricType } from './types.js';

/**
 * One arm's sufficient statistics for CUPED: the metric's and its pre-exposure covariate's.
 *
 * @example
 * ```ts
 * const control: CupedArmStats = {
 *   units: 1000, sum: 10200, sumSquares: 130000,
 *   covariate: { sum: 10000, sumSquares: 120000, sumProducts: 122000 },
 * };
 * ```
 */
export interface CupedArmStats {
  units: number;
  sum: number;
  sumSquares: number;
  covariate: CovariateStats;
}

/**
 * One arm after CUPED.
 *
 * @example
 * ```ts
 * const arm: CupedArmAdjustment | undefined = cupedAdjust('mean', control, treatment)?.control;
 * arm && 1 - arm.variance / arm.unadjustedVariance; // share of variance removed
 * ```
 */
export interface CupedArmAdjustment {
  n: number;
  /** `mean - theta * covariateMean`. */
  mean: number;
  /** Per-unit `variance + theta^2 covariateVariance - 2 theta covariance`, never below 0. */
  variance: number;
  unadjustedMean: number;
  unadjustedVariance: number;
  covariateMean: number;
}

/**
 * Result of {@link cupedAdjust}.
 *
 * @example
 * ```ts
 * const adj: CupedAdjustment | null = cupedAdjust('mean', control, treatment);
 * const lift = adj ? adj.treatment.mean - adj.control.mean : null;
 * ```
 */
export interface CupedAdjustment {
  theta: number;
  control: CupedArmAdjustment;
  treatment: CupedArmAdjustment;
}

function adjustArm(type: MetricType, arm: CupedArmStats, theta: number): CupedArmAdjustment | null {
  const post = metricMoments(type, arm.units, arm.sum, arm.sumSquares);
  if (post.mean === null) return null;
  const n = arm.units;
  const postVariance = post.variance ?? 0;
  const covariateMean = arm.covariate.sum / n;
  const covariateVariance = sampleVariance(n, arm.covariate.sum, arm.covariate.sumSquares) ?? 0;
  const covariance = sampleCovariance(n, arm.sum, arm.covariate.sum, arm.covariate.sumProducts);
  const variance = postVariance + theta * theta * covariateVariance - 2 * theta * covariance;
  return {
    n,
    mean: post.mean - theta * covariateMean,
    // Exact arithmetic cannot go below 0 (Cauchy-Schwarz); rounding can, and 0 is then the honest value.
    variance: variance > 0 ? variance : 0,
    unadjustedMean: post.mean,
    unadjustedVariance: postVariance,
    covariateMean,
  };
}

/**
 * CUPED (beta): regression adjustment with a pre-exposure covariate, as GrowthBook computes it.
 * theta = Cov(metric, covariate) / Var(covariate) over the pooled units of control and this
 * treatment (pooled per comparison, so each treatment's theta uses only the two arms compared); it
 * is 0 when either pooled variance is 0. Each arm's mean becomes `mean - theta * covariateMean` and
 * its variance `var + theta^2 var_x - 2 theta cov`. Because theta is shared and the covariate is
 * measured before exposure, the adjusted difference stays unbiased while its variance shrinks by
 * about the squared correlation.
 *
 * The metric's variance follows its type (p(1 - p) for conversions); the covariate always uses the
 * n - 1 sample variance from its sums, so any numeric covariate works. Returns `null` when an arm has no units.
 *
 * @example
 * ```ts
 * const adj = cupedAdjust('mean',
 *   { units: 1000, sum: 10200, sumSquares: 130000, covariate: { sum: 10000, sumSquares: 120000, sumProducts: 122000 } },
 *   { units: 1000, sum: 10900, sumSquares: 145000, covariate: { sum: 10100, sumSquares: 121500, sumProducts: 131000 } });
 * adj?.theta;                // 1.0367
 * adj?.treatment.variance;   // 3.79, down from 26.2 unadjusted
 * ```
 */
export function cupedAdjust(type: MetricType, control: CupedArmStats, treatment: CupedArmStats): CupedAdjustment | null {
  if (!(control.units > 0) || !(treatment.units > 0)) return null;
  const n = control.units + treatment.units;
  const sum = control.sum + treatment.sum;
  const jointPost = metricMoments(type, n, sum, control.sumSquares + treatment.sumSquares).variance ?? 0;
  const covSum = control.covariate.sum + treatment.covariate.sum;
  const jointPre = sampleVariance(n, covSum, control.covariate.sumSquares + treatment.covariate.sumSquares) ?? 0;
  let theta = 0;
  if (jointPre > 0 && jointPost > 0) {
    theta = sampleCovariance(n, sum, covSum, control.covariate.sumProducts + treatment.covariate.sumProducts) / jointPre;
  }
  if (!Number.isFinite(theta)) theta = 0;
  const c = adjustArm(type, control, theta);
  const t = adjustArm(type, treatment, theta);
  return c && t ? { theta, control: c, treatment: t } : null;
}
