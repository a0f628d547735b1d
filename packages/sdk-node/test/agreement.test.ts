import { isEventId, unitIdOf, type WireEvent } from '@switchyard/core/protocol';
import { AGREEMENT_EXPERIMENT, UNIT_ROWS } from '@switchyard/test-support/agreement';
import { startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type FetchFunction } from '../src/index';

/**
 * The shared agreement table (the browser suite runs the same one): the Node SDK, core and the
 * server agree on the unit rule, event ids and the batch policy, over real HTTP.
 */
describe('Node SDK, core and server agree (shared table)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.api('POST', '/api/v1/experiments', AGREEMENT_EXPERIMENT)).status).toBe(201);
    expect((await t.api('POST', `/api/v1/experiments/${AGREEMENT_EXPERIMENT.key}/start`)).status).toBe(200);
  });
  afterAll(async () => t?.cleanup());

  it('records exposures and tracks exactly for the rows that have a unit, with UUIDv7 ids the server accepts', async () => {
    const sent: WireEvent[] = [];
    // Real requests; the wrapper only looks at what the SDK put on the wire.
    const recording: FetchFunction = (url, init) => {
      if (url.endsWith('/sdk/v1/events') && init.body !== undefined)
        sent.push(...(JSON.parse(init.body) as { events: WireEvent[] }).events);
      return fetch(url, init);
    };
    const c = createClient({ sdkKey: t.serverKey, baseUrl: t.url, fetch: recording, events: { flushIntervalMs: 60_000 } });
    try {
      await c.ready();
      for (const row of UNIT_ROWS) {
        expect(unitIdOf(row.context), row.name).toBe(row.unit);
        const d = c.detail(AGREEMENT_EXPERIMENT.key, row.context, 'none');
        expect(d.inExperiment === true, `${row.name}: enrolled`).toBe(row.unit !== null);
        c.track('agree-metric', row.context);
      }
      await c.flush();
      const withUnit = UNIT_ROWS.filter((r) => r.unit !== null);
      await until(() => c.stats().events.delivered === 2 * withUnit.length, 10_000, 'delivery');
      expect(sent.map((e) => [e.type, e.unit_id]).sort()).toEqual(
        withUnit
          .flatMap(
            (r) =>
              [
                ['exposure', r.unit],
                ['track', r.unit],
              ] as [string, string][],
          )
          .sort(),
      );
      expect(sent.every((e) => isEventId(e.id))).toBe(true);
      expect(c.stats().events.droppedRejected).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('the server rejects exactly the events whose unit the SDKs would not send', async () => {
    const rows = UNIT_ROWS.filter((r) => 'key' in r.context);
    const events = rows.map((r, i) => ({
      id: `agree-raw-${i}`,
      type: 'track',
      key: 'agree-metric',
      unit_id: r.context.key,
      timestamp: Date.now(),
    }));
    const res = await t.api('POST', '/sdk/v1/events', { events }, { apiKey: t.serverKey });
    expect(res.status).toBe(400);
    const bad = (res.body.error.details as { index: number }[]).map((d) => d.index).sort((a, b) => a - b);
    expect(bad).toEqual(rows.flatMap((r, i) => (r.unit === null ? [i] : [])));
  });

  it('batch policy: only the event the server names is dropped, the rest of the batch is delivered', async () => {
    const c = createClient({ sdkKey: t.serverKey, baseUrl: t.url, events: { flushIntervalMs: 60_000 } });
    try {
      await c.ready();
      const before = await t.server.ctx.store.countEvents();
      c.track('agree-metric', { key: 'p1' });
      c.track('agree-metric', { key: 'p2' }, { properties: { blob: 'x'.repeat(9000) } }); // over the server's 8 kB
      c.track('agree-metric', { key: 'p3' });
      await c.flush();
      await until(() => c.stats().events.queued === 0, 10_000, 'the batch to settle');
      expect(c.stats().events).toMatchObject({ delivered: 2, droppedRejected: 1 });
      expect(await t.server.ctx.store.countEvents()).toBe(before + 2);
    } finally {
      await c.close();
    }
  });
});
