import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from './helpers';
import { startTestServerOn } from './store-server';
import { assignedVariant } from './assignment';
import { prng } from '../src/services/infra/prng';

const DAY = 86_400_000;
const UNITS = 1600;

/** mulberry32 and Box-Muller: a reproducible data set. */
function generator(seed: number) {
  const uniform = prng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Units with a pre-exposure value x (revenue in the 14 days before exposure) and a post-exposure
 * value y correlated with it (rho about 0.8), plus a conversion whose chance depends on whether
 * the unit converted before. Some units have nothing before, some nothing after, and some have
 * an old event outside the window that must not count.
 */
function dataset(start: number) {
  const { uniform, normal } = generator(42);
  const units: { id: string; variant: string; x: number; y: number; preConv: number; postConv: number; events: unknown[] }[] = [];
  for (let i = 0; i < UNITS; i++) {
    const id = `cuped-unit-${i}`;
    const variant = assignedVariant('cuped-exp', id);
    const first = start + 1000 + i;
    const x = uniform() < 0.15 ? 0 : round2(Math.max(0.5, 50 + 10 * normal()));
    const y = uniform() < 0.1 ? 0 : round2(Math.max(0.5, 0.8 * x + 6 * normal() + (variant === 'treatment' ? 2 : 0)));
    const preConv = uniform() < 0.3 ? 1 : 0;
    const postConv = uniform() < 0.15 + 0.5 * preConv ? 1 : 0;
    const track = (key: string, value: number | null, timestamp: number) => ({
      id: randomUUID(),
      type: 'track',
      key,
      unit_id: id,
      ...(value === null ? {} : { value }),
      timestamp,
    });
    const events: unknown[] = [
      { id: randomUUID(), type: 'exposure', key: 'cuped-exp', experiment: 'cuped-exp', variant, unit_id: id, timestamp: first },
    ];
    if (x > 0) {
      // Split in two events inside the window, 13 days and 1 hour before the first exposure.
      const part = round2(x / 3);
      events.push(track('revenue', part, first - 13 * DAY), track('revenue', round2(x - part), first - 3_600_000));
    }
    if (i % 5 === 0) events.push(track('revenue', 1000, first - 30 * DAY)); // outside the window
    if (y > 0) events.push(track('revenue', y, first + 60_000));
    if (preConv === 1) events.push(track('signup', null, first - 2 * DAY));
    if (postConv === 1) events.push(track('signup', null, first + 120_000));
    units.push({ id, variant, x: x > 0 ? round2(x / 3) + round2(x - round2(x / 3)) : 0, y, preConv, postConv, events });
  }
  return units;
}

describe.each(['sqlite', 'postgres'] as const)('CUPED in experiment results: %s', (kind) => {
  let t: TestServer;
  beforeAll(async () => {
    const base = { apiRateBurst: 1e9, apiRatePerSecond: 1e9 };
    t = await startTestServerOn(kind, base);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('adjusts with the pre-exposure window, reports the plain figures and the variance reduction, and agrees with an independent computation', async () => {
    const created = await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: {
        key: 'cuped-exp',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ],
        metrics: [
          { key: 'revenue', type: 'mean', cuped_window_days: 14 },
          { key: 'signup', type: 'conversion', cuped_window_days: 7 },
        ],
        primary_metric: 'revenue',
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await t.request('POST', '/api/v1/experiments/cuped-exp/start', { token: t.adminToken })).status).toBe(200);
    const units = dataset(Date.now());
    let batch: unknown[] = [];
    for (const u of units) {
      batch.push(...u.events);
      if (batch.length > 900) {
        expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: batch } })).status).toBe(202);
        batch = [];
      }
    }
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: batch } })).status).toBe(202);

    const r = await t.request('GET', '/api/v1/experiments/cuped-exp/results', { token: t.adminToken });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const reference = JSON.parse(
      execFileSync('python3', [fileURLToPath(new URL('./fixtures/cuped_reference.py', import.meta.url))], {
        input: JSON.stringify({
          metrics: {
            revenue: { type: 'mean', arms: arms(units, (u) => [u.x, u.y]) },
            signup: { type: 'conversion', arms: arms(units, (u) => [u.preConv, u.postConv]) },
          },
        }),
      }).toString(),
    );
    for (const metric of ['revenue', 'signup'] as const) {
      const m = r.body.data.metrics[metric];
      const ref = reference[metric];
      expect(m.cuped, metric).toBe(true);
      const c = m.comparisons[0];
      const close = (actual: number, expected: number, label: string) =>
        expect(Math.abs(actual - expected), `${metric} ${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
          1e-9 * Math.abs(expected) + 1e-12,
        );
      close(c.cuped.theta, ref.theta, 'theta');
      close(c.cuped.control.mean, ref.control.adjusted_mean, 'adjusted control mean');
      close(c.cuped.treatment.mean, ref.treatment.adjusted_mean, 'adjusted treatment mean');
      close(c.cuped.control.variance, ref.control.adjusted_variance, 'adjusted control variance');
      close(c.cuped.treatment.variance, ref.treatment.adjusted_variance, 'adjusted treatment variance');
      close(c.absolute_lift, ref.absolute_lift, 'adjusted absolute lift');
      close(c.absolute.se, ref.absolute_se, 'adjusted standard error');
      close(c.relative_lift, ref.relative_lift, 'adjusted relative lift');
      close(c.cuped.unadjusted.absolute_lift, ref.unadjusted_absolute_lift, 'unadjusted absolute lift');
      close(c.cuped.unadjusted.absolute.se, ref.unadjusted_absolute_se, 'unadjusted standard error');
      close(c.cuped.variance_reduction, ref.variance_reduction, 'variance reduction');
      // The per-variant summaries stay unadjusted.
      close(m.variants[0].mean, ref.control.mean, 'control mean');
    }
    // rho about 0.8 before the zeros: CUPED removes well over a third of the variance.
    expect(r.body.data.metrics.revenue.comparisons[0].cuped.variance_reduction).toBeGreaterThan(0.4);
    expect(r.body.data.metrics.revenue.cuped_window_days).toBe(14);
    expect(r.body.data.metrics.signup.comparisons[0].cuped.variance_reduction).toBeGreaterThan(0);

    // Turned off per request: the plain figures, and nothing about CUPED.
    const off = await t.request('GET', '/api/v1/experiments/cuped-exp/results?cuped=false', { token: t.adminToken });
    const plain = off.body.data.metrics.revenue;
    expect(plain.cuped).toBe(false);
    expect(plain.comparisons[0].cuped).toBeNull();
    expect(plain.comparisons[0].absolute_lift).toBeCloseTo(reference.revenue.unadjusted_absolute_lift, 9);
  }, 120_000);
});

function arms<U extends { variant: string }>(units: U[], pair: (u: U) => [number, number]) {
  return {
    control: units.filter((u) => u.variant === 'control').map(pair),
    treatment: units.filter((u) => u.variant === 'treatment').map(pair),
  };
}
