import { isEventId } from '@switchyard/core/protocol';
import { AGREEMENT_EXPERIMENT, UNIT_ROWS } from '@switchyard/test-support/agreement';
import { FaultProxy } from '@switchyard/test-support/fault-proxy';
import { booleanFlag, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from './support/browser';
import { createClientInPage, type PageClientOptions } from './support/page';
import { startStaticServer, type StaticServer } from './support/static-server';

declare global {
  interface Window {
    faults: { stale: number; recovered: number };
  }
}

/**
 * The browser SDK in real Chromium against a real server through a fault-injecting TCP proxy,
 * and the shared agreement table (the Node suite runs the same one).
 */
describe('browser SDK under network faults, and agreement with the Node SDK (Chromium, real server)', () => {
  let t: TestServer;
  let proxy: FaultProxy;
  let web: StaticServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [t, web, browser] = await Promise.all([startTestServer({ heartbeatMs: 200 }), startStaticServer(), launchBrowser()]);
    proxy = await FaultProxy.start(t.port);
  });
  afterEach(async () => {
    proxy.mode = 'pass';
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await proxy?.close();
    await t?.cleanup();
  });

  /** A remote client in a fresh page, through the proxy, recording stale/recovered. */
  const openClient = async (options: Partial<PageClientOptions> = {}): Promise<Page> => {
    const { page, context } = await openPage(browser, `${web.url}/remote.html`);
    contexts.push(context);
    await createClientInPage(page, {
      clientKey: t.clientKey,
      baseUrl: proxy.url,
      context: { key: 'fault-user' },
      storage: null,
      staleAfterMs: 1000,
      requestTimeoutMs: 2000,
      ...options,
    });
    await page.evaluate(() => {
      window.faults = { stale: 0, recovered: 0 };
      window.client.on('stale', () => window.faults.stale++);
      window.client.on('recovered', () => window.faults.recovered++);
    });
    return page;
  };
  const valueIn = (page: Page, key: string) => page.evaluate((k) => window.client.boolean(k, false), key);
  const waitValue = (page: Page, key: string, v: boolean) => until(async () => (await valueIn(page, key)) === v, 30_000, `${key} = ${v}`);

  it('silent stream (no FIN): the heartbeat watchdog goes stale, reconnects and catches up', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('b-silent'));
    const page = await openClient();
    await page.evaluate(() => window.client.ready());
    expect(await valueIn(page, 'b-silent')).toBe(true);
    proxy.silence();
    await t.api('PATCH', '/api/v1/feature-flags/b-silent', { enabled: false });
    await waitValue(page, 'b-silent', false);
    expect(await page.evaluate(() => [window.faults, window.client.status])).toEqual([{ stale: 1, recovered: 1 }, 'ready']);
  });

  it('black hole: serves STALE values while nothing gets through, then recovers', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('b-hole'));
    const page = await openClient();
    await page.evaluate(() => window.client.ready());
    proxy.mode = 'blackhole';
    proxy.silence();
    await until(() => page.evaluate(() => window.client.status === 'stale'), 30_000, 'stale');
    expect(await page.evaluate(() => window.client.detail('b-hole', false).reason)).toBe('STALE');
    await t.api('PATCH', '/api/v1/feature-flags/b-hole', { enabled: false });
    proxy.mode = 'pass';
    await waitValue(page, 'b-hole', false);
    await until(() => page.evaluate(() => window.client.status === 'ready' && window.faults.recovered > 0), 30_000, 'recovered');
  });

  it('restart: reconnects to the restarted server and takes a change made after it', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('b-restart'));
    const page = await openClient();
    await page.evaluate(() => window.client.ready());
    await t.restart();
    await t.api('PATCH', '/api/v1/feature-flags/b-restart', { enabled: false });
    await waitValue(page, 'b-restart', false);
  });

  it('flapping: converges on the last of many changes made while connections keep being cut', async () => {
    await t.api('POST', '/api/v1/feature-flags', booleanFlag('b-flap'));
    const page = await openClient();
    await page.evaluate(() => window.client.ready());
    for (let i = 0; i < 12; i++) {
      await t.api('PATCH', '/api/v1/feature-flags/b-flap', { enabled: i % 2 === 0 });
      proxy.cut();
    }
    // The last change disabled the flag (i = 11).
    await waitValue(page, 'b-flap', false);
  });

  it('a stalled server does not hang ready(): it rejects after requestTimeoutMs', async () => {
    proxy.mode = 'blackhole';
    const page = await openClient({ requestTimeoutMs: 500 });
    const code = await page.evaluate(() =>
      window.client.ready().then(
        () => 'resolved',
        (e: { code: string }) => e.code,
      ),
    );
    expect(code).toBe('NETWORK_ERROR');
  });

  it('close() during a brief outage retries until the server is back, and loses nothing', async () => {
    const page = await openClient({ events: { flushIntervalMs: 600_000, batchSize: 1000 }, closeTimeoutMs: 10_000 });
    await page.evaluate(() => window.client.ready());
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(() => {
      navigator.sendBeacon = () => false; // only close()'s own retries can deliver
      for (let i = 0; i < 30; i++) window.client.track('close-metric', { value: i });
    });
    proxy.mode = 'refuse';
    proxy.cut();
    const refused = proxy.refused;
    await page.evaluate(() => {
      (window as unknown as { closing: Promise<void> }).closing = window.client.close();
    });
    await until(() => proxy.refused >= refused + 3, 10_000, 'close() retrying');
    proxy.mode = 'pass';
    await page.evaluate(() => (window as unknown as { closing: Promise<void> }).closing);
    expect(await t.server.ctx.store.countEvents()).toBe(before + 30);
  });

  it('shared agreement table: the page records events exactly for the rows with a unit, with UUIDv7 ids', async () => {
    if ((await t.api('GET', `/api/v1/experiments/${AGREEMENT_EXPERIMENT.key}`)).status === 404) {
      expect((await t.api('POST', '/api/v1/experiments', AGREEMENT_EXPERIMENT)).status).toBe(201);
      expect((await t.api('POST', `/api/v1/experiments/${AGREEMENT_EXPERIMENT.key}/start`)).status).toBe(200);
    }
    const page = await openClient({ baseUrl: t.url, events: { flushIntervalMs: 600_000 } });
    const sent: { id: string; type: string; unit_id: string }[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/sdk/v1/events') && r.method() === 'POST')
        sent.push(...(JSON.parse(r.postData() ?? '{}') as { events: typeof sent }).events);
    });
    const enrolled = await page.evaluate(
      async ({ rows, exp }) => {
        const out: boolean[] = [];
        for (const row of rows) {
          await window.client.identify(row.context);
          out.push(window.client.detail(exp, 'none').inExperiment === true);
          window.client.track('agree-metric');
        }
        await window.client.flush();
        return out;
      },
      { rows: UNIT_ROWS.map((r) => ({ context: r.context })), exp: AGREEMENT_EXPERIMENT.key },
    );
    expect(enrolled).toEqual(UNIT_ROWS.map((r) => r.unit !== null));
    const withUnit = UNIT_ROWS.filter((r) => r.unit !== null);
    await until(() => sent.length === 2 * withUnit.length, 10_000, 'the events on the wire');
    expect(sent.map((e) => [e.type, e.unit_id]).sort()).toEqual(
      withUnit
        .flatMap((r) => [
          ['exposure', r.unit],
          ['track', r.unit],
        ])
        .sort(),
    );
    expect(sent.every((e) => isEventId(e.id))).toBe(true);
    const missing = await page.evaluate(() => window.seen.errors.filter((c) => c === 'MISSING_KEY').length);
    expect(missing).toBe(UNIT_ROWS.length - withUnit.length);
  });
});
