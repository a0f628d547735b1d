import { describe, expect, it } from 'vitest';
import { metricMoments, sampleCovariance, sampleVariance } from './moments.js';

describe('metricMoments', () => {
  it('uses p(1 - p) for conversions, ignoring sumSquares', () => {
    const m = metricMoments('conversion', 10000, 1000, 123);
    expect(m.mean).toBe(0.1);
    expect(m.variance).toBeCloseTo(0.09, 15);
  });

  it('uses the n - 1 sample variance for means', () => {
    // values 1, 2, 3, 6
    expect(metricMoments('mean', 4, 12, 50)).toEqual({ mean: 3, variance: (50 - 36) / 3 });
  });

  it('reports what cannot be estimated as null', () => {
    expect(metricMoments('mean', 0, 0, 0)).toEqual({ mean: null, variance: null });
    expect(metricMoments('conversion', 0, 0, 0)).toEqual({ mean: null, variance: null });
    expect(metricMoments('mean', 1, 5, 25)).toEqual({ mean: 5, variance: null });
    expect(metricMoments('conversion', 1, 1, 1)).toEqual({ mean: 1, variance: 0 });
  });
});

describe('sampleVariance and sampleCovariance', () => {
  it('compute the textbook values', () => {
    expect(sampleVariance(3, 6, 14)).toBe(1);
    expect(sampleCovariance(3, 6, 12, 28)).toBe(2);
    expect(sampleCovariance(1, 2, 3, 6)).toBe(0);
  });

  it('treat rounding residue of constant data as zero variance, and inconsistent sums as zero too', () => {
    const n = 3;
    const sum = 0.1 + 0.1 + 0.1;
    const sumSquares = 0.01 + 0.01 + 0.01;
    expect(sumSquares - (sum * sum) / n).not.toBe(0); // the residue is really there
    expect(sampleVariance(n, sum, sumSquares)).toBe(0);
    expect(sampleVariance(2, 10, 1)).toBe(0); // sumSquares < sum^2 / n: impossible, never negative
  });

  it('keeps genuine small variances', () => {
    // values 1000 and 1000.1: variance 0.005, far above the tolerance
    expect(sampleVariance(2, 2000.1, 1000 * 1000 + 1000.1 * 1000.1)).toBeCloseTo(0.005, 6);
  });
});
