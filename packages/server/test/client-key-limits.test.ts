import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/auth/actor';
import { admitEvents, createEventAdmission } from '../src/services/events/event-admission';
import type { StoredEvent } from '../src/store/types';
import { assignedVariant } from './assignment';
import { startTestServer, type TestServer } from './helpers';
import { startRedis, type TestRedis } from './services';
import { createKey, expectError } from './support';

/**
 * What a public client key may put into results: only the metric keys it is allowed, and only
 * so many new units a minute — so 2,000 fabricated units in one burst cannot reach an
 * experiment's results.
 */

type Ev = Record<string, unknown>;
const exposure = (key: string, unit: string, variant: string, timestamp: number): Ev => ({
  id: randomUUID(),
  type: 'exposure',
  key,
  experiment: key,
  variant,
  unit_id: unit,
  timestamp,
});
const track = (key: string, unit: string, timestamp: number, value = 1): Ev => ({
  id: randomUUID(),
  type: 'track',
  key,
  unit_id: unit,
  value,
  timestamp,
});

describe('client keys: metric allowlist and new units per minute', () => {
  let t: TestServer;
  /** The server's clock when set (else the real one): a burst at one instant, then a minute on without waiting for one. */
  let clock: number | null = null;
  const admin = () => ({ token: t.adminToken });

  beforeAll(async () => {
    t = await startTestServer({ apiRateBurst: 1e9, apiRatePerSecond: 1e9, now: () => clock ?? Date.now() });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const results = async (exp: string) => {
    const r = await t.request('GET', `/api/v1/experiments/${exp}/results`, admin());
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data;
  };
  const startExperiment = async (key: string): Promise<number> => {
    const created = await t.request('POST', '/api/v1/experiments', {
      ...admin(),
      body: {
        key,
        variants: [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ],
        metrics: [{ key: 'purchase', type: 'conversion' }],
        guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await t.request('POST', `/api/v1/experiments/${key}/start`, admin());
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    return Date.parse(started.body.data.attributes.started_at as string);
  };

  it('a client key with allowed_metrics has its other track events refused per index; the rest of the batch is stored', async () => {
    const key = await createKey(t, admin(), { name: 'checkout page', kind: 'client', allowed_metrics: ['purchase', 'add-to-cart'] });
    expect(key.attributes.allowed_metrics).toEqual(['purchase', 'add-to-cart']);
    const read = await t.request('GET', `/api/v1/api-keys/${key.id}`, admin());
    expect(read.body.data.attributes.allowed_metrics).toEqual(['purchase', 'add-to-cart']);
    const started = await startExperiment('allowlist');
    const now = started + 1000;
    const unit = 'shopper-1';
    const before = await t.server.ctx.store.countEvents();
    const r = await t.request('POST', '/sdk/v1/events', {
      apiKey: key.key,
      body: {
        events: [
          exposure('allowlist', unit, assignedVariant('allowlist', unit), now),
          track('purchase', unit, now + 1),
          track('errors', unit, now + 2),
          track('add-to-cart', unit, now + 3),
          track('revenue', unit, now + 4, 100),
        ],
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    expect(r.body.data.accepted).toBe(3);
    expect(r.body.data.rejected).toEqual([
      expect.objectContaining({ index: 2, path: 'events.2.key', code: 'PERMISSION_DENIED' }),
      expect.objectContaining({ index: 4, path: 'events.4.key', code: 'PERMISSION_DENIED' }),
    ]);
    expect(r.body.data.rejected[0].message).toContain("'errors'");
    expect(await t.server.ctx.store.countEvents()).toBe(before + 3);
    // The same metric from a key without an allowlist is stored.
    const open = await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events: [track('errors', unit, now + 5)] } });
    expect(open.status).toBe(202);
    expect(open.body.data).toEqual({ accepted: 1, duplicates: 0 });
  });

  it('allowed_metrics is for client keys only, and must name valid metric keys', async () => {
    const server = await t.request('POST', '/api/v1/api-keys', {
      ...admin(),
      body: { name: 'backend', kind: 'server', allowed_metrics: ['purchase'] },
    });
    expect(expectError(server, 'VALIDATION_ERROR').details).toEqual([expect.objectContaining({ path: 'allowed_metrics' })]);
    const empty = await t.request('POST', '/api/v1/api-keys', { ...admin(), body: { name: 'page', kind: 'client', allowed_metrics: [] } });
    expectError(empty, 'VALIDATION_ERROR');
    const bad = await t.request('POST', '/api/v1/api-keys', {
      ...admin(),
      body: { name: 'page', kind: 'client', allowed_metrics: ['no spaces'] },
    });
    expectError(bad, 'VALIDATION_ERROR');
  });

  it('2,000 fabricated units from one client key in one burst: only the first 1,000 (the default budget) reach the results', async () => {
    const key = await createKey(t, admin(), { name: 'public page', kind: 'client' });
    const started = await startExperiment('burst');
    // The whole burst at one instant a minute after the start: the budget does not refill meanwhile.
    clock = started + 60_000;
    // Fabricated units that report exactly what the server would assign them (the forged-variant
    // check cannot catch these), each treatment unit with an error: enough to breach the guardrail.
    const events: Ev[] = [];
    for (let i = 0; i < 2000; i++) {
      const unit = `fake-${i}`;
      const variant = assignedVariant('burst', unit);
      events.push(exposure('burst', unit, variant, started + 1000 + i));
      if (variant === 'treatment') events.push(track('errors', unit, started + 5000 + i));
    }
    let accepted = 0;
    const refusedUnits = new Set<string>();
    for (let i = 0; i < events.length; i += 1000) {
      const batch = events.slice(i, i + 1000);
      const r = await t.request('POST', '/sdk/v1/events', { apiKey: key.key, body: { events: batch } });
      expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(202);
      accepted += r.body.data.accepted as number;
      for (const x of r.body.data.rejected ?? []) {
        expect(x).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', path: `events.${x.index}.unit_id` });
        expect(x.retry_after_seconds).toBeGreaterThan(0);
        refusedUnits.add(batch[x.index]!.unit_id as string);
      }
    }
    expect(refusedUnits.size).toBe(1000);
    const data = await results('burst');
    const units = data.variants.reduce((n: number, v: { units: number }) => n + v.units, 0);
    expect(units).toBe(1000);
    expect(accepted).toBeLessThan(events.length);
    // The guardrail sees at most the admitted half; the refused units are not in the store at all.
    const refusedOne = [...refusedUnits][0]!;
    expect(events.some((e) => e.unit_id === refusedOne)).toBe(true);

    // Units the key already introduced keep sending: only new ones are limited.
    const admitted = events.find((e) => !refusedUnits.has(e.unit_id as string))!.unit_id as string;
    const known = await t.request('POST', '/sdk/v1/events', {
      apiKey: key.key,
      body: { events: [track('purchase', admitted, started + 9000)] },
    });
    expect(known.body.data).toEqual({ accepted: 1, duplicates: 0 });
    // A new unit is refused until the budget refills...
    const fresh = await t.request('POST', '/sdk/v1/events', { apiKey: key.key, body: { events: [track('purchase', 'late-1', started)] } });
    expect(fresh.body.data.rejected).toHaveLength(1);
    // ...and, a minute on, accepted; so is a refused unit sent again (it was not remembered as seen).
    clock += 61_000;
    const later = await t.request('POST', '/sdk/v1/events', {
      apiKey: key.key,
      body: { events: [track('purchase', 'late-1', started), track('purchase', refusedOne, started)] },
    });
    expect(later.body.data).toEqual({ accepted: 2, duplicates: 0 });
    // Another client key has its own budget, and a server key none.
    const other = await t.request('POST', '/sdk/v1/events', {
      apiKey: t.clientKey,
      body: { events: [track('purchase', 'other-1', started)] },
    });
    expect(other.body.data).toEqual({ accepted: 1, duplicates: 0 });
    const backend = events.slice(0, 1000).map((e) => ({ ...e, id: randomUUID(), unit_id: `backend-${e.unit_id as string}` }));
    const server = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: backend } });
    expect(server.body.data).toEqual({ accepted: 1000, duplicates: 0 });
  });
});

describe('the new-unit budget is shared through Redis', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  const actor: Actor = { type: 'api_key', id: `key-${randomUUID()}`, kind: 'client', role: null, ownerId: null, label: 'page' };
  const events = (prefix: string, n: number): StoredEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      id: randomUUID(),
      type: 'track',
      key: 'purchase',
      unitId: `${prefix}-${i}`,
      experiment: null,
      variant: null,
      value: 1,
      properties: null,
      timestamp: 0,
      receivedAt: 0,
      environment: 'production',
    }));

  it('two instances on one Redis admit 100 new units between them, and a unit one has seen is not new to the other', async () => {
    const connect = async () => {
      const c = new Redis(redis.url, { lazyConnect: true });
      clients.push(c);
      await c.connect();
      return createEventAdmission({ newUnitsPerMinute: 100, redis: c, budgetMs: 5000 });
    };
    const [a, b] = [await connect(), await connect()];
    const now = Date.now();
    const first = await admitEvents(a, actor, events('u', 60), now);
    expect(first.refused).toEqual([]);
    // The same 60 units through the other instance: not new, nothing spent.
    const again = await admitEvents(b, actor, events('u', 60), now);
    expect(again.refused).toEqual([]);
    // 60 more new units: 40 fit in the shared budget.
    const more = await admitEvents(b, actor, events('v', 60), now);
    expect(more.events).toHaveLength(40);
    expect(more.refused).toHaveLength(20);
    expect(new Set(more.refused.map((r) => r.code))).toEqual(new Set(['RATE_LIMIT_EXCEEDED']));
  });
});
