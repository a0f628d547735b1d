import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze } from './analyze.js';
import { StatsError, StatsErrorCode } from './errors.js';
import { expectAllFinite } from './test-support/deep-close.js';
import type { AnalyzeInput, VariantInput } from './types.js';

const specInput: AnalyzeInput = {
  alpha: 0.05,
  sequentialTuning: 5000,
  metrics: [
    { key: 'purchase', type: 'conversion' },
    { key: 'revenue', type: 'mean' },
  ],
  variants: [
    {
      key: 'control',
      weight: 50,
      units: 10000,
      stats: { purchase: { count: 10000, sum: 1000, sumSquares: 1000 }, revenue: { count: 1000, sum: 52000, sumSquares: 4100000 } },
    },
    {
      key: 'treatment',
      weight: 50,
      units: 10000,
      stats: { purchase: { count: 10000, sum: 1100, sumSquares: 1100 }, revenue: { count: 1100, sum: 57000, sumSquares: 4500000 } },
    },
  ],
};

function expectStatsError(input: unknown, code: StatsErrorCode): void {
  try {
    analyze(input as AnalyzeInput);
  } catch (e) {
    expect(e).toBeInstanceOf(StatsError);
    expect((e as StatsError).code).toBe(code);
    return;
  }
  expect.fail(`expected StatsError ${code}`);
}

describe('analyze: result shape', () => {
  it('has the shape of the spec', () => {
    const r = analyze(specInput);
    expect(Object.keys(r.srm).sort()).toEqual(['chiSquare', 'dof', 'mismatch', 'pValue']);
    expect(r.srm.mismatch).toBe(false);
    expect(r.sequential).toEqual({ included: true, tuning: 5000 });
    const purchase = r.metrics.purchase;
    expect(purchase?.variants.map((v) => v.key)).toEqual(['control', 'treatment']);
    expect(purchase?.variants[0]).toEqual({ key: 'control', units: 10000, count: 10000, mean: 0.1, variance: 0.1 * 0.9 });
    const c = purchase?.comparisons[0];
    expect(Object.keys(c ?? {}).sort()).toEqual(
      [
        'absolute',
        'absoluteLift',
        'chanceToBeatControl',
        'credibleInterval',
        'cuped',
        'error',
        'posterior',
        'relative',
        'relativeLift',
        'sequential',
        'variant',
      ].sort(),
    );
    expect(c?.variant).toBe('treatment');
    expect(c?.relativeLift).toBeCloseTo(0.1, 12);
    expect(c?.relative.dof).toBe(c?.absolute.dof);
    expect(c?.relative.pValue).toBeLessThan(0.05);
    expect(c?.chanceToBeatControl).toBeGreaterThan(0.95);
    expect(r.metrics.revenue?.variants[1]?.count).toBe(1100);
  });

  it('includes sequential figures only when asked, and says so', () => {
    const { sequentialTuning: _, ...base } = specInput;
    const off = analyze(base);
    expect(off.sequential).toEqual({ included: false, tuning: null });
    expect('sequential' in (off.metrics.purchase?.comparisons[0] ?? {})).toBe(false);
    expect(analyze({ ...base, sequential: true }).sequential).toEqual({ included: true, tuning: 5000 });
    expect(analyze({ ...specInput, sequential: false }).sequential).toEqual({ included: false, tuning: null });
  });

  it('compares every treatment with the first variant', () => {
    const variants: VariantInput[] = Array.from({ length: 10 }, (_, i) => ({
      key: `v${i}`,
      weight: 10,
      units: 1000,
      stats: { purchase: { sum: 100 + i * 5, sumSquares: 100 + i * 5 } },
    }));
    const r = analyze({ metrics: [{ key: 'purchase', type: 'conversion' }], variants });
    expect(r.metrics.purchase?.comparisons.map((c) => c.variant)).toEqual(variants.slice(1).map((v) => v.key));
    expect(r.srm.dof).toBe(9);
  });

  it('treats a metric missing from a variant as no events, with count defaulting to units', () => {
    const r = analyze({
      metrics: [{ key: 'signup', type: 'conversion' }],
      variants: [
        { key: 'control', weight: 50, units: 200, stats: {} },
        { key: 'treatment', weight: 50, units: 200, stats: { signup: { sum: 4, sumSquares: 4 } } },
      ],
    });
    expect(r.metrics.signup?.variants[0]).toEqual({ key: 'control', units: 200, count: 200, mean: 0, variance: 0 });
    expect(r.metrics.signup?.comparisons[0]?.error).toBe('ZERO_VARIANCE');
  });

  it('does not modify its input', () => {
    const frozen = JSON.parse(JSON.stringify(specInput)) as AnalyzeInput;
    const deepFreeze = (o: object): void => {
      Object.freeze(o);
      for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v);
    };
    deepFreeze(frozen);
    expect(() => analyze(frozen)).not.toThrow();
    expect(frozen).toEqual(specInput);
  });
});

