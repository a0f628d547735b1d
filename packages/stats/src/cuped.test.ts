import { describe, expect, it } from 'vitest';
import type { CupedArmStats } from './cuped.js';
import { cupedAdjust } from './cuped.js';
import { SeededRandom } from './test-support/prng.js';

/** Simulates one arm: covariate x ~ N(10, 3), metric y = slope x + N(shift, 1). */
function simulateArm(rng: SeededRandom, n: number, slope: number, shift: number): CupedArmStats {
  let sum = 0;
  let sumSquares = 0;
  let xs = 0;
  let xx = 0;
  let xy = 0;
  for (let i = 0; i < n; i++) {
    const x = rng.normal(10, 3);
    const y = slope * x + rng.normal(shift, 1);
    sum += y;
    sumSquares += y * y;
    xs += x;
    xx += x * x;
    xy += x * y;
  }
  return { units: n, sum, sumSquares, covariate: { sum: xs, sumSquares: xx, sumProducts: xy } };
}

function meanAndVariance(values: number[]): { mean: number; variance: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean, variance: values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) };
}

describe('cupedAdjust on simulated experiments', () => {
  const effect = 0.5;
  const n = 500;
  const replications = 400;

  function run(slope: number, seed: number) {
    const rng = new SeededRandom(seed);
    const adjusted: number[] = [];
    const raw: number[] = [];
    const reportedVariance: number[] = [];
    const thetas: number[] = [];
    for (let r = 0; r < replications; r++) {
      const control = simulateArm(rng, n, slope, 0);
      const treatment = simulateArm(rng, n, slope, effect);
      const adj = cupedAdjust('mean', control, treatment);
      if (!adj) throw new Error('unexpected null');
      adjusted.push(adj.treatment.mean - adj.control.mean);
      raw.push(adj.treatment.unadjustedMean - adj.control.unadjustedMean);
      reportedVariance.push(adj.treatment.variance / n + adj.control.variance / n);
      thetas.push(adj.theta);
    }
    return {
      adjusted: meanAndVariance(adjusted),
      raw: meanAndVariance(raw),
      reportedVariance: meanAndVariance(reportedVariance).mean,
      theta: meanAndVariance(thetas).mean,
    };
  }

  it('keeps the estimate unbiased and shrinks its variance with a correlated covariate', () => {
    const { adjusted, raw, reportedVariance, theta } = run(0.9, 11);
    // correlation 0.9 * 3 / sqrt(0.81 * 9 + 1) = 0.94: the variance should fall to about 1 - 0.88 of the raw one
    expect(adjusted.variance / raw.variance).toBeLessThan(0.2);
    expect(Math.abs(adjusted.mean - effect)).toBeLessThan(4 * Math.sqrt(adjusted.variance / replications));
    expect(Math.abs(theta - 0.9)).toBeLessThan(0.01);
    // the variance CUPED reports matches the spread of its estimates across replications
    expect(reportedVariance / adjusted.variance).toBeGreaterThan(0.85);
    expect(reportedVariance / adjusted.variance).toBeLessThan(1.15);
  });

  it('does no harm with an uncorrelated covariate', () => {
    const { adjusted, raw, theta } = run(0, 12);
    expect(Math.abs(theta)).toBeLessThan(0.02);
    expect(adjusted.variance / raw.variance).toBeLessThan(1.02);
    expect(Math.abs(adjusted.mean - effect)).toBeLessThan(4 * Math.sqrt(adjusted.variance / replications));
  });
});

describe('cupedAdjust edge cases', () => {
  const arm = (units: number, sum: number, sumSquares: number, x: number, xx: number, xy: number): CupedArmStats => ({
    units,
    sum,
    sumSquares,
    covariate: { sum: x, sumSquares: xx, sumProducts: xy },
  });

  it('uses theta = 0 when the covariate is constant, leaving the arms unadjusted', () => {
    const adj = cupedAdjust('mean', arm(3, 6, 14, 3, 3, 6), arm(3, 9, 29, 3, 3, 9));
    expect(adj?.theta).toBe(0);
    expect(adj?.control.mean).toBe(2);
    expect(adj?.control.variance).toBe(1);
  });

  it('keeps the p(1 - p) convention for conversion metrics', () => {
    // control: y = 1, 0, 0, 1; x = 1, 0, 1, 1. treatment: y = 1, 1, 0, 0; x = 1, 1, 0, 1
    const adj = cupedAdjust('conversion', arm(4, 2, 2, 3, 3, 2), arm(4, 2, 2, 3, 3, 2));
    expect(adj?.control.unadjustedVariance).toBe(0.25);
    expect(adj?.theta).toBeGreaterThan(0);
  });

  it('returns null when an arm has no units', () => {
    expect(cupedAdjust('mean', arm(0, 0, 0, 0, 0, 0), arm(3, 6, 14, 3, 5, 7))).toBeNull();
  });
});
