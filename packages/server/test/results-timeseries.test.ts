import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from './helpers';
import { startTestServerOn } from './store-server';

const DAY = 86_400_000;
// Day 0 starts at midnight UTC five days ago: every event lies in the past of the real clock.
const DAY0 = Math.floor(Date.now() / DAY) * DAY - 5 * DAY;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe.each(['sqlite', 'postgres'] as const)('daily cumulative results: %s', (kind) => {
  let t: TestServer;
  let now = DAY0 + 3_600_000;
  const send = async (events: Record<string, unknown>[]) => {
    const r = await t.request('POST', '/sdk/v1/events', {
      apiKey: t.serverKey,
      body: { events: events.map((e) => ({ id: randomUUID(), ...e })) },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
  };
  const expose = (unit: string, variant: string, ts: number) => ({
    type: 'exposure',
    key: 'ts-exp',
    experiment: 'ts-exp',
    variant,
    unit_id: unit,
    timestamp: ts,
  });
  const track = (unit: string, key: string, value: number | null, ts: number) => ({
    type: 'track',
    key,
    unit_id: unit,
    timestamp: ts,
    ...(value === null ? {} : { value }),
  });

  beforeAll(async () => {
    const base = { apiRateBurst: 1e9, apiRatePerSecond: 1e9, now: () => now };
    t = await startTestServerOn(kind, base);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('gives units, conversion, mean and lift per variant at the end of each day, with the results rules', async () => {
    const created = await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: {
        key: 'ts-exp',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ],
        metrics: [
          { key: 'purchase', type: 'conversion' },
          { key: 'revenue', type: 'mean' },
        ],
        primary_metric: 'purchase',
      },
    });
    expect(created.status).toBe(201);
    expect((await t.request('POST', '/api/v1/experiments/ts-exp/start', { token: t.adminToken })).status).toBe(200);

    // Before the run started: counted nowhere.
    const events: Record<string, unknown>[] = [expose('early', 'control', DAY0 + 1000), track('early', 'purchase', null, DAY0 + 2000)];
    // New converters per day: control 1, 3, 2; treatment 4, 2, 4. Ten new units per variant per day.
    const converters: Record<string, number[]> = { control: [1, 3, 2], treatment: [4, 2, 4] };
    for (let day = 0; day < 3; day++) {
      for (const variant of ['control', 'treatment']) {
        for (let i = 0; i < 10; i++) {
          const unit = `${variant}-${day}-${i}`;
          const at = DAY0 + day * DAY + 2 * 3_600_000 + i * 60_000;
          events.push(expose(unit, variant, at));
          // A purchase before the exposure never counts.
          if (i === 9) events.push(track(unit, 'purchase', null, at - 1000));
          if (i < converters[variant]![day]!) {
            events.push(track(unit, 'purchase', null, at + 1000));
            events.push(track(unit, 'revenue', 10, at + 1000));
          }
        }
      }
    }
    // Seen in both variants: left out.
    events.push(expose('both', 'control', DAY0 + 3 * 3_600_000), expose('both', 'treatment', DAY0 + 3 * 3_600_000 + 1));
    await send(events);
    now = DAY0 + 2 * DAY + 20 * 3_600_000;

    const r = await t.request('GET', '/api/v1/experiments/ts-exp/results/timeseries', { token: t.adminToken });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const d = r.body.data;
    expect(d.days).toEqual([iso(DAY0), iso(DAY0 + DAY), iso(DAY0 + 2 * DAY)]);
    const [control, treatment] = d.variants;
    expect(control.key).toBe('control');
    expect(control.units).toEqual([10, 20, 30]);
    expect(treatment.units).toEqual([10, 20, 30]);
    expect(control.metrics.purchase.value).toEqual([0.1, 0.2, 0.2]);
    expect(treatment.metrics.purchase.value).toEqual([0.4, 0.3, 1 / 3]);
    expect(control.metrics.revenue.value).toEqual([1, 2, 2]);
    expect(treatment.metrics.revenue.value).toEqual([4, 3, 10 / 3]);
    expect(control.metrics.purchase.relative_lift).toEqual([0, 0, 0]);
    const lift = treatment.metrics.purchase.relative_lift as number[];
    [3, 0.5, 2 / 3].forEach((want, i) => expect(lift[i]).toBeCloseTo(want, 10));
  });

  it('is a 404 for an unknown experiment and empty before any exposure', async () => {
    const missing = await t.request('GET', '/api/v1/experiments/nope/results/timeseries', { token: t.adminToken });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('RESOURCE_NOT_FOUND');
    await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: {
        key: 'quiet-exp',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50 },
        ],
        metrics: [{ key: 'purchase', type: 'conversion' }],
      },
    });
    const quiet = (await t.request('GET', '/api/v1/experiments/quiet-exp/results/timeseries', { token: t.adminToken })).body.data;
    expect(quiet.days).toEqual([]);
    expect(quiet.variants.map((v: { units: number[] }) => v.units)).toEqual([[], []]);
  });
});
