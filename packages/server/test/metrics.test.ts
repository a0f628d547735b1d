import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { SseClient } from './sse-client';
import { startPostgres, type TestPostgres } from './services';

/**
 * One sample of a Prometheus text exposition, 0 when the series does not exist yet. `labels` is
 * `a="x",b="y"` in any order: a series matches when its label set is exactly that one.
 */
async function sample(t: TestServer, name: string, labels: string): Promise<number> {
  const r = await t.request('GET', '/metrics');
  expect(r.status).toBe(200);
  const labelSet = (text: string) => text.split(',').filter(Boolean).sort().join(',');
  const want = labelSet(labels);
  const line = (r.body as string).split('\n').find((l) => {
    const m = /^([a-z_:]+)(?:\{(.*)\})? /.exec(l);
    return m !== null && m[1] === name && labelSet(m[2] ?? '') === want;
  });
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('/metrics sees the responses of the limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    // A burst of 3 requests per key and almost no refill: the 4th request of a key is a 429.
    t = await startTestServer({ bodyLimitBytes: 2048, apiRateBurst: 3, apiRatePerSecond: 0.001 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('counts a 413 from the body limit under the route it was sent to', async () => {
    const labels = 'method="POST",route="/sdk/v1/events",status="413"';
    const before = await sample(t, 'switchyard_http_requests_total', labels);
    const big = { events: [{ id: randomUUID(), type: 'track', key: 'k', unit_id: 'u', properties: { pad: 'x'.repeat(4096) } }] };
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: big });
    expect(r.status).toBe(413);
    expect(await sample(t, 'switchyard_http_requests_total', labels)).toBe(before + 1);
  });

  it('counts the 429s of the rate limit', async () => {
    const { key } = (await t.request('POST', '/api/v1/api-keys', { token: t.adminToken, body: { name: 'limited', kind: 'server' } })).body
      .data.attributes;
    const labels = 'method="GET",route="/sdk/v1/config",status="429"';
    const before = await sample(t, 'switchyard_http_requests_total', labels);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.request('GET', '/sdk/v1/config', { apiKey: key })).status);
    const limited = statuses.filter((s) => s === 429).length;
    expect(limited).toBeGreaterThanOrEqual(2);
    expect(await sample(t, 'switchyard_http_requests_total', labels)).toBe(before + limited);
  });
});

describe.each(['sqlite', 'postgres'] as const)('ingestion counters count stored events only: %s', (kind) => {
  let t: TestServer;
  let postgres: TestPostgres | undefined;
  beforeAll(async () => {
    if (kind === 'postgres') {
      postgres = await startPostgres();
      t = await startTestServer({ databaseUrl: await postgres.createDatabase() });
    } else {
      t = await startTestServer();
    }
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await postgres?.stop();
  });

  it('a resent batch adds to the duplicates counter, not to the ingested one', async () => {
    const read = async () => ({
      track: await sample(t, 'switchyard_events_ingested_total', 'environment="production",type="track"'),
      exposure: await sample(t, 'switchyard_events_ingested_total', 'environment="production",type="exposure"'),
      dupTrack: await sample(t, 'switchyard_events_duplicates_total', 'environment="production",type="track"'),
      dupExposure: await sample(t, 'switchyard_events_duplicates_total', 'environment="production",type="exposure"'),
    });
    const exposure = (u: string) => ({
      id: randomUUID(),
      type: 'exposure',
      key: 'exp',
      experiment: 'exp',
      variant: 'a',
      unit_id: u,
      timestamp: Date.now(),
    });
    const track = (u: string) => ({ id: randomUUID(), type: 'track', key: 'purchase', unit_id: u, value: 2, timestamp: Date.now() });
    const batch = [exposure('u1'), track('u1'), exposure('u2'), track('u2'), track('u3')];
    const before = await read();
    const first = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: batch } });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body.data).toEqual({ accepted: 5, duplicates: 0 });
    // The SDK retries the whole batch (its first 202 was lost) with one new event in it.
    const again = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: [...batch, track('u4')] } });
    expect(again.body.data).toEqual({ accepted: 1, duplicates: 5 });
    const after = await read();
    expect({
      track: after.track - before.track,
      exposure: after.exposure - before.exposure,
      dupTrack: after.dupTrack - before.dupTrack,
      dupExposure: after.dupExposure - before.dupExposure,
    }).toEqual({ track: 4, exposure: 2, dupTrack: 3, dupExposure: 2 });
    expect(await t.server.ctx.store.countEvents()).toBe(6);
  });
});

