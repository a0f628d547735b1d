import { StatsError, StatsErrorCode } from '../errors.js';
import { logGamma, regularizedGammaP, regularizedGammaQ } from './special-functions.js';

function assertArguments(x: number, dof: number): void {
  if (!(dof > 0) || !Number.isFinite(dof)) {
    throw new StatsError(StatsErrorCode.INVALID_ARGUMENT, `degrees of freedom must be a positive finite number, got ${dof}`);
  }
  if (Number.isNaN(x)) throw new StatsError(StatsErrorCode.INVALID_ARGUMENT, 'x must not be NaN');
}

/**
 * Density of the chi-square distribution with `dof` degrees of freedom.
 *
 * @example
 * ```ts
 * chiSquarePdf(1, 2); // 0.303265329856317 = e^-0.5 / 2
 * ```
 */
export function chiSquarePdf(x: number, dof: number): number {
  assertArguments(x, dof);
  if (x < 0 || x === Infinity) return 0;
  const k = dof / 2;
  if (x === 0) return k < 1 ? Infinity : k === 1 ? 0.5 : 0;
  return Math.exp((k - 1) * Math.log(x) - x / 2 - k * Math.LN2 - logGamma(k));
}

/**
 * CDF of the chi-square distribution, `P(X <= x)`.
 *
 * @example
 * ```ts
 * chiSquareCdf(3.841458820694124, 1); // 0.95
 * ```
 */
export function chiSquareCdf(x: number, dof: number): number {
  assertArguments(x, dof);
  return x <= 0 ? 0 : regularizedGammaP(dof / 2, x / 2);
}

/**
 * Survival function of the chi-square distribution, `P(X > x)`: the p-value of a chi-square test,
 * precise even when it is tiny.
 *
 * @example
 * ```ts
 * chiSquareSf(10.828, 1); // 0.000999766
 * ```
 */
export function chiSquareSf(x: number, dof: number): number {
  assertArguments(x, dof);
  return x <= 0 ? 1 : regularizedGammaQ(dof / 2, x / 2);
}