describe('analyze: programmer errors throw StatsError with a code', () => {
  const metrics = specInput.metrics;
  const [control, treatment] = specInput.variants as [VariantInput, VariantInput];

  it.each([
    ['no variants', { metrics, variants: [] }, StatsErrorCode.INVALID_VARIANTS],
    ['one variant', { metrics, variants: [control] }, StatsErrorCode.INVALID_VARIANTS],
    ['duplicate variant keys', { metrics, variants: [control, { ...treatment, key: 'control' }] }, StatsErrorCode.INVALID_VARIANTS],
    ['negative units', { metrics, variants: [control, { ...treatment, units: -1 }] }, StatsErrorCode.INVALID_VARIANTS],
    [
      'all weights 0',
      {
        metrics,
        variants: [
          { ...control, weight: 0 },
          { ...treatment, weight: 0 },
        ],
      },
      StatsErrorCode.INVALID_VARIANTS,
    ],
    ['alpha out of range', { ...specInput, alpha: 1 }, StatsErrorCode.INVALID_OPTIONS],
    ['non-positive N*', { ...specInput, sequentialTuning: 0 }, StatsErrorCode.INVALID_OPTIONS],
    ['improper prior', { ...specInput, prior: { mean: 0, variance: -1 } }, StatsErrorCode.INVALID_OPTIONS],
    ['unknown metric type', { ...specInput, metrics: [{ key: 'x', type: 'ratio' }] }, StatsErrorCode.INVALID_METRICS],
    ['duplicate metric keys', { ...specInput, metrics: [metrics[0], metrics[0]] }, StatsErrorCode.INVALID_METRICS],
    [
      'more conversions than units',
      { metrics, variants: [control, { ...treatment, stats: { purchase: { sum: 10001, sumSquares: 10001 } } }] },
      StatsErrorCode.INVALID_STATS,
    ],
    [
      'count above units',
      { metrics, variants: [control, { ...treatment, stats: { purchase: { count: 10001, sum: 1, sumSquares: 1 } } }] },
      StatsErrorCode.INVALID_STATS,
    ],
    [
      'NaN sum',
      { metrics, variants: [control, { ...treatment, stats: { revenue: { sum: Number.NaN, sumSquares: 1 } } }] },
      StatsErrorCode.INVALID_STATS,
    ],
    [
      'covariate in some variants only',
      {
        metrics,
        variants: [
          control,
          { ...treatment, stats: { revenue: { sum: 1, sumSquares: 1, covariate: { sum: 1, sumSquares: 1, sumProducts: 1 } } } },
        ],
      },
      StatsErrorCode.INVALID_STATS,
    ],
  ] as const)('%s', (_name, input, code) => {
    expectStatsError(input, code);
  });
});

describe('analyze: awkward data never throws and never yields NaN', () => {
  const count = fc.integer({ min: 0, max: 2_000_000_000 });
  const variantArbitrary = fc
    .record({
      units: fc.oneof(fc.constantFrom(0, 1, 2), count),
      rate: fc.double({ min: 0, max: 1, noNaN: true }),
      mean: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      spread: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })),
      weight: fc.constantFrom(0, 10, 50, 33.33),
      withCovariate: fc.boolean(),
    })
    .map(({ units, rate, mean, spread, weight, withCovariate }) => ({
      weight,
      units,
      withCovariate,
      stats: {
        purchase: { sum: Math.round(units * rate), sumSquares: Math.round(units * rate) },
        revenue: { sum: units * mean, sumSquares: units * (mean * mean + spread * spread) },
      },
    }));

  it('holds for random sufficient statistics, including empty and single-unit arms', () => {
    fc.assert(
      fc.property(fc.array(variantArbitrary, { minLength: 2, maxLength: 6 }), fc.boolean(), fc.boolean(), (variants, sequential, cuped) => {
        const input: AnalyzeInput = {
          sequential,
          metrics: [
            { key: 'purchase', type: 'conversion' },
            { key: 'revenue', type: 'mean' },
          ],
          variants: variants.map(({ withCovariate, stats, ...v }, i) => {
            // a covariate for every variant or none; its sums need not be consistent with the metric's
            const { sum, sumSquares } = stats.revenue;
            const covariate = { sum: 0.9 * sum, sumSquares: withCovariate ? 0.8 * sumSquares : sumSquares, sumProducts: 0.85 * sumSquares };
            const revenue = cuped ? { sum, sumSquares, covariate } : stats.revenue;
            return { ...v, key: `v${i}`, weight: i === 0 ? 50 : v.weight, stats: { purchase: stats.purchase, revenue } };
          }),
        };
        const r = analyze(input);
        expectAllFinite(r);
        for (const m of Object.values(r.metrics)) {
          for (const c of m.comparisons) {
            // the error code tells exactly which figures are present
            if (c.error === 'ZERO_VARIANCE')
              expect([c.absolute.pValue, c.relative.pValue, c.chanceToBeatControl]).toEqual([null, null, null]);
            if (c.error === 'BASELINE_ZERO') {
              expect(c.absolute.pValue).not.toBeNull();
              expect([c.relativeLift, c.relative.pValue, c.chanceToBeatControl]).toEqual([null, null, null]);
            }
            if (c.error === null) {
              for (const x of [c.absolute.pValue, c.absolute.ci, c.relative.pValue, c.relative.ci, c.chanceToBeatControl, c.relativeLift]) {
                expect(x).not.toBeNull();
              }
            }
          }
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
  });
});
