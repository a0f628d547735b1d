import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from './helpers';
import { startTestServerOn } from './store-server';
import { expectError } from './support';
import { unitsAssigned } from './assignment';

/** Per arm: units exposed, and how many of them have one `errors` event (or `value` for each). */
type Arms = Record<string, { units: number; withEvent: number; value?: number }>;

describe.each(['sqlite', 'postgres'] as const)('safety monitor: %s', (kind) => {
  let t: TestServer;
  const logs: { level: number; msg: string; experiment?: string }[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line));
        done();
      },
    });
    const logger = pino({ level: 'warn' }, sink);
    const base = { apiRateBurst: 1e9, apiRatePerSecond: 1e9, logger, webhookAllowPrivate: true };
    t = await startTestServerOn(kind, base);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  const status = async (key: string) =>
    (await t.request('GET', `/api/v1/experiments/${key}`, { token: t.adminToken })).body.data.attributes.status as string;
  const audit = async (key: string, action: string) =>
    (await t.request('GET', `/api/v1/audit-log?resource_id=${key}&action=${action}`, { token: t.adminToken })).body.data as {
      attributes: { actor: { type: string }; after: any };
    }[];

  async function running(key: string, extra: Record<string, unknown>): Promise<void> {
    const body = {
      key,
      variants: [
        { key: 'control', weight: 50 },
        { key: 'treatment', weight: 50 },
      ],
      metrics: [{ key: 'purchase', type: 'conversion' }],
      guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
      ...extra,
    };
    const created = await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await t.request('POST', `/api/v1/experiments/${key}/start`, { token: t.adminToken })).status).toBe(200);
  }

  async function feed(key: string, arms: Arms, metric = 'errors'): Promise<void> {
    let events: unknown[] = [];
    const ts = Date.now();
    const flush = async () => {
      const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      events = [];
    };
    for (const [variant, a] of Object.entries(arms)) {
      // Units the experiment assigns to this arm, as an SDK would report them.
      const units = unitsAssigned(key, variant, a.units, `${key}-${variant}`);
      for (let i = 0; i < a.units; i++) {
        const unit = units[i]!;
        events.push({ id: randomUUID(), type: 'exposure', key, experiment: key, variant, unit_id: unit, timestamp: ts });
        if (i < a.withEvent) {
          events.push({ id: randomUUID(), type: 'track', key: metric, unit_id: unit, value: a.value ?? 1, timestamp: ts + 1 });
        }
        if (events.length >= 900) await flush();
      }
    }
    if (events.length > 0) await flush();
  }

  it('pauses when only the treatment emits the error (control at zero), and not on a handful', async () => {
    await running('zero-control', {});
    await running('zero-few', {});
    await feed('zero-control', { control: { units: 1500, withEvent: 0 }, treatment: { units: 1500, withEvent: 40 } });
    await feed('zero-few', { control: { units: 1500, withEvent: 0 }, treatment: { units: 1500, withEvent: 3 } });
    const breaches = await t.server.jobs.safety.check();
    expect(breaches.map((b) => [b.experiment, b.rule, b.guardrail, b.variant])).toEqual([
      ['zero-control', 'rate_increase', 'errors', 'treatment'],
    ]);
    expect(breaches[0]!.control_mean).toBe(0);
    expect(breaches[0]!.e_value).toBeGreaterThanOrEqual(40);
    expect(await status('zero-control')).toBe('PAUSED');
    expect(await status('zero-few')).toBe('RUNNING');
    const [record] = await audit('zero-control', 'experiment.auto_pause');
    expect(record!.attributes.actor.type).toBe('system');
    expect(record!.attributes.after.pause_reason).toMatchObject({ by: 'safety-monitor', rule: 'rate_increase', guardrail: 'errors' });
  });

  it('pauses on an absolute ceiling (max_value) even when control and treatment agree', async () => {
    await running('ceiling', {
      metrics: [{ key: 'timeouts', type: 'conversion' }],
      guardrails: [{ metric: 'timeouts', max_value: 0.01 }],
    });
    await feed('ceiling', { control: { units: 1000, withEvent: 80 }, treatment: { units: 1000, withEvent: 80 } }, 'timeouts');
    const breaches = await t.server.jobs.safety.check();
    expect(breaches.map((b) => [b.experiment, b.rule, b.threshold])).toEqual([['ceiling', 'max_value', 0.01]]);
    expect(await status('ceiling')).toBe('PAUSED');
  });

  it('pauses on a sample ratio mismatch seen on two passes in a row', async () => {
    await running('srm-pause', {});
    await feed('srm-pause', { control: { units: 1300, withEvent: 0 }, treatment: { units: 1000, withEvent: 0 } });
    expect(await t.server.jobs.safety.check()).toEqual([]);
    expect(await status('srm-pause')).toBe('RUNNING');
    const breaches = await t.server.jobs.safety.check();
    expect(breaches.map((b) => [b.experiment, b.rule])).toEqual([['srm-pause', 'srm']]);
    expect(breaches[0]!.srm_p_value).toBeLessThan(0.001);
    expect(breaches[0]!.units).toEqual({ control: 1300, treatment: 1000 });
    expect(await status('srm-pause')).toBe('PAUSED');
    const [record] = await audit('srm-pause', 'experiment.auto_pause');
    expect(record!.attributes.after.pause_reason).toMatchObject({ by: 'safety-monitor', rule: 'srm' });
  });

  it('with srm_action "warn" keeps running and audits the sustained mismatch once', async () => {
    await running('srm-warn', { srm_action: 'warn' });
    await feed('srm-warn', { control: { units: 1300, withEvent: 0 }, treatment: { units: 1000, withEvent: 0 } });
    for (let pass = 0; pass < 3; pass++) expect(await t.server.jobs.safety.check()).toEqual([]);
    expect(await status('srm-warn')).toBe('RUNNING');
    const records = await audit('srm-warn', 'experiment.srm_warning');
    expect(records).toHaveLength(1);
    expect(records[0]!.attributes.after).toMatchObject({ rule: 'srm', passes_in_a_row: 2 });
    expect(logs.some((l) => l.experiment === 'srm-warn' && /sample ratio mismatch/.test(l.msg))).toBe(true);
    // Tidy: later tests check every running experiment.
    await t.request('POST', '/api/v1/experiments/srm-warn/complete', { token: t.adminToken });
  });

  it('fails loudly when the statistics cannot be computed: a log line, a counter, one audit record, one webhook event', async () => {
    const hook = await t.request('POST', '/api/v1/webhooks', {
      token: t.adminToken,
      body: { url: 'http://127.0.0.1:9/on-call', events: ['experiment.safety_check_failed'] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    await running('broken', {});
    await feed('broken', { control: { units: 100, withEvent: 5 }, treatment: { units: 100, withEvent: 5 } });
    const failures = async () => {
      const text = (await t.request('GET', '/metrics')).body as string;
      const line = text.split('\n').find((l) => l.startsWith('switchyard_safety_check_failures_total{check="guardrail"}'));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const before = await failures();
    // Sums a real server cannot produce (event values are bounded): the only way to reach this path.
    const store = t.server.ctx.store;
    const original = store.experimentAggregates.bind(store);
    store.experimentAggregates = async (environment, experiment, metrics) => {
      const agg = await original(environment, experiment, metrics);
      if (experiment === 'broken') agg.metrics.errors!.treatment!.sumSquares = Number.POSITIVE_INFINITY;
      return agg;
    };
    try {
      for (let pass = 0; pass < 2; pass++) expect(await t.server.jobs.safety.check()).toEqual([]);
    } finally {
      store.experimentAggregates = original;
    }
    expect(await failures()).toBe(before + 2);
    const records = await audit('broken', 'experiment.safety_check_failed');
    expect(records).toHaveLength(1);
    expect(records[0]!.attributes.after.failures).toEqual([
      { check: 'guardrail', metric: 'errors', variant: 'treatment', reason: expect.stringMatching(/non-finite/) },
    ]);
    expect(logs.filter((l) => l.experiment === 'broken' && /safety check could not run/.test(l.msg))).toHaveLength(2);
    expect(await status('broken')).toBe('RUNNING');
    // Queued for whoever is on call (the receiver here is down: it stays queued for retries).
    const deliveries = (await t.request('GET', `/api/v1/webhooks/${hook.body.data.id}/deliveries`, { token: t.adminToken })).body.data;
    expect(deliveries.map((d: { attributes: { event_type: string } }) => d.attributes.event_type)).toEqual([
      'experiment.safety_check_failed',
    ]);
    // Nothing more to send: later passes of the other tests must not keep failing on it.
    await t.request('DELETE', `/api/v1/webhooks/${hook.body.data.id}`, { token: t.adminToken });
  });

  it('with on_safety_check_failure: pause, an experiment whose checks cannot run is paused, audited as an auto-pause', async () => {
    await running('unprotected', { on_safety_check_failure: 'pause' });
    await feed('unprotected', { control: { units: 100, withEvent: 5 }, treatment: { units: 100, withEvent: 5 } });
    const store = t.server.ctx.store;
    const original = store.experimentAggregates.bind(store);
    store.experimentAggregates = async (environment, experiment, metrics) => {
      const agg = await original(environment, experiment, metrics);
      if (experiment === 'unprotected') agg.metrics.errors!.treatment!.sumSquares = Number.POSITIVE_INFINITY;
      return agg;
    };
    try {
      expect(await t.server.jobs.safety.check()).toEqual([]);
    } finally {
      store.experimentAggregates = original;
    }
    expect(await status('unprotected')).toBe('PAUSED');
    expect(await audit('unprotected', 'experiment.safety_check_failed')).toHaveLength(1);
    const paused = await audit('unprotected', 'experiment.auto_pause');
    expect(paused).toHaveLength(1);
    expect(paused[0]!.attributes.after.pause_reason).toMatchObject({
      by: 'safety-monitor',
      rule: 'safety_check_failed',
      failures: [{ check: 'guardrail', metric: 'errors', variant: 'treatment' }],
    });
    expectError(
      await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: { key: 'bad-failure-action', variants: [{ key: 'a', weight: 100 }], on_safety_check_failure: 'ignore' },
      }),
      'VALIDATION_ERROR',
    );
  });

  it('refuses a guardrail with no threshold and an unknown srm_action', async () => {
    const bad = (extra: Record<string, unknown>) =>
      t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: {
          key: `bad-${randomUUID().slice(0, 8)}`,
          variants: [
            { key: 'a', weight: 50 },
            { key: 'b', weight: 50 },
          ],
          ...extra,
        },
      });
    const e = expectError(await bad({ guardrails: [{ metric: 'errors' }] }), 'VALIDATION_ERROR');
    expect(JSON.stringify(e.details)).toContain('max_relative_increase, max_value or both');
    expectError(await bad({ srm_action: 'explode' }), 'VALIDATION_ERROR');
    expect((await bad({ guardrails: [{ metric: 'errors', max_value: 0.5 }], srm_action: 'warn' })).status).toBe(201);
  });
});
