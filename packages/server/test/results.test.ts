import { randomUUID } from 'node:crypto';
import { compileConfig, evaluate, type ConfigDocument } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { prng } from '../src/services/infra/prng';
import { assignedVariant, unitsAssigned } from './assignment';

const experiment = (key: string) => ({
  key,
  name: key,
  variants: [
    { key: 'control', weight: 50 },
    { key: 'treatment', weight: 50 },
  ],
  metrics: [
    { key: 'purchase', type: 'conversion' },
    { key: 'revenue', type: 'mean' },
  ],
  primary_metric: 'purchase',
  guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
});

interface Sim {
  units: number;
  rate: Record<string, number>;
  dropTreatmentExposures?: number;
  seed: number;
}

/** Enrolls units the way an SDK does (core evaluation of the served config), then sends exposures and purchases. */
async function simulate(t: TestServer, key: string, sim: Sim): Promise<{ exposed: Record<string, number> }> {
  const doc = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body as ConfigDocument;
  const compiled = compileConfig(doc);
  const rnd = prng(sim.seed);
  const exposed: Record<string, number> = { control: 0, treatment: 0 };
  let batch: unknown[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: batch } });
    expect(r.status).toBe(202);
    batch = [];
  };
  // Exposures count from the experiment's start on.
  const exp = await t.request('GET', `/api/v1/experiments/${key}`, { token: t.adminToken });
  const start = Date.parse(exp.body.data.attributes.started_at as string);
  for (let i = 0; i < sim.units; i++) {
    const unit = `${key}-u${i}`;
    const d = evaluate(compiled, key, { key: unit }, 'control');
    if (d.inExperiment !== true || d.variant === null) continue;
    if (d.variant === 'treatment' && sim.dropTreatmentExposures !== undefined && rnd() < sim.dropTreatmentExposures) continue;
    exposed[d.variant]!++;
    const ts = start + i;
    batch.push({ id: randomUUID(), type: 'exposure', key, experiment: key, variant: d.variant, unit_id: unit, timestamp: ts });
    // A purchase before exposure must not count.
    if (i % 50 === 0) batch.push({ id: randomUUID(), type: 'track', key: 'purchase', unit_id: unit, value: 999, timestamp: ts - 1000 });
    if (rnd() < sim.rate[d.variant]!) {
      batch.push({ id: randomUUID(), type: 'track', key: 'purchase', unit_id: unit, value: 20 + rnd() * 10, timestamp: ts + 1000 });
      batch.push({ id: randomUUID(), type: 'track', key: 'revenue', unit_id: unit, value: 20 + rnd() * 10, timestamp: ts + 1000 });
    }
    if (batch.length >= 900) await flush();
  }
  await flush();
  return { exposed };
}