describe('/metrics by environment', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });
  const admin = () => ({ token: t.adminToken });

  it('counts events under the environment of the key that sent them', async () => {
    expect((await t.request('POST', '/api/v1/environments', { ...admin(), body: { key: 'staging', name: 'Staging' } })).status).toBe(201);
    const key = (await t.request('POST', '/api/v1/api-keys', { ...admin(), body: { name: 'st', kind: 'server', environment: 'staging' } }))
      .body.data.attributes.key as string;
    const track = () => ({ id: randomUUID(), type: 'track', key: 'purchase', unit_id: 'u1', timestamp: Date.now() });
    const before = {
      staging: await sample(t, 'switchyard_events_ingested_total', 'environment="staging",type="track"'),
      production: await sample(t, 'switchyard_events_ingested_total', 'environment="production",type="track"'),
    };
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: key, body: { events: [track(), track(), track()] } })).status).toBe(202);
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: [track()] } })).status).toBe(202);
    expect({
      staging: (await sample(t, 'switchyard_events_ingested_total', 'environment="staging",type="track"')) - before.staging,
      production: (await sample(t, 'switchyard_events_ingested_total', 'environment="production",type="track"')) - before.production,
    }).toEqual({ staging: 3, production: 1 });
  });

  it('reports the config version of each environment it serves', async () => {
    const version = (environment: string) => sample(t, 'switchyard_config_version', `environment="${environment}"`);
    // Reading development's config through its key loads that environment on this instance.
    const key = (
      await t.request('POST', '/api/v1/api-keys', { ...admin(), body: { name: 'st2', kind: 'server', environment: 'development' } })
    ).body.data.attributes.key as string;
    const served = await t.request('GET', '/sdk/v1/config', { apiKey: key });
    expect(served.status).toBe(200);
    const before = { development: await version('development'), production: await version('production') };
    expect(before.development).toBe(served.body.version);
    expect((await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key: 'm-flag', type: 'boolean' } })).status).toBe(201);
    // A definition commits a version in every environment; a state change only in its own.
    await vi.waitFor(async () => {
      expect({ development: await version('development'), production: await version('production') }).toEqual({
        development: before.development + 1,
        production: before.production + 1,
      });
    });
    const afterCreate = { development: before.development + 1, production: before.production + 1 };
    const patched = await t.request('PATCH', '/api/v1/feature-flags/m-flag/environments/development', {
      ...admin(),
      body: { enabled: true },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await vi.waitFor(async () => {
      expect({ development: await version('development'), production: await version('production') }).toEqual({
        development: afterCreate.development + 1,
        production: afterCreate.production,
      });
    });
  });
});

describe('/metrics counts SSE resumes the replay buffer no longer covers', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ sseReplayCapacity: 2 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a resume from an evicted version is a miss; one inside the buffer is not', async () => {
    const misses = () => sample(t, 'switchyard_sse_replay_misses_total', 'environment="production"');
    const start = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body.version as number;
    for (let i = 0; i < 4; i++)
      expect(
        (await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: `m-${i}`, type: 'boolean' } })).status,
      ).toBe(201);
    const resume = async (from: number) => {
      const c = await new SseClient(`${t.url}/sdk/v1/stream`, { 'x-api-key': t.serverKey, 'last-event-id': String(from) }).open();
      await c.until(() => c.events.length > 0);
      const first = c.events[0]!.event;
      c.close();
      return first;
    };
    const before = await misses();
    expect(await resume(start + 3)).toBe('patch');
    expect(await misses()).toBe(before);
    expect(await resume(start)).toBe('put');
    expect(await misses()).toBe(before + 1);
  });
});

describe('/metrics reports how far the results summaries are behind ingestion', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('switchyard_aggregator_backlog_events is the stored events not yet summarized, and drains to 0', async () => {
    const events = Array.from({ length: 400 }, (_, i) => ({
      id: randomUUID(),
      type: 'track',
      key: 'purchase',
      unit_id: `backlog-${i}`,
      value: 1,
      timestamp: Date.now(),
    }));
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
    expect(r.status).toBe(202);
    const text = (await t.request('GET', '/metrics')).body as string;
    const line = text.split('\n').find((l) => l.startsWith('switchyard_aggregator_backlog_events '));
    expect(line, 'the gauge is exported').toBeDefined();
    const seen = Number(line!.split(' ').pop());
    expect(seen).toBeGreaterThanOrEqual(0);
    expect(seen).toBeLessThanOrEqual(400);
    // The aggregator catches up in the background; the gauge follows it down.
    await vi.waitFor(async () => expect(await sample(t, 'switchyard_aggregator_backlog_events', '')).toBe(0), {
      timeout: 30_000,
      interval: 50,
    });
    expect(await t.server.ctx.store.aggregatorBacklog()).toBe(0);
  });
});
