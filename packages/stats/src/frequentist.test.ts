import { describe, expect, it } from 'vitest';
import {
  absoluteDifference,
  finiteInterval,
  finiteOrNull,
  relativeDifference,
  twoSidedTTest,
  welchDegreesOfFreedom,
} from './frequentist.js';
import { expectClose } from './test-support/expect-close.js';

describe('Welch degrees of freedom', () => {
  it('is n_c + n_t - 2 for equal variances and sizes', () => {
    expect(welchDegreesOfFreedom({ n: 10, mean: 1, variance: 4 }, { n: 10, mean: 2, variance: 4 })).toBe(18);
  });

  it('approaches the smaller arm when its variance dominates', () => {
    const dof = welchDegreesOfFreedom({ n: 5, mean: 0, variance: 100 }, { n: 1000, mean: 0, variance: 1 });
    expect(dof).toBeGreaterThan(4);
    expect(dof).toBeLessThan(4.5);
  });
});

describe('differences', () => {
  const control = { n: 10000, mean: 0.1, variance: 0.09 };
  const treatment = { n: 10000, mean: 0.11, variance: 0.0979 };

  it('absolute: difference of means, variance vt/nt + vc/nc', () => {
    const d = absoluteDifference(control, treatment);
    expectClose(d.estimate, 0.01, 'estimate', 1e-12);
    expectClose(d.variance, 0.0979 / 10000 + 0.09 / 10000, 'variance', 1e-12);
  });

  it('relative: delta method vt/(nt mc^2) + vc mt^2/(nc mc^4)', () => {
    const d = relativeDifference(control, treatment);
    expectClose(d?.estimate, 0.1, 'estimate', 1e-12);
    expectClose(d?.variance, 0.0979 / (10000 * 0.01) + (0.09 * 0.0121) / (10000 * 0.0001), 'variance', 1e-12);
  });

  it('relative: divides by |control mean| so that a better negative metric has a positive lift', () => {
    const d = relativeDifference({ n: 100, mean: -2, variance: 1 }, { n: 100, mean: -1.5, variance: 1 });
    expect(d?.estimate).toBe(0.25);
  });

  it('relative: scales by the unadjusted means when CUPED adjusted them', () => {
    const d = relativeDifference({ n: 100, mean: 1, variance: 1, rawMean: 2 }, { n: 100, mean: 1.5, variance: 1, rawMean: 4 });
    expect(d?.estimate).toBe(0.25);
    expectClose(d?.variance, 1 / (100 * 4) + 16 / (100 * 16), 'variance', 1e-12);
  });

  it('relative: null when the control mean is 0', () => {
    expect(relativeDifference({ n: 10, mean: 0, variance: 1 }, treatment)).toBeNull();
  });
});

describe('twoSidedTTest', () => {
  it('gives the textbook p-value and interval (scipy: 2 * t.sf(2, 10), t.ppf(0.975, 10))', () => {
    const r = twoSidedTTest({ estimate: 2, variance: 1 }, 10, 0.05);
    expectClose(r.pValue, 0.07338803477074037, 'p');
    expectClose(r.ci?.[0], 2 - 2.228138851986274, 'lo');
    expectClose(r.ci?.[1], 2 + 2.228138851986274, 'hi');
    expect(r.se).toBe(1);
    expect(r.dof).toBe(10);
  });

  it('is symmetric in the sign of the estimate', () => {
    expect(twoSidedTTest({ estimate: -2, variance: 1 }, 10, 0.05).pValue).toBe(
      twoSidedTTest({ estimate: 2, variance: 1 }, 10, 0.05).pValue,
    );
  });

  it('returns nulls rather than NaN for a zero or non-finite variance', () => {
    expect(twoSidedTTest({ estimate: 1, variance: 0 }, 10, 0.05)).toEqual({ se: 0, dof: 10, ci: null, pValue: null });
    expect(twoSidedTTest({ estimate: 1, variance: Infinity }, 10, 0.05)).toEqual({ se: null, dof: 10, ci: null, pValue: null });
  });
});

describe('finite helpers', () => {
  it('map non-finite values to null', () => {
    expect(finiteOrNull(Number.NaN)).toBeNull();
    expect(finiteOrNull(1)).toBe(1);
    expect(finiteInterval(0, Infinity)).toBeNull();
    expect(finiteInterval(-1, 1)).toEqual([-1, 1]);
  });
});
