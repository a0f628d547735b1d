import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { SseClient } from './sse-client';
import { assignedVariant } from './assignment';

const experiment = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  variants: [
    { key: 'control', weight: 50 },
    { key: 'treatment', weight: 50 },
  ],
  metrics: [{ key: 'purchase', type: 'conversion' }],
  guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
  ...extra,
});
const statusOf = async (t: TestServer, key: string) =>
  (await t.request('GET', `/api/v1/experiments/${key}`, { token: t.adminToken })).body.data.attributes.status as string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met in ${timeoutMs} ms`);
    await sleep(20);
  }
  return Date.now() - start;
}

describe('scheduler', () => {
  it('starts and completes experiments on time, audited as the system', async () => {
    const t = await startTestServer();
    try {
      const startAt = Date.now() + 700;
      const endAt = startAt + 800;
      const created = await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: experiment('timed', { schedule: { start_at: new Date(startAt).toISOString(), end_at: new Date(endAt).toISOString() } }),
      });
      expect(created.body.data.attributes.status).toBe('DRAFT');
      // The timers fire on their own (no tick() here). How late under load is not asserted: the
      // injected-clock test below pins each transition to its scheduled instant.
      await waitFor(async () => (await statusOf(t, 'timed')) === 'COMPLETED', 15_000);
      const audit = await t.request('GET', '/api/v1/audit-log?resource_id=timed', { token: t.adminToken });
      const records = audit.body.data.map((a: { attributes: { action: string; actor: { type: string }; at: string } }) => [
        a.attributes.action,
        a.attributes.actor.type,
        Date.parse(a.attributes.at),
      ]);
      expect(records.slice(0, 2).map((r: unknown[]) => r.slice(0, 2))).toEqual([
        ['experiment.scheduled_complete', 'system'],
        ['experiment.scheduled_start', 'system'],
      ]);
      // Never early.
      expect(records[1][2]).toBeGreaterThanOrEqual(startAt);
      expect(records[0][2]).toBeGreaterThanOrEqual(endAt);
    } finally {
      await t.stop();
    }
  });

  it('runs on an injected clock', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const t = await startTestServer({ now: () => now });
    try {
      await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: experiment('clocked', { schedule: { start_at: '2030-01-02T00:00:00Z', end_at: '2030-01-09T00:00:00Z' } }),
      });
      await t.server.jobs.scheduler.tick();
      expect(await statusOf(t, 'clocked')).toBe('DRAFT');
      now = Date.parse('2030-01-02T00:00:00Z');
      await t.server.jobs.scheduler.tick();
      expect(await statusOf(t, 'clocked')).toBe('RUNNING');
      now = Date.parse('2030-01-08T23:59:59Z');
      await t.server.jobs.scheduler.tick();
      expect(await statusOf(t, 'clocked')).toBe('RUNNING');
      now = Date.parse('2030-01-09T00:00:00Z');
      await t.server.jobs.scheduler.tick();
      expect(await statusOf(t, 'clocked')).toBe('COMPLETED');
    } finally {
      await t.stop();
    }
  });

  it('survives a restart: what came due while it was down runs at start', async () => {
    const first = await startTestServer();
    const { dbPath, dir } = first;
    await first.request('POST', '/api/v1/experiments', {
      token: first.adminToken,
      body: experiment('after-restart', { schedule: { start_at: new Date(Date.now() + 400).toISOString() } }),
    });
    await first.server.close();
    // Restarted on a clock past the start time: the start came due while no server ran.
    const second = await startTestServer({ dbPath, dir, now: () => Date.now() + 60_000 });
    try {
      await waitFor(async () => (await statusOf(second, 'after-restart')) === 'RUNNING', 10_000);
    } finally {
      await second.stop();
    }
  });
});

describe('safety monitor', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiRateBurst: 1e9, apiRatePerSecond: 1e9 });
  });
  afterAll(async () => {
    await t.stop();
  });

  async function feed(key: string, units: number, errorRate: Record<string, number>) {
    let events: unknown[] = [];
    // Exposures count from the start on: the experiments were started just before.
    const ts = Date.now();
    for (let i = 0; i < units; i++) {
      const unit = `${key}-${i}`;
      const variant = assignedVariant(key, unit);
      events.push({ id: randomUUID(), type: 'exposure', key, experiment: key, variant, unit_id: unit, timestamp: ts });
      // Deterministic error counts: a fixed share of units per arm see one error.
      if ((i * 7919) % 1000 < errorRate[variant]! * 1000)
        events.push({ id: randomUUID(), type: 'track', key: 'errors', unit_id: unit, value: 1, timestamp: ts + 1 });
      if (events.length >= 900) {
        expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } })).status).toBe(202);
        events = [];
      }
    }
    if (events.length > 0) await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
  }

  it('pauses an experiment whose treatment breaches a guardrail, audited and pushed to SDKs', async () => {
    for (const key of ['harmful', 'harmless']) {
      await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: experiment(key) });
      await t.request('POST', `/api/v1/experiments/${key}/start`, { token: t.adminToken });
    }
    await feed('harmful', 6000, { control: 0.05, treatment: 0.12 });
    await feed('harmless', 6000, { control: 0.05, treatment: 0.05 });
    const sse = await new SseClient(`${t.url}/sdk/v1/stream`, { 'x-api-key': t.serverKey }).open();
    try {
      await sse.until(() => sse.events.length >= 1);
      const breaches = await t.server.jobs.safety.check();
      expect(breaches.map((b) => [b.experiment, b.guardrail, b.variant])).toEqual([['harmful', 'errors', 'treatment']]);
      expect(breaches[0]!.rule).toBe('relative_increase');
      expect(breaches[0]!.sequential_ci![0]).toBeGreaterThan(0.1);
      expect(await statusOf(t, 'harmful')).toBe('PAUSED');
      expect(await statusOf(t, 'harmless')).toBe('RUNNING');
      await sse.until(() => sse.events.some((e) => e.event === 'patch' && e.data.experiments?.harmful?.status === 'PAUSED'));
      const audit = await t.request('GET', '/api/v1/audit-log?resource_id=harmful&action=experiment.auto_pause', { token: t.adminToken });
      expect(audit.body.data).toHaveLength(1);
      const record = audit.body.data[0].attributes;
      expect(record.actor.type).toBe('system');
      expect(record.after.pause_reason).toMatchObject({ by: 'safety-monitor', guardrail: 'errors', variant: 'treatment', threshold: 0.1 });
      expect(await t.server.jobs.safety.check()).toEqual([]);
    } finally {
      sse.close();
    }
  });
});
