import { describe, expect, it } from 'vitest';
import { normalQuantile } from './distributions/normal.js';
import { StatsError } from './errors.js';
import { absoluteDifference, twoSidedTTest, welchDegreesOfFreedom } from './frequentist.js';
import { sequentialHalfWidth, sequentialPValue, sequentialRho, sequentialTest } from './sequential.js';
import { expectClose } from './test-support/expect-close.js';
import { SeededRandom, sums } from './test-support/prng.js';

describe('sequential formulas', () => {
  it('rho and the half-width match the GrowthBook formulas evaluated in Python', () => {
    expectClose(sequentialRho(0.05, 5000), 0.03984006677137368, 'rho');
    // Python: sqrt(v N) sqrt(2 (N rho^2 + 1) / (N^2 rho^2) ln(sqrt(N rho^2 + 1) / alpha)) with v = 1, N = N* = 5000
    expectClose(sequentialHalfWidth(1, 5000, 0.05, 5000), 3.0352089903762534, 'width', 1e-12);
  });

  it('is tightest at N = N*: another N* gives a wider interval there', () => {
    const atTuning = sequentialHalfWidth(1, 5000, 0.05, 5000);
    for (const k of [0.25, 0.5, 0.8, 1.25, 2, 4]) expect(sequentialHalfWidth(1, 5000, 0.05, 5000 * k)).toBeGreaterThan(atTuning);
  });

  it('is always wider than the fixed-horizon normal interval', () => {
    const z = normalQuantile(0.975);
    for (const n of [10, 100, 5000, 1e5, 1e8]) {
      const variance = 4 / n;
      expect(sequentialHalfWidth(variance, n, 0.05, 5000)).toBeGreaterThan(z * Math.sqrt(variance));
    }
  });

  it('p < alpha exactly when the interval excludes 0', () => {
    for (const estimate of [-0.3, -0.1, -0.05, 0, 0.02, 0.06, 0.08, 0.2]) {
      for (const alpha of [0.01, 0.05, 0.1]) {
        const r = sequentialTest({ estimate, variance: 0.0004 }, 20000, alpha, 5000);
        const excludes = (r.ci?.[0] ?? 0) > 0 || (r.ci?.[1] ?? 0) < 0;
        expect((r.pValue ?? 1) < alpha, `estimate ${estimate}, alpha ${alpha}`).toBe(excludes);
      }
    }
    expect(sequentialPValue({ estimate: 0, variance: 1 }, 100, 0.05, 5000)).toBe(1);
  });

  it('does not overflow for huge effects and returns nulls without variance', () => {
    expect(sequentialTest({ estimate: 50, variance: 1e-8 }, 1e6, 0.05, 5000).pValue).toBe(0);
    expect(sequentialTest({ estimate: 1, variance: 0 }, 100, 0.05, 5000)).toEqual({ ci: null, pValue: null });
    expect(() => sequentialTest({ estimate: 1, variance: 1 }, 100, 0.05, 0)).toThrow(StatsError);
  });
});

describe('peeking at A/A tests (seeded simulation)', () => {
  it('inflates the fixed-horizon false-positive rate but not the sequential one', () => {
    const rng = new SeededRandom(2024);
    const experiments = 300;
    const looks = 20;
    const batch = 50;
    let fixedHits = 0;
    let sequentialHits = 0;
    for (let e = 0; e < experiments; e++) {
      const a: number[] = [];
      const b: number[] = [];
      let fixed = false;
      let sequential = false;
      for (let look = 0; look < looks; look++) {
        for (let i = 0; i < batch; i++) {
          a.push(rng.normal(10, 3));
          b.push(rng.normal(10, 3));
        }
        const arm = (values: number[]) => {
          const s = sums(values);
          const mean = s.sum / s.units;
          return { n: s.units, mean, variance: (s.sumSquares - s.sum * mean) / (s.units - 1) };
        };
        const control = arm(a);
        const treatment = arm(b);
        const diff = absoluteDifference(control, treatment);
        fixed ||= (twoSidedTTest(diff, welchDegreesOfFreedom(control, treatment), 0.05).pValue ?? 1) < 0.05;
        sequential ||= (sequentialTest(diff, control.n + treatment.n, 0.05, 5000).pValue ?? 1) < 0.05;
      }
      if (fixed) fixedHits++;
      if (sequential) sequentialHits++;
    }
    // 20 looks at a fixed-horizon test: ~25 % false positives; the confidence sequence keeps <= 5 %.
    expect(fixedHits / experiments).toBeGreaterThan(0.12);
    expect(sequentialHits / experiments).toBeLessThanOrEqual(0.05);
  });
});
