import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '@switchyard/server';
import { createClient, type ClientOptions, type ConfigChange, type SwitchyardClient } from '../src/index';
import { booleanFlag, JWT_SECRET, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';

describe('against a real server', () => {
  let t: TestServer;
  const clients: SwitchyardClient[] = [];
  const client = (o: Partial<ClientOptions> = {}) => {
    const c = createClient({ sdkKey: t.serverKey, baseUrl: t.url, ...o });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestServer({ heartbeatMs: 200 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await t.cleanup();
  });

  it('serves defaults before the first config, then becomes ready with the server config', async () => {
    expect((await t.api('POST', '/api/v1/feature-flags', booleanFlag('ready-flag'))).status).toBe(201);
    const c = client();
    const readyEvents: unknown[] = [];
    c.on('ready', (e) => readyEvents.push(e));
    expect(c.isReady).toBe(false);
    expect(c.detail('ready-flag', { key: 'u1' }, false)).toEqual({
      value: false,
      variant: null,
      reason: 'ERROR',
      errorCode: 'PROVIDER_NOT_READY',
    });
    await c.ready({ timeoutMs: 5000 });
    expect(c.detail('ready-flag', { key: 'u1' }, false)).toEqual({ value: true, variant: 'on', reason: 'DEFAULT' });
    const serverVersion = (await t.api('GET', '/sdk/v1/config', undefined, { apiKey: t.serverKey })).body.version;
    expect(c.configVersion).toBe(serverVersion);
    expect(readyEvents).toEqual([{ version: serverVersion, source: 'server' }]);
    expect(c.stats().sync).toBe('streaming');
  });

  // How fast is measured in benchmarks/ (sse-fanout); here, that the change comes over the stream.
  it('makes a flag change visible through the stream, with a change event naming the flag', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('flip-me'));
    const c = client();
    await c.ready();
    await until(() => c.boolean('flip-me', { key: 'u1' }, false), 2000, 'flag created');
    const changes: ConfigChange[] = [];
    c.on('change', (ch) => changes.push(ch));
    expect((await t.api('PATCH', '/api/v1/feature-flags/flip-me', { enabled: false })).status).toBe(200);
    await until(() => c.boolean('flip-me', { key: 'u1' }, true) === false, 10_000, 'the flag change to reach the client');
    expect(c.stats().sync).toBe('streaming');
    expect(c.detail('flip-me', { key: 'u1' }, true)).toEqual({ value: false, variant: 'off', reason: 'DISABLED' });
    expect(changes.at(-1)?.keys).toEqual(['flip-me']);
    expect(changes.at(-1)?.version).toBe(c.configVersion);
  });

  it('rejects ready() with UNAUTHORIZED for a wrong key and stops syncing', async () => {
    const c = client({ sdkKey: 'sy_server_wrong' });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    await expect(c.ready({ timeoutMs: 5000 })).rejects.toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
    expect(errors).toEqual(['UNAUTHORIZED']);
    expect(c.stats().sync).toBe('stopped');
    expect(c.boolean('ready-flag', { key: 'u1' }, false)).toBe(false);
  });

  it('rejects ready() with TIMEOUT when no config arrives in time', async () => {
    const c = client({ baseUrl: 'http://127.0.0.1:9', reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    await expect(c.ready({ timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('records one exposure per (experiment, unit) and tracks events, stored once by the server', async () => {
    const exp = await t.api('POST', '/api/v1/experiments', {
      key: 'checkout-exp',
      name: 'Checkout',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'one-page', weight: 50 },
      ],
      metrics: [{ key: 'purchase', type: 'conversion' }],
    });
    expect(exp.status).toBe(201);
    expect((await t.api('POST', '/api/v1/experiments/checkout-exp/start')).status).toBe(200);
    const before = await t.server.ctx.store.countEvents();
    const c = client({ events: { flushIntervalMs: 50 } });
    await c.ready();
    await until(() => c.variant('checkout-exp', { key: 'probe' }) !== null, 2000, 'experiment in the config');
    const units = ['u1', 'u2', 'u3'];
    const assigned = new Map<string, string | null>();
    for (let i = 0; i < 5; i++) for (const u of units) assigned.set(u, c.variant('checkout-exp', { key: u }));
    for (const u of units) expect(c.string('checkout-exp', { key: u }, 'x')).toBe(assigned.get(u)); // same variant; no new exposure
    c.track('purchase', { key: 'u1' }, { value: 42.5, properties: { currency: 'EUR' } });
    await c.flush();
    await until(() => c.stats().events.queued === 0, 3000, 'events delivered');
    // probe + 3 units exposed once each, plus one track.
    expect(await t.server.ctx.store.countEvents()).toBe(before + 1 + units.length + 1);
    expect(c.stats().events).toMatchObject({ delivered: 5, duplicates: 0, droppedRejected: 0 });
    const results = await t.api('GET', '/api/v1/experiments/checkout-exp/results');
    expect(results.status).toBe(200);
    const exposed = (results.body.data.variants as { units: number }[]).reduce((a, v) => a + v.units, 0);
    expect(exposed).toBe(units.length + 1);
  });

  it('survives a server restart and catches up with a change made while it was down', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('restart-flag'));
    const c = client({ reconnect: { initialDelayMs: 50, maxDelayMs: 300 }, staleAfterMs: 60_000 });
    await c.ready();
    await until(() => c.boolean('restart-flag', { key: 'u1' }, false), 2000, 'flag present');
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    const versionBefore = c.configVersion!;
    await t.stop();
    await until(() => errors.includes('STREAM_ERROR'), 3000, 'the client to notice the outage');
    // The change happens while the client cannot see any server: through a second instance on
    // another port over the same SQLite file, which is then stopped.
    const side = await startServer({
      port: 0,
      host: '127.0.0.1',
      dbPath: t.dbPath,
      logLevel: 'silent',
      printCredentials: false,
      jwtSecret: JWT_SECRET,
      env: {},
    });
    const r = await fetch(`${side.url}/api/v1/feature-flags/restart-flag`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });
    expect(r.status).toBe(200);
    await side.close();
    expect(c.boolean('restart-flag', { key: 'u1' }, true)).toBe(true); // still the old config
    await t.restart({ heartbeatMs: 200 });
    await until(() => c.boolean('restart-flag', { key: 'u1' }, true) === false, 5000, 'the client to catch up after the restart');
    expect(c.configVersion).toBe(versionBefore + 1);
    expect(c.stats().sync).toBe('streaming');
    // And it keeps streaming from the new instance.
    await t.api('PATCH', '/api/v1/feature-flags/restart-flag', { enabled: true });
    await until(() => c.boolean('restart-flag', { key: 'u1' }, false), 2000, 'a live change after the restart');
  });

  it('delivers events exactly once across a server outage (retried with the same ids)', async () => {
    const c = client({
      events: { flushIntervalMs: 50, retry: { initialDelayMs: 50, maxDelayMs: 200 } },
      reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
    });
    await c.ready();
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    const before = await t.server.ctx.store.countEvents();
    await t.stop();
    for (let i = 0; i < 120; i++) c.track('outage-metric', { key: `unit-${i}` }, { value: i });
    await c.flush(); // fails: the server is down
    await until(() => errors.includes('EVENTS_UNDELIVERED'), 5000, 'a failed delivery to be reported');
    expect(c.stats().events.queued).toBe(120);
    expect(c.stats().events.delivered).toBe(0);
    await t.restart({ heartbeatMs: 200 });
    await until(() => c.stats().events.queued === 0, 5000, 'the queued events to be delivered');
    expect(c.stats().events).toMatchObject({ delivered: 120, droppedOverflow: 0, droppedRejected: 0 });
    expect(await t.server.ctx.store.countEvents()).toBe(before + 120);
  });

  it('stores events once when an acknowledgement is lost and the batch is resent', async () => {
    // A proxy in front of the events endpoint: the first batch reaches the server and is
    // committed, but the client never sees the 202 (the socket is cut).
    let posts = 0;
    const proxy: Server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const ch of req) chunks.push(ch as Buffer);
      const upstream = await fetch(t.url + req.url, {
        method: req.method ?? 'POST',
        headers: { authorization: req.headers.authorization!, 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      const text = await upstream.text();
      posts++;
      if (posts === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(text);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const eventsBaseUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const c = client({ eventsBaseUrl, events: { flushIntervalMs: 50, retry: { initialDelayMs: 20, maxDelayMs: 50 } } });
      await c.ready();
      const before = await t.server.ctx.store.countEvents();
      for (let i = 0; i < 10; i++) c.track('lost-ack', { key: `unit-${i}` });
      await c.flush();
      await until(() => c.stats().events.queued === 0, 5000, 'delivery after the lost acknowledgement');
      expect(posts).toBe(2);
      expect(c.stats().events).toMatchObject({ delivered: 10, duplicates: 10 });
      expect(await t.server.ctx.store.countEvents()).toBe(before + 10);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });

  it('close() delivers what is queued', async () => {
    const c = client({ events: { flushIntervalMs: 60_000 } });
    await c.ready();
    const before = await t.server.ctx.store.countEvents();
    for (let i = 0; i < 7; i++) c.track('on-close', { key: `u${i}` });
    await c.close();
    expect(await t.server.ctx.store.countEvents()).toBe(before + 7);
    c.track('after-close', { key: 'u' });
    expect(c.stats().events.droppedOnClose).toBe(1);
    await expect(c.ready()).resolves.toBeUndefined(); // it was ready; evaluation keeps working
    expect(c.boolean('ready-flag', { key: 'u1' }, false)).toBe(true);
  });
});