describe('experiment results', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiRateBurst: 1e9, apiRatePerSecond: 1e9 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('detects a known lift with the right units and no SRM alarm', async () => {
    const key = 'checkout-lift';
    await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: experiment(key) });
    await t.request('POST', `/api/v1/experiments/${key}/start`, { token: t.adminToken });
    const { exposed } = await simulate(t, key, { units: 8000, rate: { control: 0.1, treatment: 0.15 }, seed: 7 });
    // A unit reporting a variant it was not assigned: that exposure is excluded and reported; the unit still counts.
    const first = `${key}-u0`;
    await t.request('POST', '/sdk/v1/events', {
      apiKey: t.serverKey,
      body: {
        events: [
          { id: randomUUID(), type: 'exposure', key, experiment: key, variant: 'control', unit_id: first, timestamp: Date.now() },
          { id: randomUUID(), type: 'exposure', key, experiment: key, variant: 'treatment', unit_id: first, timestamp: Date.now() },
        ],
      },
    });
    const r = await t.request('GET', `/api/v1/experiments/${key}/results`, { token: t.adminToken });
    expect(r.status).toBe(200);
    const data = r.body.data;
    expect(data.excluded_units).toBe(0);
    expect(data.exclusions.assignment_mismatch).toBe(1);
    const units = Object.fromEntries(data.variants.map((v: { key: string; units: number }) => [v.key, v.units]));
    expect(units.control + units.treatment).toBe(exposed.control! + exposed.treatment!);
    expect(data.srm.mismatch).toBe(false);
    const purchase = data.metrics.purchase;
    expect(purchase.role).toBe('primary');
    const cmp = purchase.comparisons[0];
    expect(cmp.variant).toBe('treatment');
    expect(cmp.relative.p_value).toBeLessThan(0.01);
    expect(cmp.relative.ci[0]).toBeGreaterThan(0);
    expect(cmp.relative.ci[0]).toBeLessThan(0.5);
    expect(cmp.relative.ci[1]).toBeGreaterThan(0.5);
    expect(cmp.chance_to_beat_control).toBeGreaterThan(0.99);
    expect(cmp.sequential.ci[0]).toBeLessThanOrEqual(cmp.relative.ci[0]);
    expect(purchase.variants[0].mean).toBeGreaterThan(0.08);
    expect(purchase.variants[0].mean).toBeLessThan(0.12);
    expect(data.metrics.errors.role).toBe('guardrail');
    expect(data.method.sequential.included).toBe(true);
    const csv = await t.request('GET', `/api/v1/experiments/${key}/results?format=csv`, { token: t.adminToken });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect((csv.body as string).split('\n')[0]).toContain('metric,role,variant,units');
    expect(csv.body).toContain('purchase,primary,treatment');
    const svg = await t.request('GET', `/api/v1/experiments/${key}/results?format=svg`, { token: t.adminToken });
    expect(svg.headers.get('content-type')).toContain('image/svg+xml');
    expect(svg.body).toContain('<svg');
    expect(svg.body).toContain('purchase · treatment');
  });

  it('raises a sample ratio mismatch when exposures of one arm go missing', async () => {
    const key = 'checkout-srm';
    await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: experiment(key) });
    await t.request('POST', `/api/v1/experiments/${key}/start`, { token: t.adminToken });
    await simulate(t, key, { units: 6000, rate: { control: 0.1, treatment: 0.1 }, dropTreatmentExposures: 0.15, seed: 11 });
    const r = await t.request('GET', `/api/v1/experiments/${key}/results`, { token: t.adminToken });
    expect(r.body.data.srm.mismatch).toBe(true);
    expect(r.body.data.srm.p_value).toBeLessThan(0.001);
  });

  it('lets every role read results, and sees new events at once', async () => {
    const viewer = await t.user('VIEWER');
    const key = 'checkout-lift';
    // A unit the experiment assigns to control: an honest SDK's exposure.
    const lateUnit = unitsAssigned(key, 'control', 1, 'late-unit')[0]!;
    const before = await t.request('GET', `/api/v1/experiments/${key}/results`, { token: viewer.token });
    expect(before.status).toBe(200);
    await t.request('POST', '/sdk/v1/events', {
      apiKey: t.serverKey,
      body: {
        events: [
          { id: randomUUID(), type: 'exposure', key, experiment: key, variant: 'control', unit_id: lateUnit, timestamp: Date.now() },
        ],
      },
    });
    const after = await t.request('GET', `/api/v1/experiments/${key}/results`, { token: viewer.token });
    expect(after.body.data.variants[0].units).toBe(before.body.data.variants[0].units + 1);
    expect(assignedVariant(key, lateUnit)).toBe('control');
    expect((await t.request('GET', '/api/v1/experiments/nope/results', { token: viewer.token })).status).toBe(404);
  });

  it('makes the first metric the primary one when the experiment names none', async () => {
    const key = 'no-primary';
    const { primary_metric: _named, ...body } = experiment(key);
    expect((await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body })).status).toBe(201);
    await t.request('POST', `/api/v1/experiments/${key}/start`, { token: t.adminToken });
    const metrics = (await t.request('GET', `/api/v1/experiments/${key}/results`, { token: t.adminToken })).body.data.metrics;
    expect([metrics.purchase.role, metrics.revenue.role, metrics.errors.role]).toEqual(['primary', 'secondary', 'guardrail']);
    const csv = await t.request('GET', `/api/v1/experiments/${key}/results?format=csv`, { token: t.adminToken });
    expect(csv.body).toContain('purchase,primary,control');
  });
});
