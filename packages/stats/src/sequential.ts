import { StatsError, StatsErrorCode } from './errors.js';
import type { DifferenceEstimate } from './frequentist.js';
import { finiteInterval } from './frequentist.js';
import type { SequentialTestFigures } from './result-types.js';

/**
 * GrowthBook's default N*: the total sample size at which the confidence sequence is tightest.
 *
 * @example
 * ```ts
 * analyze({ ...input, sequential: true }).sequential; // { included: true, tuning: DEFAULT_SEQUENTIAL_TUNING }
 * ```
 */
export const DEFAULT_SEQUENTIAL_TUNING = 5000;

/**
 * Throws unless `tuning` (N*) is a finite number > 0.
 *
 * @example
 * ```ts
 * assertSequentialTuning(5000); // ok
 * ```
 */
export function assertSequentialTuning(tuning: number): void {
  if (!(tuning > 0) || !Number.isFinite(tuning)) {
    throw new StatsError(StatsErrorCode.INVALID_OPTIONS, `sequentialTuning must be a finite number > 0, got ${tuning}`);
  }
}

/**
 * The mixing parameter rho of the asymptotic confidence sequence chosen so that the sequence is
 * tightest at N = N* (Waudby-Smith et al. 2023, eq. 161; GrowthBook's `rho`):
 * `rho = sqrt((-2 ln(alpha) + ln(-2 ln(alpha) + 1)) / N*)`.
 *
 * @example
 * ```ts
 * sequentialRho(0.05, 5000); // 0.0398401
 * ```
 */
export function sequentialRho(alpha: number, tuning: number): number {
  assertSequentialTuning(tuning);
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tuning);
}

/**
 * Half-width of the asymptotic confidence sequence (Waudby-Smith et al. 2023, eq. 9, as in GrowthBook's
 * `SequentialTwoSidedTTest`), with N = n_control + n_treatment and s^2 = N * Var(estimate):
 * `sqrt(s^2) * sqrt(2 (N rho^2 + 1) / (N^2 rho^2) * ln(sqrt(N rho^2 + 1) / alpha))`.
 *
 * @example
 * ```ts
 * sequentialHalfWidth(0.002068, 20000, 0.05, 5000); // 0.14221, against 0.08913 for the fixed-horizon z interval
 * ```
 */
export function sequentialHalfWidth(variance: number, n: number, alpha: number, tuning: number): number {
  const rho = sequentialRho(alpha, tuning);
  const rho2 = rho * rho;
  const s2 = variance * n;
  return Math.sqrt(s2) * Math.sqrt(((2 * (n * rho2 + 1)) / (n * n * rho2)) * Math.log(Math.sqrt(n * rho2 + 1) / alpha));
}

/**
 * Always-valid p-value: the smallest alpha whose confidence sequence excludes 0, i.e. the inverse
 * of the e-value of eq. 155: `min(1, sqrt(N rho^2 + 1) exp(-(estimate^2 / variance) N rho^2 / (2 (N rho^2 + 1))))`.
 * Note rho itself depends on alpha (through N*); as in GrowthBook it is fixed at the configured alpha.
 * It is consistent with the interval: p < alpha exactly when the interval excludes 0.
 *
 * @example
 * ```ts
 * sequentialPValue({ estimate: 0.1, variance: 0.002068 }, 20000, 0.05, 5000); // 0.549 (fixed-horizon: 0.028)
 * ```
 */
export function sequentialPValue(difference: DifferenceEstimate, n: number, alpha: number, tuning: number): number {
  const rho = sequentialRho(alpha, tuning);
  const nRho2 = n * rho * rho;
  const z2 = (difference.estimate * difference.estimate) / difference.variance;
  const logP = 0.5 * Math.log(nRho2 + 1) - (z2 * nRho2) / (2 * (nRho2 + 1));
  return Math.min(1, Math.exp(logP));
}

/**
 * Sequential figures for one difference: always-valid interval and p-value, so results can be
 * looked at daily without inflating the false-positive rate. `null` fields when the variance is not positive.
 *
 * @example
 * ```ts
 * sequentialTest({ estimate: 0.1, variance: 0.002068 }, 20000, 0.05, 5000); // { ci: [-0.04221, 0.24221], pValue: 0.549 }
 * ```
 */
export function sequentialTest(difference: DifferenceEstimate, n: number, alpha: number, tuning: number): SequentialTestFigures {
  assertSequentialTuning(tuning);
  if (!(difference.variance > 0) || !Number.isFinite(difference.variance) || !(n > 0) || !Number.isFinite(difference.estimate)) {
    return { ci: null, pValue: null };
  }
  const w = sequentialHalfWidth(difference.variance, n, alpha, tuning);
  const pValue = sequentialPValue(difference, n, alpha, tuning);
  return {
    ci: finiteInterval(difference.estimate - w, difference.estimate + w),
    pValue: Number.isFinite(pValue) ? pValue : null,
  };
}
