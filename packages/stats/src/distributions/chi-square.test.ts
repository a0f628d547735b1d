import { describe, expect, it } from 'vitest';
import { StatsError } from '../errors.js';
import { expectClose } from '../test-support/expect-close.js';
import { loadReference } from '../test-support/reference.js';
import { chiSquareCdf, chiSquarePdf, chiSquareSf } from './chi-square.js';

interface ChiSquareReference {
  chiSquare: { points: { x: number; dof: number; cdf: number; sf: number; pdf: number }[] };
}

const ref = loadReference<ChiSquareReference>('distributions.json').chiSquare;

describe('chi-square against scipy', () => {
  it.each(ref.points)('cdf, sf and pdf at x = $x, dof = $dof', ({ x, dof, cdf, sf, pdf }) => {
    expectClose(chiSquareCdf(x, dof), cdf, `cdf(${x}, ${dof})`);
    expectClose(chiSquareSf(x, dof), sf, `sf(${x}, ${dof})`);
    expectClose(chiSquarePdf(x, dof), pdf, `pdf(${x}, ${dof})`);
  });
});

describe('chi-square, properties', () => {
  it('with 2 dof is the exponential distribution with mean 2', () => {
    for (const x of [0.1, 1, 7, 80]) expectClose(chiSquareSf(x, 2), Math.exp(-x / 2), `sf(${x}, 2)`, 1e-13);
  });

  it('handles the ends of the support and rejects invalid dof', () => {
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(chiSquareCdf(-1, 3)).toBe(0);
    expect(chiSquareSf(Infinity, 3)).toBe(0);
    expect(chiSquarePdf(-1, 3)).toBe(0);
    expect(() => chiSquareSf(1, 0)).toThrow(StatsError);
    expect(() => chiSquareSf(1, Infinity)).toThrow(StatsError);
  });
});
