import { normalCdf, normalQuantile } from './distributions/normal.js';
import { StatsError, StatsErrorCode } from './errors.js';
import type { DifferenceEstimate } from './frequentist.js';
import { finiteInterval } from './frequentist.js';
import type { Interval } from './result-types.js';
import type { NormalPrior } from './types.js';

/**
 * Posterior figures of a lift under the normal approximation.
 *
 * @example
 * ```ts
 * const b: BayesianFigures | null = bayesianSummary({ estimate: 0.1, variance: 0.002068 }, 0.05);
 * b?.chanceToBeatControl; // 0.986
 * ```
 */
export interface BayesianFigures {
  /** P(lift > 0 | data) = Phi(posterior mean / posterior sd). */
  chanceToBeatControl: number;
  /** Equal-tailed 1 - alpha credible interval. */
  credibleInterval: Interval | null;
  posterior: { mean: number; se: number };
}

/**
 * Throws when `prior` is not a proper normal prior (finite mean, finite variance > 0).
 *
 * @example
 * ```ts
 * assertPrior({ mean: 0, variance: 0.09 }); // ok
 * ```
 */
export function assertPrior(prior: NormalPrior): void {
  if (!Number.isFinite(prior.mean) || !(prior.variance > 0) || !Number.isFinite(prior.variance)) {
    throw new StatsError(StatsErrorCode.INVALID_OPTIONS, 'prior needs a finite mean and a finite variance > 0');
  }
}

/**
 * Bayesian summary of a lift from its normal approximation (GrowthBook's effect model). With no prior
 * (flat, improper) the posterior is N(estimate, variance); with a normal prior the precisions add:
 * `1/v_post = 1/v + 1/v_prior`, `m_post = v_post (estimate/v + m_prior/v_prior)`.
 *
 * @example
 * ```ts
 * bayesianSummary({ estimate: 0.1, variance: 0.002068 }, 0.05);
 * // { chanceToBeatControl: 0.98606, credibleInterval: [0.01087, 0.18913], posterior: { mean: 0.1, se: 0.04548 } }
 * ```
 */
export function bayesianSummary(difference: DifferenceEstimate, alpha: number, prior?: NormalPrior): BayesianFigures | null {
  let { estimate: mean, variance } = difference;
  if (!(variance > 0) || !Number.isFinite(variance) || !Number.isFinite(mean)) return null;
  if (prior) {
    assertPrior(prior);
    const precision = 1 / variance + 1 / prior.variance;
    mean = (mean / variance + prior.mean / prior.variance) / precision;
    variance = 1 / precision;
  }
  const se = Math.sqrt(variance);
  const z = normalQuantile(1 - alpha / 2);
  return {
    chanceToBeatControl: normalCdf(mean / se),
    credibleInterval: finiteInterval(mean - z * se, mean + z * se),
    posterior: { mean, se },
  };
}
