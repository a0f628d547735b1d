import { MetricType } from './types.js';

/**
 * Below this share of the raw second moment, `sumSquares - sum^2 / n` is floating-point noise rather
 * than variance (a coefficient of variation under 1e-5), so the variance is reported as 0.
 */
const CANCELLATION_TOLERANCE = 1e-10;

/**
 * Per-unit mean and variance of one arm; `null` where they cannot be estimated.
 *
 * @example
 * ```ts
 * const { mean, variance }: Moments = metricMoments('mean', 4, 12, 50); // 3, 4.667
 * ```
 */
export interface Moments {
  mean: number | null;
  variance: number | null;
}

/**
 * Per-unit sample variance from sums, `(sumSquares - sum^2 / n) / (n - 1)`; `null` below two units,
 * 0 when the difference is lost to rounding, never negative.
 *
 * @example
 * ```ts
 * sampleVariance(3, 6, 14); // values 1, 2, 3 -> 1
 * ```
 */
export function sampleVariance(n: number, sum: number, sumSquares: number): number | null {
  if (!(n >= 2)) return null;
  const centred = sumSquares - (sum * sum) / n;
  if (centred <= CANCELLATION_TOLERANCE * Math.abs(sumSquares)) return 0;
  return centred / (n - 1);
}

/**
 * Sample covariance from sums, `(sumXY - sumX sumY / n) / (n - 1)`; 0 below two units.
 *
 * @example
 * ```ts
 * sampleCovariance(3, 6, 12, 28); // x = 1, 2, 3 and y = 2x -> 2
 * ```
 */
export function sampleCovariance(n: number, sumX: number, sumY: number, sumXY: number): number {
  if (!(n >= 2)) return 0;
  return (sumXY - (sumX * sumY) / n) / (n - 1);
}

/**
 * Per-unit mean and variance with GrowthBook's conventions: p(1 - p) for conversions, the n - 1
 * sample variance for means. With no units both are `null`; with one unit a mean metric has no variance.
 *
 * @example
 * ```ts
 * metricMoments('conversion', 10000, 1000, 1000); // { mean: 0.1, variance: 0.09 } (up to rounding)
 * ```
 */
export function metricMoments(type: MetricType, n: number, sum: number, sumSquares: number): Moments {
  if (!(n > 0)) return { mean: null, variance: null };
  const mean = sum / n;
  if (type === MetricType.CONVERSION) return { mean, variance: mean * (1 - mean) };
  return { mean, variance: sampleVariance(n, sum, sumSquares) };
}
