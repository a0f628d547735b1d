import { describe, expect, it } from 'vitest';
import { SeededRandom, sums } from './prng.js';

describe('SeededRandom (test PRNG)', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws normals with the requested mean and standard deviation', () => {
    const rng = new SeededRandom(7);
    const values = Array.from({ length: 50000 }, () => rng.normal(3, 2));
    const { units, sum, sumSquares } = sums(values);
    const mean = sum / units;
    const variance = (sumSquares - sum * mean) / (units - 1);
    // 5 standard errors: 2/sqrt(50000) = 0.009 for the mean; ~0.025 for the variance of 4
    expect(Math.abs(mean - 3)).toBeLessThan(0.045);
    expect(Math.abs(variance - 4)).toBeLessThan(0.13);
  });
});
