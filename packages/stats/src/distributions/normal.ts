import { StatsError, StatsErrorCode } from '../errors.js';
import { erfc } from './special-functions.js';

const SQRT_TWO = Math.SQRT2;
const SQRT_TWO_PI = 2.5066282746310002;

function assertX(x: number): void {
  if (Number.isNaN(x)) throw new StatsError(StatsErrorCode.INVALID_ARGUMENT, 'x must not be NaN');
}

function assertProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new StatsError(StatsErrorCode.INVALID_ARGUMENT, `p must be in [0, 1], got ${p}`);
}

/**
 * Density of the standard normal distribution.
 *
 * @example
 * ```ts
 * normalPdf(0); // 0.3989422804014327
 * ```
 */
export function normalPdf(x: number): number {
  assertX(x);
  return Math.exp(-0.5 * x * x) / SQRT_TWO_PI;
}

/**
 * CDF of the standard normal distribution, `Phi(x)`. Relative precision is kept in the lower tail.
 *
 * @example
 * ```ts
 * normalCdf(1.959963984540054); // 0.975
 * ```
 */
export function normalCdf(x: number): number {
  assertX(x);
  return 0.5 * erfc(-x / SQRT_TWO);
}

/**
 * Survival function of the standard normal distribution, `1 - Phi(x)`, precise in the upper tail.
 *
 * @example
 * ```ts
 * normalSf(8); // 6.22096057427178e-16
 * ```
 */
export function normalSf(x: number): number {
  assertX(x);
  return 0.5 * erfc(x / SQRT_TWO);
}

// Acklam's rational approximation (relative error 1.15e-9): only a starting point for Halley's method.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549671464308838, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function horner(coefficients: readonly number[], x: number): number {
  let result = 0;
  for (const c of coefficients) result = result * x + c;
  return result;
}

function acklam(p: number): number {
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return horner(C, q) / (horner(D, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (horner(A, r) * q) / (horner(B, r) * r + 1);
}

/** Quantile for p <= 1/2, where Phi(x) = p is solved in the tail that keeps its relative precision. */
function lowerQuantile(p: number): number {
  let x = acklam(p);
  for (let i = 0; i < 4; i++) {
    // Halley step with u = (Phi(x) - p) / phi(x), written relative to p so that nothing
    // overflows or underflows even for p near the smallest double.
    const u = (normalCdf(x) / p - 1) * SQRT_TWO_PI * Math.exp(Math.log(p) + 0.5 * x * x);
    const next = x - u / (1 + 0.5 * x * u);
    if (Math.abs(next - x) <= 1e-16 * Math.abs(x)) return next;
    x = next;
  }
  return x;
}

/**
 * Quantile (inverse CDF) of the standard normal distribution. `p = 0` and `p = 1` give `-Infinity` and `Infinity`.
 *
 * @example
 * ```ts
 * normalQuantile(0.975); // 1.95996398454005
 * ```
 */
export function normalQuantile(p: number): number {
  assertProbability(p);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  // 1 - p is exact for p >= 1/2, so the upper half loses nothing by mirroring.
  return p < 0.5 ? lowerQuantile(p) : -lowerQuantile(1 - p);
}
