import { FaultProxy } from '@switchyard/test-support/fault-proxy';
import { booleanFlag, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type ClientOptions, type SwitchyardClient } from '../src/index';

/**
 * The Node SDK against a real server through a fault-injecting TCP proxy: every fault class an
 * operator meets, each ending with the client converged on the server's latest config.
 */
describe('Node SDK under network faults (real server, TCP fault proxy)', () => {
  let t: TestServer;
  let proxy: FaultProxy;
  const clients: SwitchyardClient[] = [];

  beforeAll(async () => {
    t = await startTestServer({ heartbeatMs: 200 });
    proxy = await FaultProxy.start(t.port);
  });
  afterEach(async () => {
    proxy.mode = 'pass';
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await proxy?.close();
    await t?.cleanup();
  });

  const open = (extra: ClientOptions = {}) => {
    const c = createClient({
      sdkKey: t.serverKey,
      baseUrl: proxy.url,
      staleAfterMs: 1000,
      requestTimeoutMs: 2000,
      reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
      closeTimeoutMs: 5000,
      ...extra,
    });
    clients.push(c);
    return c;
  };
  const value = (c: SwitchyardClient, key: string) => c.boolean(key, { key: 'u1' }, false);
  const serverVersion = async () => (await t.api('GET', '/sdk/v1/config', undefined, { apiKey: t.serverKey })).body.version as number;

  it('restart: reconnects to the restarted server and takes a change made after it', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('f-restart'));
    const c = open();
    await c.ready();
    expect(value(c, 'f-restart')).toBe(true);
    await t.restart();
    await t.api('PATCH', '/api/v1/feature-flags/f-restart', { enabled: false });
    await until(() => value(c, 'f-restart') === false, 20_000, 'the change after the restart');
  });

  it('black hole: goes stale, then recovers and converges once packets flow again', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('f-hole'));
    const c = open();
    const seen: string[] = [];
    c.on('stale', () => seen.push('stale'));
    c.on('recovered', () => seen.push('recovered'));
    await c.ready();
    proxy.mode = 'blackhole';
    proxy.silence();
    await until(() => seen.includes('stale'), 20_000, 'stale');
    await t.api('PATCH', '/api/v1/feature-flags/f-hole', { enabled: false });
    proxy.mode = 'pass';
    await until(() => seen.includes('recovered') && value(c, 'f-hole') === false, 20_000, 'recovery');
    expect(seen.indexOf('stale')).toBeLessThan(seen.indexOf('recovered'));
  });

  it('silent stream (no FIN): the watchdog replaces the connection and the client catches up', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('f-silent'));
    const c = open();
    await c.ready();
    const accepted = proxy.accepted;
    proxy.silence();
    await t.api('PATCH', '/api/v1/feature-flags/f-silent', { enabled: false });
    await until(() => value(c, 'f-silent') === false, 20_000, 'the change made while the stream was silent');
    expect(proxy.accepted).toBeGreaterThan(accepted);
  });

  it('flapping: converges on the last of many changes made while connections keep being cut', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('f-flap'));
    const c = open();
    await c.ready();
    for (let i = 0; i < 12; i++) {
      await t.api('PATCH', '/api/v1/feature-flags/f-flap', { enabled: i % 2 === 1 });
      proxy.cut();
    }
    const last = await serverVersion();
    await until(() => c.stats().configVersion === last, 20_000, `version ${last}`);
    expect(value(c, 'f-flap')).toBe(true);
  });

  it('close() during a brief outage keeps retrying until the server is back, and loses nothing', async () => {
    // A background backoff that has grown long (as after an outage) must not shorten close()'s retries.
    const c = open({ events: { flushIntervalMs: 60_000, batchSize: 1000, retry: { initialDelayMs: 30_000, maxDelayMs: 30_000 } } });
    await c.ready();
    const before = await t.server.ctx.store.countEvents();
    for (let i = 0; i < 120; i++) c.track('outage-metric', { key: `u${i}` }, { value: i });
    proxy.mode = 'refuse';
    proxy.cut();
    const closing = c.close();
    // The server is unreachable for a few close() attempts, then back.
    await until(() => proxy.refused >= 3, 5000, 'close() retrying');
    proxy.mode = 'pass';
    await closing;
    expect(c.stats().events).toMatchObject({ delivered: 120, droppedOnClose: 0 });
    expect(await t.server.ctx.store.countEvents()).toBe(before + 120);
  });

  it('a stream whose headers never come times out; the config GET makes the client ready, and the error is reported', async () => {
    const hole = await FaultProxy.start(t.port);
    hole.mode = 'blackhole';
    try {
      const c = open({ baseUrl: t.url, streamBaseUrl: hole.url, requestTimeoutMs: 500 });
      const codes: string[] = [];
      c.on('error', (e) => codes.push(e.code));
      await c.ready({ timeoutMs: 20_000 });
      expect(c.stats().configVersion).toBe(await serverVersion());
      expect(codes).toContain('STREAM_ERROR');
    } finally {
      await hole.close();
    }
  });

  it('a reconnected stream kicks the event queue; a delivery outage is reported once', async () => {
    // A backoff far beyond the test's timeout: only the reconnect can deliver these events.
    const c = open({ events: { flushIntervalMs: 50, retry: { initialDelayMs: 600_000, maxDelayMs: 600_000 } } });
    const codes: string[] = [];
    c.on('error', (e) => codes.push(e.code));
    await c.ready();
    proxy.mode = 'refuse';
    proxy.cut();
    for (let i = 0; i < 5; i++) c.track('kick-metric', { key: `k${i}` });
    await c.flush();
    for (let i = 5; i < 10; i++) c.track('kick-metric', { key: `k${i}` });
    await c.flush();
    await until(() => proxy.refused >= 2, 5000, 'two failed deliveries');
    expect(c.stats().events.delivered).toBe(0);
    proxy.mode = 'pass';
    await until(() => c.stats().events.delivered === 10, 20_000, 'delivery after the reconnect');
    expect(codes.filter((x) => x === 'EVENTS_UNDELIVERED')).toHaveLength(1);
  });
});
