import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { assignedVariant } from './assignment';

// The High findings, reproduced against a real server: a client key must not be able to
// freeze the server with a regex, nor poison an experiment with one event.

// 3,000 characters each, built to make a backtracking engine try every split of the run.
const DIGITS = '1.1.1' + '1'.repeat(2994) + 'z';
const SPACES = ' '.repeat(2999) + 'z';
const ATTACK = { ua: DIGITS, ws: SPACES };

describe('regex DoS from a client key', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiRateBurst: 1e9, apiRatePerSecond: 1e9 });
    const flag = {
      key: 'redos',
      type: 'boolean',
      enabled: true,
      rules: [
        { id: 'spaces', when: { attr: 'ws', op: 'matches', values: ['\\s*\\s*\\s*\\s*x$'] }, serve: { variant: 'on' } },
        { id: 'version', when: { attr: 'ua', op: 'matches', values: ['^\\d+\\.\\d+\\.\\d+.*\\d+$'] }, serve: { variant: 'on' } },
      ],
      default_serve: { variant: 'off' },
    };
    const r = await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: flag });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }, 60_000);
  afterAll(async () => t?.stop());

  /** Starts `n` attack requests, then asks /health while they are in flight; returns their replies. */
  async function underAttack(n: number, send: () => Promise<{ status: number; body: any }>) {
    const inFlight = Array.from({ length: n }, send);
    const health = await t.request('GET', '/health');
    expect(health.status).toBe(200);
    return Promise.all(inFlight);
  }

  it('/sdk/v1/evaluate with a 3,000-character attribute: answered, and /health meanwhile', async () => {
    const replies = await underAttack(20, () =>
      t.request('POST', '/sdk/v1/evaluate', { apiKey: t.clientKey, body: { context: { key: 'u', ...ATTACK } } }),
    );
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.body.data.flags?.redos ?? r.body.data.redos).toMatchObject({ variant: 'off', reason: 'DEFAULT' });
    }
    const hit = await t.request('POST', '/sdk/v1/evaluate', {
      apiKey: t.clientKey,
      body: { context: { key: 'u', ws: ' '.repeat(2999) + 'x' } },
    });
    expect(hit.body.data.flags?.redos ?? hit.body.data.redos).toMatchObject({ variant: 'on', rule_id: 'spaces' });
  });

  it('server-side evaluate (GET /api/v1/feature-flags/{key}/evaluate)', async () => {
    const replies = await underAttack(20, () =>
      t.request('GET', `/api/v1/feature-flags/redos/evaluate?user_id=u&ua=${DIGITS}&ws=${encodeURIComponent(SPACES)}`, {
        apiKey: t.clientKey,
      }),
    );
    for (const r of replies) expect(r.body.data, JSON.stringify(r.body)).toMatchObject({ key: 'redos', variant: 'off' });
  });

  it('OFREP (POST /ofrep/v1/evaluate/flags/{key})', async () => {
    const replies = await underAttack(20, () =>
      t.request('POST', '/ofrep/v1/evaluate/flags/redos', { apiKey: t.clientKey, body: { context: { targetingKey: 'u', ...ATTACK } } }),
    );
    for (const r of replies) expect(r.body, JSON.stringify(r.body)).toMatchObject({ key: 'redos', variant: 'off' });
  });

  it('a pattern RE2 refuses is a 400 at save, with the reason', async () => {
    const r = await t.request('POST', '/api/v1/feature-flags', {
      token: t.adminToken,
      body: {
        key: 'backref',
        type: 'boolean',
        rules: [{ id: 'r', when: { attr: 'a', op: 'matches', values: ['(a)\\1'] }, serve: { variant: 'on' } }],
        default_serve: { variant: 'off' },
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_ERROR');
    expect(JSON.stringify(r.body.error.details)).toMatch(/backreferences/);
  });
});

describe('event bounds: one event cannot poison an experiment', () => {
  let t: TestServer;
  const key = 'poison-exp';
  beforeAll(async () => {
    t = await startTestServer({ apiRateBurst: 1e9, apiRatePerSecond: 1e9 });
    const body = {
      key,
      variants: [
        { key: 'control', weight: 50 },
        { key: 'treatment', weight: 50 },
      ],
      metrics: [{ key: 'revenue', type: 'mean' }],
      guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
    };
    expect((await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body })).status).toBe(201);
    expect((await t.request('POST', `/api/v1/experiments/${key}/start`, { token: t.adminToken })).status).toBe(200);
    const events: unknown[] = [];
    const ts = Date.now();
    for (let i = 0; i < 200; i++) {
      const variant = assignedVariant(key, `u${i}`);
      events.push({ id: randomUUID(), type: 'exposure', key, experiment: key, variant, unit_id: `u${i}`, timestamp: ts });
      events.push({ id: randomUUID(), type: 'track', key: 'revenue', unit_id: `u${i}`, value: 10 + (i % 7), timestamp: ts + 1 });
    }
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events } })).status).toBe(202);
  }, 60_000);
  afterAll(async () => t?.stop());

  const track = (extra: Record<string, unknown>) => ({
    id: randomUUID(),
    type: 'track',
    key: 'revenue',
    unit_id: 'u1',
    value: 12,
    timestamp: Date.now() + 2,
    ...extra,
  });

  it('a value of 1e160 is a 400 naming the event, and nothing of its batch is stored', async () => {
    const good = track({});
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events: [good, track({ value: 1e160 })] } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_ERROR');
    expect(r.body.error.details).toEqual([
      expect.objectContaining({
        index: 1,
        path: 'events.1',
        message: expect.stringMatching(/value must be between -1000000000 and 1000000000/),
      }),
    ]);
    // The valid event was not stored: resending it alone is new, not a duplicate.
    const again = await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events: [good] } });
    expect(again.body.data).toEqual({ accepted: 1, duplicates: 0 });
  });

  it.each([
    ['-1e10', -1e10],
    ['the bound plus one', 1e9 + 1],
  ])('a value of %s is refused too; exactly the bound is accepted', async (_label, value) => {
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events: [track({ value })] } })).status).toBe(400);
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events: [track({ value: -1e9 })] } })).status).toBe(
      202,
    );
  });

  it.each([
    ['epoch ms past year 9999', 253402300800000],
    ['epoch ms beyond the Date range', 8.7e15],
    ['not a date', '2026-13-45T00:00:00Z'],
    ['year 9999 ending in year 10000 UTC', '9999-12-31T23:00:00-05:00'],
  ])('timestamp: %s is a 400', async (_label, timestamp) => {
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events: [track({ timestamp })] } });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.details[0].message).toMatch(/timestamp/);
  });

  it('results and a safety pass still work for the experiment', async () => {
    const results = await t.request('GET', `/api/v1/experiments/${key}/results`, { token: t.adminToken });
    expect(results.status).toBe(200);
    expect(results.body.data.metrics.revenue).toMatchObject({ computable: true });
    expect(Number.isFinite(results.body.data.metrics.revenue.variants[0].mean)).toBe(true);
    await expect(t.server.jobs.safety.check()).resolves.toEqual([]);
  });

  it('a non-finite sum already in the store (older data) makes the metric not computable, not a 500', async () => {
    // Written straight to the store, as a server without the bound would have accepted it.
    await t.server.ctx.events.write([
      {
        id: randomUUID(),
        type: 'track',
        environment: 'production',
        key: 'revenue',
        unitId: 'u3',
        experiment: null,
        variant: null,
        value: 1e160,
        properties: null,
        timestamp: Date.now() + 3,
        receivedAt: Date.now(),
      },
    ] as never);
    const results = await t.request('GET', `/api/v1/experiments/${key}/results?fresh=1`, { token: t.adminToken });
    expect(results.status, JSON.stringify(results.body)).toBe(200);
    expect(results.body.data.metrics.revenue).toMatchObject({ computable: false, reason: expect.stringMatching(/not finite/) });
  });
});
