import { studentTQuantile, studentTSf } from './distributions/t.js';
import type { Interval, TestFigures } from './result-types.js';

/**
 * One arm as the tests see it: units, per-unit mean and per-unit variance. With CUPED, `mean` and
 * `variance` are the adjusted ones and `rawMean` the unadjusted mean, which scales the relative lift
 * (GrowthBook's `unadjusted_mean`); without CUPED leave `rawMean` out.
 *
 * @example
 * ```ts
 * const control: ArmEstimate = { n: 10000, mean: 0.1, variance: 0.09 };
 * ```
 */
export interface ArmEstimate {
  n: number;
  mean: number;
  variance: number;
  rawMean?: number;
}

/**
 * A point estimate of a difference and the variance of that estimate.
 *
 * @example
 * ```ts
 * const d: DifferenceEstimate = absoluteDifference(control, treatment);
 * Math.sqrt(d.variance); // standard error
 * ```
 */
export interface DifferenceEstimate {
  estimate: number;
  variance: number;
}

/**
 * Welch-Satterthwaite degrees of freedom, used by both the absolute and the relative test:
 * `(vt/nt + vc/nc)^2 / ((vt/nt)^2/(nt-1) + (vc/nc)^2/(nc-1))`. Needs n >= 2 and a positive variance in each arm.
 *
 * @example
 * ```ts
 * welchDegreesOfFreedom({ n: 10, mean: 1, variance: 4 }, { n: 10, mean: 2, variance: 4 }); // 18
 * ```
 */
export function welchDegreesOfFreedom(control: ArmEstimate, treatment: ArmEstimate): number {
  const c = control.variance / control.n;
  const t = treatment.variance / treatment.n;
  // The same ratio with each term divided by (c + t): squaring tiny variances cannot underflow.
  const wc = c / (c + t);
  const wt = t / (c + t);
  return 1 / ((wc * wc) / (control.n - 1) + (wt * wt) / (treatment.n - 1));
}

/**
 * Difference of means and its variance, `vt/nt + vc/nc`.
 *
 * @example
 * ```ts
 * absoluteDifference({ n: 100, mean: 0.1, variance: 0.09 }, { n: 100, mean: 0.12, variance: 0.1056 });
 * // { estimate: 0.02, variance: 0.001956 } (up to rounding)
 * ```
 */
export function absoluteDifference(control: ArmEstimate, treatment: ArmEstimate): DifferenceEstimate {
  return {
    estimate: treatment.mean - control.mean,
    variance: treatment.variance / treatment.n + control.variance / control.n,
  };
}

/**
 * Relative lift `(mu_t - mu_c) / |mu_c|` (= mu_t/mu_c - 1 for a positive baseline) with its
 * delta-method variance, GrowthBook's `variance_of_ratios` without covariance:
 * `vt / (nt mu_c^2) + vc mu_t^2 / (nc mu_c^4)`, where the mu are the unadjusted means.
 * Returns `null` when the control mean is 0.
 *
 * @example
 * ```ts
 * relativeDifference({ n: 10000, mean: 0.1, variance: 0.09 }, { n: 10000, mean: 0.11, variance: 0.0979 });
 * // { estimate: 0.1, variance: 0.002068 } (up to rounding)
 * ```
 */
export function relativeDifference(control: ArmEstimate, treatment: ArmEstimate): DifferenceEstimate | null {
  const muC = control.rawMean ?? control.mean;
  const muT = treatment.rawMean ?? treatment.mean;
  if (muC === 0) return null;
  const muC2 = muC * muC;
  return {
    estimate: (treatment.mean - control.mean) / Math.abs(muC),
    variance: treatment.variance / (treatment.n * muC2) + (control.variance * muT * muT) / (control.n * muC2 * muC2),
  };
}

/**
 * `[lo, hi]` when both ends are finite, else `null`: results never carry NaN or infinities.
 *
 * @example
 * ```ts
 * finiteInterval(-1, 1);        // [-1, 1]
 * finiteInterval(0, Infinity);  // null
 * ```
 */
export function finiteInterval(lo: number, hi: number): Interval | null {
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : null;
}

/**
 * `x` when finite, else `null`.
 *
 * @example
 * ```ts
 * finiteOrNull(0.5);        // 0.5
 * finiteOrNull(Number.NaN); // null
 * ```
 */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * Two-sided t test of a difference: `p = 2 P(T_dof > |estimate / se|)` and the 1 - alpha interval
 * `estimate -/+ t(1 - alpha/2, dof) se`. Figures that come out non-finite are `null`.
 *
 * @example
 * ```ts
 * twoSidedTTest({ estimate: 0.1, variance: 0.002068 }, 19998, 0.05);
 * // { se: 0.0454753, dof: 19998, ci: [0.0108647, 0.1891353], pValue: 0.0278895 }
 * ```
 */
export function twoSidedTTest(difference: DifferenceEstimate, dof: number, alpha: number): TestFigures {
  const se = Math.sqrt(difference.variance);
  if (!(se > 0) || !Number.isFinite(se) || !(dof > 0) || !Number.isFinite(dof) || !Number.isFinite(difference.estimate)) {
    return { se: finiteOrNull(se), dof: finiteOrNull(dof), ci: null, pValue: null };
  }
  const halfWidth = studentTQuantile(1 - alpha / 2, dof) * se;
  return {
    se,
    dof,
    ci: finiteInterval(difference.estimate - halfWidth, difference.estimate + halfWidth),
    pValue: Math.min(1, 2 * studentTSf(Math.abs(difference.estimate / se), dof)),
  };
}
