import { logBeta, regularizedIncompleteBeta } from './distributions/special-functions.js';
import { StatsError, StatsErrorCode } from './errors.js';

/**
 * Counts of one arm for {@link rateIncreaseEValue}: its units and how many events (or units with
 * an event) it had.
 *
 * @example
 * ```ts
 * const control: RateArm = { units: 5000, count: 0 };
 * ```
 */
export interface RateArm {
  units: number;
  count: number;
}

/**
 * Always-valid evidence that the treatment's event rate per unit exceeds the control's by more
 * than `maxRelativeIncrease`, from counts alone: it needs no variance, so it works when the
 * control's count is 0, where a t test has nothing to stand on.
 *
 * Given the events of both arms, each event falls in the treatment with probability
 * `p = nt rt / (nt rt + nc rc)`. The null hypothesis `rt <= (1 + m) rc` is `p <= p0` with
 * `p0 = nt (1 + m) / (nt (1 + m) + nc)`. The returned e-value is the likelihood ratio of the
 * observed split, averaged over a uniform prior on `p` in `(p0, 1]`, against `p0`:
 *
 *   `e = [integral from p0 to 1 of q^T (1 - q)^C dq / (1 - p0)] / (p0^T (1 - p0)^C)`.
 *
 * Under the null it is a nonnegative supermartingale in the number of events, so by Ville's
 * inequality `P(e ever reaches 1 / a) <= a`: the check may run after every batch of events
 * without inflating false alarms. `p0` uses the observed units of each arm.
 *
 * Returns 1 (no evidence) when there are no events or an arm has no units.
 *
 * @example
 * ```ts
 * rateIncreaseEValue({ units: 1000, count: 0 }, { units: 1000, count: 8 }, 0.1); // 41.0
 * rateIncreaseEValue({ units: 1000, count: 4 }, { units: 1000, count: 4 }, 0.1); // 0.38
 * ```
 */
export function rateIncreaseEValue(control: RateArm, treatment: RateArm, maxRelativeIncrease: number): number {
  for (const [name, arm] of [
    ['control', control],
    ['treatment', treatment],
  ] as const) {
    if (!(arm.units >= 0 && arm.count >= 0) || !Number.isFinite(arm.units) || !Number.isFinite(arm.count)) {
      throw new StatsError(StatsErrorCode.INVALID_STATS, `${name}: units and count must be finite numbers >= 0`);
    }
  }
  if (!(maxRelativeIncrease >= 0) || !Number.isFinite(maxRelativeIncrease)) {
    throw new StatsError(StatsErrorCode.INVALID_OPTIONS, `maxRelativeIncrease must be a finite number >= 0, got ${maxRelativeIncrease}`);
  }
  const t = treatment.count;
  const c = control.count;
  if (t + c === 0 || control.units === 0 || treatment.units === 0) return 1;
  const scaled = treatment.units * (1 + maxRelativeIncrease);
  const p0 = scaled / (scaled + control.units);
  // 1 - I_p0(T + 1, C + 1), computed as I_(1 - p0)(C + 1, T + 1) so that a tail near 1 keeps its digits.
  const tail = regularizedIncompleteBeta(1 - p0, c + 1, t + 1);
  if (tail <= 0) return 0;
  const logE = logBeta(t + 1, c + 1) + Math.log(tail) - Math.log1p(-p0) - t * Math.log(p0) - c * Math.log1p(-p0);
  return Math.exp(logE);
}
