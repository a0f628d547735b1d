import { chiSquareSf } from './distributions/chi-square.js';
import { StatsError, StatsErrorCode } from './errors.js';
import type { SrmResult } from './result-types.js';

/**
 * p-value below which a sample ratio mismatch is flagged (GrowthBook's and most vendors' default).
 *
 * @example
 * ```ts
 * const flagged = result.srm.pValue !== null && result.srm.pValue < SRM_P_VALUE_THRESHOLD;
 * ```
 */
export const SRM_P_VALUE_THRESHOLD = 0.001;

/**
 * Sample ratio mismatch: Pearson's chi-square goodness-of-fit of the observed units against the
 * configured weights, with (variants with positive weight - 1) degrees of freedom.
 *
 * Data edge cases return nulls: with no units (or a single weighted variant) there is nothing to
 * test (`chiSquare` and `pValue` null, no mismatch). Units in a variant of weight 0 cannot happen
 * when assignment works, so they are a certain mismatch: the statistic is infinite, reported as
 * `chiSquare: null`, `pValue: 0`.
 *
 * @example
 * ```ts
 * sampleRatioMismatch([5000, 5300], [50, 50]);
 * // { chiSquare: 8.737864077669903, dof: 1, pValue: 0.0031..., mismatch: false }
 * ```
 */
export function sampleRatioMismatch(units: readonly number[], weights: readonly number[]): SrmResult {
  if (units.length !== weights.length) {
    throw new StatsError(StatsErrorCode.INVALID_VARIANTS, 'units and weights must have the same length');
  }
  for (const [i, w] of weights.entries()) {
    const u = units[i] as number;
    if (!(w >= 0) || !Number.isFinite(w) || !(u >= 0) || !Number.isFinite(u)) {
      throw new StatsError(StatsErrorCode.INVALID_VARIANTS, `weight and units must be finite and >= 0 (index ${i})`);
    }
  }
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  if (!(totalWeight > 0)) throw new StatsError(StatsErrorCode.INVALID_VARIANTS, 'weights must sum to more than 0');
  const weighted = weights.filter((w) => w > 0).length;
  const dof = weighted - 1;
  const unitsInUnweighted = units.some((u, i) => u > 0 && weights[i] === 0);
  if (unitsInUnweighted) return { chiSquare: null, dof, pValue: 0, mismatch: true };
  const totalUnits = units.reduce((s, u) => s + u, 0);
  if (totalUnits === 0 || dof < 1) return { chiSquare: null, dof, pValue: null, mismatch: false };
  let chiSquare = 0;
  for (const [i, w] of weights.entries()) {
    if (w === 0) continue;
    const expected = (totalUnits * w) / totalWeight;
    const diff = (units[i] as number) - expected;
    chiSquare += (diff * diff) / expected;
  }
  const pValue = chiSquareSf(chiSquare, dof);
  return { chiSquare, dof, pValue, mismatch: pValue < SRM_P_VALUE_THRESHOLD };
}
