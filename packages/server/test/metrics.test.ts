import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

/** One sample of a Prometheus text exposition, 0 when the series does not exist yet. */
async function sample(t: TestServer, name: string, labels: string): Promise<number> {
  const r = await t.request('GET', '/metrics');
  expect(r.status).toBe(200);
  const line = (r.body as string).split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
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
      track: await sample(t, 'switchyard_events_ingested_total', 'type="track"'),
      exposure: await sample(t, 'switchyard_events_ingested_total', 'type="exposure"'),
      dupTrack: await sample(t, 'switchyard_events_duplicates_total', 'type="track"'),
      dupExposure: await sample(t, 'switchyard_events_duplicates_total', 'type="exposure"'),
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
