import type { VariantInput } from '../src/index.js';

/**
 * What the simulations share: a seeded generator, and arms that accumulate the sufficient
 * statistics of one guardrail metric as simulated units arrive. Deterministic: the same seed
 * draws the same units, so a committed report can be reproduced.
 */

/** mulberry32: a small, fast, seedable generator (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Knuth's method: fine for the small means used here. */
function poisson(random: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}

/** One arm's units and the sums of its metric (`count`: units with at least one event). */
export interface SimulatedArm {
  units: number;
  sum: number;
  sumSquares: number;
  count: number;
}

/** A control and a treatment arm with no units yet. */
export const emptyArms = (): [SimulatedArm, SimulatedArm] => [
  { units: 0, sum: 0, sumSquares: 0, count: 0 },
  { units: 0, sum: 0, sumSquares: 0, count: 0 },
];

/**
 * Adds one unit to `arm`: `conversion` converts with `rate` as probability, `mean` has
 * Poisson(`rate`) events of value 1.
 *
 * @example
 * ```ts
 * const [control] = emptyArms();
 * addUnit(control, 'conversion', 0.01, seededRandom(1));
 * ```
 */
export function addUnit(arm: SimulatedArm, type: 'conversion' | 'mean', rate: number, random: () => number): void {
  const value = type === 'conversion' ? (random() < rate ? 1 : 0) : poisson(random, rate);
  arm.units++;
  arm.sum += value;
  arm.sumSquares += value * value;
  if (value > 0) arm.count++;
}

/** The arm as a variant of the statistics' input, its metric named `metric`. */
export const variantOf = (key: string, weight: number, arm: SimulatedArm, metric: string): VariantInput => ({
  key,
  weight,
  units: arm.units,
  stats: { [metric]: { sum: arm.sum, sumSquares: arm.sumSquares, count: arm.count } },
});

/** Wilson score interval of `k` in `n`, 95 %. */
export function wilson(k: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** A share as a percentage with one decimal. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
