import { isDeepStrictEqual } from 'node:util';
import { compileConfig, evaluate } from '@switchyard/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from './support/browser';
import { createClientInPage, detailInPage, evaluateCasesInPage, waitForValue } from './support/page';
import { evaluationSpec, loadSpecIntoServer, validConfigNames } from './support/spec';
import { startStaticServer, type StaticServer } from './support/static-server';
import { admin, createFlag, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('remote mode (client key) in Chromium against a real server', () => {
  let t: TestServer;
  let web: StaticServer;
  let browser: Browser;
  let remotePage: string;

  beforeAll(async () => {
    [t, web, browser] = await Promise.all([startTestServer({ heartbeatMs: 1000 }), startStaticServer(), launchBrowser()]);
    remotePage = `${web.url}/remote.html`;
    await createFlag(t, 'new-checkout', {
      rules: [{ id: 'pro', when: { attr: 'plan', op: 'eq', values: ['pro'] }, serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    });
    await createFlag(t, 'banner-text', {
      type: 'string',
      variants: [
        { key: 'a', value: 'Hello' },
        { key: 'b', value: 'Welcome back' },
      ],
      default_serve: { variant: 'b' },
    });
    await createFlag(t, 'max-items', {
      type: 'number',
      variants: [
        { key: 'low', value: 3 },
        { key: 'high', value: 10 },
      ],
      default_serve: { variant: 'high' },
    });
    await createFlag(t, 'theme', {
      type: 'json',
      variants: [{ key: 'dark', value: { bg: '#000', fg: '#fff' } }],
      default_serve: { variant: 'dark' },
    });
    await admin(t, 'POST', '/api/v1/experiments', {
      key: 'cart-exp',
      variants: [
        { key: 'control', weight: 50, value: 'classic' },
        { key: 'treatment', weight: 50, value: 'one-page' },
      ],
      metrics: [{ key: 'purchase', type: 'conversion' }],
    });
    await admin(t, 'POST', '/api/v1/experiments/cart-exp/start');
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await t?.cleanup();
  });

  it("serves the caller's default with PROVIDER_NOT_READY before ready, then the server's evaluation", async () => {
    const { page, errors, context } = await openPage(browser, remotePage);
    const before = await createClientInPage(
      page,
      { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'user-1', plan: 'pro' } },
      { key: 'new-checkout', default: false },
    );
    expect(before).toEqual({
      detail: { value: false, variant: null, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' },
      status: 'loading',
    });

    await page.evaluate(() => window.client.ready());
    const got = await page.evaluate(() => {
      const c = window.client;
      return {
        status: c.status,
        bool: c.boolean('new-checkout', false),
        detail: c.detail('new-checkout', false),
        string: c.string('banner-text', 'x'),
        number: c.number('max-items', 1),
        json: c.json('theme', { bg: 'white' }),
        mismatch: c.detail('banner-text', 0),
        missing: c.detail('no-such-flag', 'fallback'),
        prototypeKeys: ['constructor', 'toString', '__proto__', 'hasOwnProperty'].map((k) => c.detail(k, true)),
        variant: c.variant('cart-exp'),
        all: Object.keys(c.all()).sort(),
      };
    });
    expect(got.status).toBe('ready');
    expect(got.bool).toBe(true);
    expect(got.detail).toEqual({ value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'pro' });
    expect(got.string).toBe('Welcome back');
    expect(got.number).toBe(10);
    expect(got.json).toEqual({ bg: '#000', fg: '#fff' });
    expect(got.mismatch).toEqual({ value: 0, variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    expect(got.missing).toEqual({ value: 'fallback', variant: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    for (const d of got.prototypeKeys) expect(d).toEqual({ value: true, variant: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    expect(['control', 'treatment']).toContain(got.variant);
    expect(got.all).toEqual(['banner-text', 'cart-exp', 'max-items', 'new-checkout', 'theme']);
    expect(await page.evaluate(() => window.seen.ready)).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('evaluates the spec vectors exactly as core does on the same document', async () => {
    await loadSpecIntoServer(t);
    // Two server limits keep four cases to local mode (local.test.ts runs every case):
    // POST /sdk/v1/evaluate refuses (400) a context whose `key` is neither a string nor a number
    // (core evaluates it as "no unit"), and its zod parsing drops an own `__proto__` attribute.
    const cases = evaluationSpec.cases.filter(
      (c) =>
        validConfigNames.includes(c.config) &&
        (c.context.key === undefined || ['string', 'number'].includes(typeof c.context.key)) &&
        !Object.hasOwn(c.context, '__proto__'),
    );
    expect(cases.length).toBeGreaterThan(370);
    const { page, context } = await openPage(browser, remotePage);
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: {}, streaming: false, storage: null });
    const details = await evaluateCasesInPage(page, cases);

    // What core answers on the document the server actually serves: the page must agree on every case.
    const served = compileConfig((await t.api('GET', '/sdk/v1/config', undefined, { apiKey: t.serverKey })).body);
    const notCore = cases.flatMap((c, i) => {
      const want = evaluate(served, c.flag, JSON.parse(JSON.stringify(c.context)), c.default);
      return isDeepStrictEqual(details[i], { ...want }) ? [] : [{ name: c.name, core: want, got: details[i] }];
    });
    expect(notCore).toEqual([]);

    // And that is the published vector, except where the server stores a different document
    // than the spec's: it publishes only RUNNING and PAUSED experiments (so other experiment
    // keys are unknown), and gives boolean flags created without `off_variant` the `off` variant.
    const notSpec = cases.filter((c, i) => !isDeepStrictEqual(details[i], c.expected)).map((c) => c.name);
    expect(notSpec.sort()).toEqual([
      'experiments: archived-exp, not running: caller default',
      'experiments: completed-exp, not running: caller default',
      'experiments: draft-exp, not running: caller default',
      'prerequisites: disabled prerequisite without off variant serves nothing',
      'prerequisites: prerequisite not met, no off variant: caller default',
    ]);
    await context.close();
  });

  it('shows a flag change made through the management API without a reload', async () => {
    await createFlag(t, 'live-flag');
    const { page, context } = await openPage(browser, remotePage);
    const streams = t.server.ctx.hub.size;
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'user-live' } });
    await page.evaluate(() => window.client.ready());
    expect(await page.evaluate(() => window.client.boolean('live-flag', false))).toBe(true);
    // The page's stream is open, so the change below arrives as a patch.
    await until(() => t.server.ctx.hub.size > streams, 10_000, "the page's stream");

    // Latency is measured in benchmarks/, not asserted here: a loaded machine is not a slow SDK.
    await admin(t, 'PATCH', '/api/v1/feature-flags/live-flag', { enabled: false });
    await waitForValue(page, 'live-flag', false, 10_000);
    expect(await detailInPage(page, 'live-flag', true)).toEqual({ value: false, variant: 'off', reason: 'DISABLED' });
    expect(await page.evaluate(() => window.seen.changes)).toContainEqual(['live-flag']);

    // A new flag appears too, and a deleted one goes back to the caller's default.
    await createFlag(t, 'later-flag', { type: 'string', variants: [{ key: 'v', value: 'later' }] });
    await waitForValue(page, 'later-flag', 'later', 10_000);
    await admin(t, 'DELETE', '/api/v1/feature-flags/later-flag');
    await waitForValue(page, 'later-flag', null, 10_000);
    expect(await detailInPage(page, 'later-flag', 'gone')).toEqual({
      value: 'gone',
      variant: null,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    await context.close();
  });

  it('identify() re-evaluates for the new context, and the stream follows it', async () => {
    await createFlag(t, 'vip-only', {
      rules: [{ id: 'vips', when: { attr: 'key', op: 'in', values: ['user-2'] }, serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    });
    const { page, context } = await openPage(browser, remotePage);
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'user-1' } });
    await page.evaluate(() => window.client.ready());
    expect(await page.evaluate(() => window.client.boolean('vip-only', true))).toBe(false);

    await page.evaluate(() => window.client.identify({ key: 'user-2' }));
    expect(await detailInPage(page, 'vip-only', false)).toEqual({ value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'vips' });
    expect(await page.evaluate(() => window.client.context)).toEqual({ key: 'user-2' });
    expect(await page.evaluate(() => window.seen.changes.flat())).toContain('vip-only');

    // The stream now evaluates for user-2: a rule change that only matters to user-2 arrives.
    await admin(t, 'PATCH', '/api/v1/feature-flags/vip-only', { rules: [] });
    await waitForValue(page, 'vip-only', false, 1000);
    await context.close();
  });

  it('starts warm from localStorage after a reload (reason CACHED until fresh values arrive)', async () => {
    await createFlag(t, 'warm-flag', { type: 'string', variants: [{ key: 'x', value: 'from-server' }] });
    const { page, context } = await openPage(browser, remotePage);
    const ctx = { key: 'warm-user', plan: 'pro' };
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: ctx });
    await page.evaluate(() => window.client.ready());

    await page.reload();
    // Same context with the attributes in another order: still the same cache entry.
    const first = await createClientInPage(
      page,
      { clientKey: t.clientKey, baseUrl: t.url, context: { plan: 'pro', key: 'warm-user' } },
      { key: 'warm-flag', default: 'default' },
    );
    expect(first).toEqual({ detail: { value: 'from-server', variant: 'x', reason: 'CACHED' }, status: 'cached' });
    await page.evaluate(() => window.client.ready());
    expect(await detailInPage(page, 'warm-flag', 'default')).toEqual({ value: 'from-server', variant: 'x', reason: 'DEFAULT' });

    // Another context has no cache: the caller's default until ready.
    await page.reload();
    const other = await createClientInPage(
      page,
      { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'never-seen' } },
      { key: 'warm-flag', default: 'default' },
    );
    expect(other).toEqual({
      detail: { value: 'default', variant: null, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' },
      status: 'loading',
    });

    // storage: null turns warm start off.
    await page.reload();
    const off = await createClientInPage(
      page,
      { clientKey: t.clientKey, baseUrl: t.url, context: ctx, storage: null },
      { key: 'warm-flag', default: 'default' },
    );
    expect(off?.detail.reason).toBe('ERROR');
    await context.close();
  });

  it('delivers queued events with sendBeacon when the page is closed, one exposure per (experiment, unit)', async () => {
    const { page, context } = await openPage(browser, remotePage);
    await createClientInPage(page, {
      clientKey: t.clientKey,
      baseUrl: t.url,
      context: { key: 'closing-user' },
      flushIntervalMs: 600_000,
      flushAt: 1000,
    });
    await page.evaluate(() => window.client.ready());
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(() => {
      const c = window.client;
      for (let i = 0; i < 5; i++) c.variant('cart-exp'); // one exposure
      c.string('cart-exp', 'classic'); // same unit and experiment: still one
      c.track('purchase', { value: 42.5, properties: { sku: 'A-1' } });
    });
    await sleep(300);
    expect(await t.server.ctx.store.countEvents()).toBe(before); // nothing sent before the page goes away
    await page.close({ runBeforeUnload: true });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 2, 10_000, 'the beaconed events');
    await sleep(300);
    expect(await t.server.ctx.store.countEvents()).toBe(before + 2);
    await context.close();
  });

  it('beacons the queue when the page becomes hidden, with the key in ?key= and a text/plain body', async () => {
    const { page, context } = await openPage(browser, remotePage);
    const requests: { url: string; type: string | null }[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/sdk/v1/events') && r.method() === 'POST')
        requests.push({ url: r.url(), type: r.headers()['content-type'] ?? null });
    });
    await page.evaluate(() => {
      const original = navigator.sendBeacon.bind(navigator);
      const sent: Promise<string>[] = [];
      (window as unknown as { beacons: Promise<string>[] }).beacons = sent;
      navigator.sendBeacon = (url, data) => {
        sent.push((data as Blob).text());
        return original(url, data);
      };
    });
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'hidden-user' }, flushIntervalMs: 600_000 });
    await page.evaluate(() => window.client.ready());
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(() => {
      window.client.track('signup');
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 1, 10_000, 'the beaconed event');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe(`${t.url}/sdk/v1/events?key=${encodeURIComponent(t.clientKey)}`);
    expect(requests[0]!.type).toContain('text/plain');
    const bodies = await page.evaluate(() => Promise.all((window as unknown as { beacons: Promise<string>[] }).beacons));
    expect(bodies.map((b) => JSON.parse(b).events)).toEqual([
      [expect.objectContaining({ type: 'track', key: 'signup', unit_id: 'hidden-user' })],
    ]);
    await context.close();
  });

  it('flushes batches with fetch on its own, and a later page close sends nothing twice', async () => {
    const { page, context } = await openPage(browser, remotePage);
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'batch-user' }, flushIntervalMs: 100 });
    await page.evaluate(() => window.client.ready());
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(() => {
      for (let i = 0; i < 120; i++) window.client.track('view', { value: i });
    });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 120, 10_000, '120 tracked events');
    // The page goes away after the fetch: nothing is left to beacon, nothing is counted twice.
    await page.close({ runBeforeUnload: true });
    await sleep(500);
    expect(await t.server.ctx.store.countEvents()).toBe(before + 120);
    await context.close();
  });

  it('keeps events the browser refuses to beacon, and sends them on the next page load', async () => {
    const { page, context } = await openPage(browser, remotePage);
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'refused-user' }, flushIntervalMs: 600_000 });
    await page.evaluate(() => window.client.ready());
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(() => {
      navigator.sendBeacon = () => false; // over the keepalive quota, say
      window.client.track('refused', { value: 1 });
      window.client.track('refused', { value: 2 });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    expect(await page.evaluate(() => Object.values(localStorage).join())).toContain('"refused"');
    await sleep(300);
    expect(await t.server.ctx.store.countEvents()).toBe(before);

    await page.reload();
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'someone-else' } });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 2, 10_000, 'the stored events');
    expect(await page.evaluate(() => Object.values(localStorage).join())).not.toContain('"refused"');
    await context.close();
  });

  it('drops a batch the server rejects as invalid and keeps sending the rest; no key, no event', async () => {
    const { page, context } = await openPage(browser, remotePage);
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'invalid-user' }, flushIntervalMs: 50 });
    await page.evaluate(() => window.client.ready());
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(async () => {
      window.client.track('too-big', { properties: { blob: 'x'.repeat(9000) } }); // over the server's 8 kB
      await window.client.flush();
      window.client.track('fine');
      await window.client.flush();
      await window.client.identify({ plan: 'anonymous' });
      window.client.track('nobody'); // no context key, no unit id
    });
    expect(await page.evaluate(() => window.seen.errors)).toEqual(['EVENTS_REJECTED', 'MISSING_KEY']);
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 1, 10_000, 'the valid event');
    await context.close();
  });

  it('never sends the page rules or segment lists, and never stores them', async () => {
    await admin(t, 'POST', '/api/v1/segments', { key: 'secret-seg', included: ['secret-unit-7f3a'] });
    await createFlag(t, 'seg-flag', {
      rules: [{ id: 'secret-rule', when: { segment: 'secret-seg' }, serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    });
    const { page, context } = await openPage(browser, remotePage);
    const bodies: string[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(t.url))
        void r.text().then(
          (b) => bodies.push(b),
          () => undefined,
        );
    });
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'secret-unit-7f3a' } });
    await page.evaluate(() => window.client.ready());
    expect(await detailInPage(page, 'seg-flag', false)).toEqual({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      ruleId: 'secret-rule',
    });
    await until(() => bodies.length > 0, 5000, 'a response body');
    const other = JSON.stringify(bodies) + (await page.evaluate(() => JSON.stringify(localStorage)));
    expect(other).not.toContain('"rules"');
    expect(other).not.toContain('"segments"');
    expect(other).not.toContain('secret-seg');
    await context.close();
  });

  it("lists a guarded rollout's flag but not its internal experiment, and records the flag's exposure under it", async () => {
    await createFlag(t, 'rolled-remote', { default_serve: { variant: 'off' } });
    const rollout = await admin(t, 'POST', '/api/v1/feature-flags/rolled-remote/environments/production/rollouts', {
      variant: 'on',
      stages: [{ percent: 100 }],
      guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.1 }],
    });
    const experiment = rollout.data.attributes.experiment as string;
    const before = await t.server.ctx.store.countEvents();
    const { page, context } = await openPage(browser, remotePage);
    await createClientInPage(page, { clientKey: t.clientKey, baseUrl: t.url, context: { key: 'rolled-remote-user' } });
    const got = await page.evaluate(async () => {
      await window.client.ready();
      const detail = window.client.detail('rolled-remote', false);
      await window.client.flush();
      return { detail, all: Object.keys(window.client.all()) };
    });
    expect(got.all).toContain('rolled-remote');
    expect(got.all.filter((k) => k.startsWith('rollout.'))).toEqual([]);
    expect(got.detail).toMatchObject({ value: true, variant: 'on', inExperiment: true, experiment });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 1, 10_000, 'the exposure');
    await context.close();
  });

  it('rejects ready() with UNAUTHORIZED for a bad key and keeps serving defaults', async () => {
    const { page, context, errors } = await openPage(browser, remotePage);
    await createClientInPage(page, { clientKey: 'sy_cli_not-a-real-key', baseUrl: t.url, context: { key: 'u' } });
    const failure = await page.evaluate(() =>
      window.client.ready().then(
        () => null,
        (e: { name: string; code: string; status: number }) => ({ name: e.name, code: e.code, status: e.status }),
      ),
    );
    expect(failure).toEqual({ name: 'SwitchyardError', code: 'UNAUTHORIZED', status: 401 });
    expect(await detailInPage(page, 'new-checkout', false)).toEqual({
      value: false,
      variant: null,
      reason: 'ERROR',
      errorCode: 'PROVIDER_NOT_READY',
    });
    expect(await page.evaluate(() => window.seen.errors)).toContain('UNAUTHORIZED');
    // Bad options throw at creation, with the one error class.
    const thrown = await page.evaluate(() => {
      try {
        window.Switchyard.createBrowserClient({ clientKey: '', baseUrl: 'ftp://x', context: {} });
        return null;
      } catch (e) {
        return { name: (e as Error).name, code: (e as { code: string }).code };
      }
    });
    expect(thrown).toEqual({ name: 'SwitchyardError', code: 'INVALID_OPTIONS' });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('survives a server outage: keeps serving the last values (STALE), then catches up on the same port', async () => {
    const s = await startTestServer({ heartbeatMs: 1000 });
    try {
      await createFlag(s, 'outage-flag');
      const { page, context } = await openPage(browser, remotePage);
      await createClientInPage(page, { clientKey: s.clientKey, baseUrl: s.url, context: { key: 'outage-user' }, flushIntervalMs: 50 });
      await page.evaluate(() => window.client.ready());
      expect(await page.evaluate(() => window.client.boolean('outage-flag', false))).toBe(true);
      const port = s.port;

      await s.stop();
      await page.waitForFunction(() => window.client.status === 'stale', undefined, { timeout: 10_000 });
      expect(await detailInPage(page, 'outage-flag', false)).toEqual({ value: true, variant: 'on', reason: 'STALE' });
      await page.evaluate(() => window.client.track('during-outage'));
      await sleep(500); // the flush fails and the event waits

      // Meanwhile someone changes the flag through another instance on the same database.
      await s.restart({ port: 0 });
      await admin(s, 'PATCH', '/api/v1/feature-flags/outage-flag', { enabled: false });
      const before = await s.server.ctx.store.countEvents();
      await s.restart({ port });
      expect(s.port).toBe(port);

      await waitForValue(page, 'outage-flag', false, 15_000);
      expect(await detailInPage(page, 'outage-flag', true)).toEqual({ value: false, variant: 'off', reason: 'DISABLED' });
      expect(await page.evaluate(() => window.client.status)).toBe('ready');
      expect(await page.evaluate(() => window.seen.errors)).toContain('STREAM_ERROR');
      await until(async () => (await s.server.ctx.store.countEvents()) === before + 1, 15_000, 'the event queued during the outage');

      // And the stream is live again.
      await admin(s, 'PATCH', '/api/v1/feature-flags/outage-flag', { enabled: true });
      await waitForValue(page, 'outage-flag', true, 1000);
      await context.close();
    } finally {
      await s.cleanup();
    }
  });
});
