import { describe, expect, it } from 'vitest';
import { compareArms } from './compare.js';
import { ComparisonError } from './result-types.js';

const options = { alpha: 0.05, sequentialTuning: 5000 };

describe('compareArms edge cases', () => {
  it('BASELINE_ZERO: keeps the absolute figures, nulls the relative and Bayesian ones', () => {
    // control values average exactly 0 (refunds), so the relative lift is undefined
    const c = compareArms(
      'mean',
      { key: 'control', units: 4, sum: 0, sumSquares: 20 },
      { key: 'treatment', units: 4, sum: 4, sumSquares: 24 },
      options,
    );
    expect(c.error).toBe(ComparisonError.BASELINE_ZERO);
    expect(c.absoluteLift).toBe(1);
    expect(c.relativeLift).toBeNull();
    expect(c.absolute.pValue).toBeTypeOf('number');
    expect(c.absolute.ci).not.toBeNull();
    expect(c.relative).toEqual({ se: null, dof: null, ci: null, pValue: null });
    expect(c.chanceToBeatControl).toBeNull();
    expect(c.credibleInterval).toBeNull();
    expect(c.sequential?.ci).toBeNull();
    expect(c.sequential?.absolute.ci).not.toBeNull();
  });

  it('ZERO_VARIANCE: keeps the point estimates, nulls every inferential figure', () => {
    const c = compareArms(
      'conversion',
      { key: 'control', units: 500, sum: 0, sumSquares: 0 },
      { key: 'treatment', units: 500, sum: 10, sumSquares: 10 },
      options,
    );
    expect(c.error).toBe(ComparisonError.ZERO_VARIANCE);
    expect(c.absoluteLift).toBe(0.02);
    expect(c.relativeLift).toBeNull(); // the control rate is also 0
    expect(c.absolute).toEqual({ se: null, dof: null, ci: null, pValue: null });
    expect(c.chanceToBeatControl).toBeNull();
    expect(c.sequential).toEqual({ ci: null, pValue: null, absolute: { ci: null, pValue: null } });
  });

  it('ZERO_VARIANCE also covers a variance that cannot be estimated (n = 1, n = 0)', () => {
    const one = compareArms(
      'mean',
      { key: 'c', units: 1, sum: 3, sumSquares: 9 },
      { key: 't', units: 10, sum: 40, sumSquares: 200 },
      options,
    );
    expect(one.error).toBe(ComparisonError.ZERO_VARIANCE);
    expect(one.absoluteLift).toBe(1);
    const none = compareArms(
      'mean',
      { key: 'c', units: 0, sum: 0, sumSquares: 0 },
      { key: 't', units: 10, sum: 40, sumSquares: 200 },
      options,
    );
    expect(none.error).toBe(ComparisonError.ZERO_VARIANCE);
    expect(none.absoluteLift).toBeNull();
  });

  it('leaves the sequential key out when sequential testing is off', () => {
    const c = compareArms(
      'conversion',
      { key: 'c', units: 100, sum: 10, sumSquares: 10 },
      { key: 't', units: 100, sum: 12, sumSquares: 12 },
      { alpha: 0.05, sequentialTuning: null },
    );
    expect('sequential' in c).toBe(false);
    expect(c.error).toBeNull();
    expect(c.cuped).toBeNull();
  });

  it('returns fresh objects, so editing one result cannot change another', () => {
    const arm = { key: 'c', units: 0, sum: 0, sumSquares: 0 };
    const a = compareArms('mean', arm, { ...arm, key: 't' }, options);
    const b = compareArms('mean', arm, { ...arm, key: 't' }, options);
    a.relative.se = 1;
    expect(b.relative.se).toBeNull();
  });
});
