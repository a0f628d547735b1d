import { describe, expect, it } from 'vitest';
import { bayesianSummary } from './bayesian.js';
import { normalCdf } from './distributions/normal.js';
import { StatsError } from './errors.js';
import { expectClose } from './test-support/expect-close.js';

describe('bayesianSummary', () => {
  it('with a flat prior: chance to beat control = Phi(lift / se), interval = lift -/+ z se', () => {
    const r = bayesianSummary({ estimate: 0.05, variance: 0.0009 }, 0.05);
    expectClose(r?.chanceToBeatControl, normalCdf(0.05 / 0.03), 'ctw', 1e-14);
    expectClose(r?.credibleInterval?.[0], 0.05 - 1.959963984540054 * 0.03, 'lo', 1e-12);
    expectClose(r?.credibleInterval?.[1], 0.05 + 1.959963984540054 * 0.03, 'hi', 1e-12);
    expect(r?.posterior).toEqual({ mean: 0.05, se: 0.03 });
  });

  it('with a normal prior: precision-weighted posterior, shrunk towards the prior mean', () => {
    const r = bayesianSummary({ estimate: 0.2, variance: 0.01 }, 0.05, { mean: 0, variance: 0.01 });
    expectClose(r?.posterior.mean, 0.1, 'mean', 1e-12);
    expectClose(r?.posterior.se, Math.sqrt(0.005), 'se', 1e-12);
    expect(r?.chanceToBeatControl).toBeLessThan(normalCdf(0.2 / 0.1));
  });

  it('uses alpha for the credible level', () => {
    const wide = bayesianSummary({ estimate: 0, variance: 1 }, 0.01);
    const narrow = bayesianSummary({ estimate: 0, variance: 1 }, 0.2);
    expectClose(wide?.credibleInterval?.[1], 2.5758293035489004, 'z 0.995');
    expectClose(narrow?.credibleInterval?.[1], 1.2815515655446004, 'z 0.9');
  });

  it('returns null without a positive variance and throws on an improper prior', () => {
    expect(bayesianSummary({ estimate: 0.1, variance: 0 }, 0.05)).toBeNull();
    expect(() => bayesianSummary({ estimate: 0.1, variance: 1 }, 0.05, { mean: 0, variance: 0 })).toThrow(StatsError);
  });
});
