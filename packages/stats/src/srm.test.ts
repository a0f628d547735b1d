import { describe, expect, it } from 'vitest';
import { StatsError } from './errors.js';
import { SRM_P_VALUE_THRESHOLD, sampleRatioMismatch } from './srm.js';
import { expectClose } from './test-support/expect-close.js';

describe('sampleRatioMismatch', () => {
  it('matches scipy.stats.chisquare for a 50/50 split', () => {
    const r = sampleRatioMismatch([5000, 5300], [50, 50]);
    expectClose(r.chiSquare, 8.737864077669903, 'chi2');
    expectClose(r.pValue, 0.003116693839866867, 'p');
    expect(r.dof).toBe(1);
    expect(r.mismatch).toBe(false);
  });

  it('flags p < 0.001 and normalises weights that do not sum to 100', () => {
    const r = sampleRatioMismatch([10000, 10500], [1, 1]);
    expect(r.pValue).toBeLessThan(SRM_P_VALUE_THRESHOLD);
    expect(r.mismatch).toBe(true);
    expect(sampleRatioMismatch([1030, 4990, 5020], [10, 45, 45])).toEqual(sampleRatioMismatch([1030, 4990, 5020], [20, 90, 90]));
  });

  it('tests against unequal weights, with one dof per extra variant', () => {
    const r = sampleRatioMismatch([1030, 4990, 5020], [10, 45, 45]);
    expect(r.dof).toBe(2);
    expectClose(r.chiSquare, 5.601851851851851, 'chi2');
    expectClose(r.pValue, 0.06075378307104614, 'p');
  });

  it('returns nulls when there is nothing to test, and a certain mismatch for units in a weight-0 variant', () => {
    expect(sampleRatioMismatch([0, 0], [50, 50])).toEqual({ chiSquare: null, dof: 1, pValue: null, mismatch: false });
    expect(sampleRatioMismatch([10, 0], [100, 0])).toEqual({ chiSquare: null, dof: 0, pValue: null, mismatch: false });
    expect(sampleRatioMismatch([10, 10, 1], [50, 50, 0])).toEqual({ chiSquare: null, dof: 1, pValue: 0, mismatch: true });
  });

  it('throws on malformed input', () => {
    expect(() => sampleRatioMismatch([1, 2], [50])).toThrow(StatsError);
    expect(() => sampleRatioMismatch([1, 2], [0, 0])).toThrow(StatsError);
    expect(() => sampleRatioMismatch([-1, 2], [50, 50])).toThrow(StatsError);
  });
});
