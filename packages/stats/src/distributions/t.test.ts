import { describe, expect, it } from 'vitest';
import { StatsError } from '../errors.js';
import { expectClose } from '../test-support/expect-close.js';
import { loadReference } from '../test-support/reference.js';
import { normalQuantile } from './normal.js';
import { studentTCdf, studentTPdf, studentTQuantile, studentTSf } from './t.js';

interface TReference {
  t: {
    points: { t: number; dof: number; cdf: number; sf: number; pdf: number }[];
    quantiles: { p: number; dof: number; quantile: number }[];
  };
}

const ref = loadReference<TReference>('distributions.json').t;

describe("Student's t against scipy", () => {
  it.each(ref.points)('cdf, sf and pdf at t = $t, dof = $dof', ({ t, dof, cdf, sf, pdf }) => {
    expectClose(studentTCdf(t, dof), cdf, `cdf(${t}, ${dof})`);
    expectClose(studentTSf(t, dof), sf, `sf(${t}, ${dof})`);
    expectClose(studentTPdf(t, dof), pdf, `pdf(${t}, ${dof})`);
  });

  it.each(ref.quantiles)('quantile($p, $dof)', ({ p, dof, quantile }) => {
    expectClose(studentTQuantile(p, dof), quantile, `quantile(${p}, ${dof})`, 1e-9, 1e-15);
  });
});

describe("Student's t, properties", () => {
  it('has the closed forms of 1 and 2 degrees of freedom', () => {
    for (const t of [-30, -2, -0.4, 0.7, 5, 400]) {
      expectClose(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, `cauchy cdf(${t})`, 1e-13);
      expectClose(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), `t2 cdf(${t})`, 1e-13);
    }
  });

  it('tends to the normal distribution and equals it at infinite dof', () => {
    expect(studentTQuantile(0.975, Infinity)).toBe(normalQuantile(0.975));
    expectClose(studentTQuantile(0.975, 1e12), normalQuantile(0.975), 'dof 1e12', 1e-9);
  });

  it('quantile inverts the CDF over a wide grid', () => {
    for (const dof of [0.7, 1, 3.3, 17, 250, 4e4, 3e7]) {
      for (const p of [1e-9, 0.01, 0.3, 0.51, 0.975]) {
        expectClose(studentTCdf(studentTQuantile(p, dof), dof), p, `cdf(quantile(${p}, ${dof}))`, 1e-11);
      }
    }
  });

  it('answers for the Welch dof of a very large experiment (4e8), at the normal limit', () => {
    // Its speed is not timed here (that would flake on a loaded machine); an algorithm that
    // iterated over the dof would not finish within the test's timeout.
    for (const t of [0.5, 1.5, 1.7, 1.8, 2, 3]) expectClose(studentTSf(t, 4e8), 1 - studentTCdf(t, Infinity), `sf(${t}, 4e8)`, 1e-7);
    expectClose(studentTQuantile(0.975, 4e8), normalQuantile(0.975), 'quantile(0.975, 4e8)', 1e-8);
  });

  it('has exact ends and rejects invalid arguments', () => {
    expect(studentTQuantile(0, 5)).toBe(-Infinity);
    expect(studentTQuantile(1, 5)).toBe(Infinity);
    expect(studentTQuantile(0.5, 5)).toBe(0);
    expect(studentTCdf(0, 5)).toBe(0.5);
    expect(studentTSf(Infinity, 5)).toBe(0);
    expect(studentTCdf(-Infinity, 5)).toBe(0);
    expect(() => studentTCdf(1, 0)).toThrow(StatsError);
    expect(() => studentTQuantile(-0.1, 5)).toThrow(StatsError);
    expect(() => studentTSf(Number.NaN, 5)).toThrow(StatsError);
  });
});
