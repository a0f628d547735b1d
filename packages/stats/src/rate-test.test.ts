import { describe, expect, it } from 'vitest';
import { StatsError } from './errors.js';
import { rateIncreaseEValue } from './rate-test.js';
import { expectClose } from './test-support/expect-close.js';

/** The e-value's definition integrated numerically (composite Simpson), independently of the incomplete beta. */
function bySimpson(c: number, t: number, nc: number, nt: number, m: number): number {
  const p0 = (nt * (1 + m)) / (nt * (1 + m) + nc);
  const f = (q: number) => Math.pow(q / p0, t) * Math.pow((1 - q) / (1 - p0), c);
  const steps = 20000;
  const h = (1 - p0) / steps;
  let s = f(p0) + f(1);
  for (let i = 1; i < steps; i++) s += (i % 2 === 1 ? 4 : 2) * f(p0 + i * h);
  return (s * h) / 3 / (1 - p0);
}

describe('rateIncreaseEValue', () => {
  it('is the mixture likelihood ratio of its definition', () => {
    for (const [c, t, nc, nt, m] of [
      [0, 8, 1000, 1000, 0.1],
      [4, 4, 1000, 1000, 0.1],
      [3, 20, 5000, 4800, 0],
      [10, 12, 900, 300, 0.5],
      [0, 5, 9500, 500, 0.1],
    ] as const) {
      expectClose(
        rateIncreaseEValue({ units: nc, count: c }, { units: nt, count: t }, m),
        bySimpson(c, t, nc, nt, m),
        `${c} vs ${t}`,
        1e-7,
      );
    }
  });

  it('grows with treatment-only events and needs about eight of them against a control at zero', () => {
    const e = (t: number) => rateIncreaseEValue({ units: 1000, count: 0 }, { units: 1000, count: t }, 0.1);
    expect(e(7)).toBeLessThan(40);
    expect(e(8)).toBeGreaterThanOrEqual(40);
    for (let t = 1; t < 30; t++) expect(e(t + 1)).toBeGreaterThan(e(t));
  });

  it('gives no evidence without events or units, and little for equal counts', () => {
    expect(rateIncreaseEValue({ units: 1000, count: 0 }, { units: 1000, count: 0 }, 0.1)).toBe(1);
    expect(rateIncreaseEValue({ units: 0, count: 0 }, { units: 1000, count: 10 }, 0.1)).toBe(1);
    expect(rateIncreaseEValue({ units: 1000, count: 500 }, { units: 1000, count: 500 }, 0.1)).toBeLessThan(0.05);
  });

  it('rejects counts that cannot come from data', () => {
    expect(() => rateIncreaseEValue({ units: 1000, count: Number.NaN }, { units: 1000, count: 1 }, 0.1)).toThrow(StatsError);
    expect(() => rateIncreaseEValue({ units: 1000, count: 1 }, { units: 1000, count: 1 }, -1)).toThrow(StatsError);
  });
});
