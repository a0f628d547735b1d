import { describe, expect, it } from 'vitest';
import { StatsError } from '../errors.js';
import { expectClose } from '../test-support/expect-close.js';
import { loadReference } from '../test-support/reference.js';
import { normalCdf, normalPdf, normalQuantile, normalSf } from './normal.js';

interface NormalReference {
  normal: { points: { x: number; cdf: number; sf: number; pdf: number }[]; quantiles: { p: number; quantile: number }[] };
}

const ref = loadReference<NormalReference>('distributions.json').normal;

describe('normal distribution against scipy', () => {
  it.each(ref.points)('cdf, sf and pdf at $x', ({ x, cdf, sf, pdf }) => {
    expectClose(normalCdf(x), cdf, `cdf(${x})`);
    expectClose(normalSf(x), sf, `sf(${x})`);
    expectClose(normalPdf(x), pdf, `pdf(${x})`);
  });

  it.each(ref.quantiles)('quantile($p)', ({ p, quantile }) => {
    // the median is exactly 0, which a relative tolerance cannot express
    expectClose(normalQuantile(p), quantile, `quantile(${p})`, 1e-9, 1e-15);
  });
});

describe('normal distribution, properties', () => {
  it('quantile inverts the CDF in both tails', () => {
    for (const p of [1e-200, 1e-7, 0.03, 0.4999, 0.6, 0.99999]) {
      expectClose(normalCdf(normalQuantile(p)), p, `cdf(quantile(${p}))`, 1e-12);
    }
  });

  it('has exact ends and rejects probabilities outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalSf(Infinity)).toBe(0);
    expect(() => normalQuantile(1.01)).toThrow(StatsError);
    expect(() => normalCdf(Number.NaN)).toThrow(StatsError);
  });
});
