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

describe('local mode (server key): core evaluating in Chromium', () => {
  let t: TestServer;
  let web: StaticServer;
  let browser: Browser;
  let localPage: string;

  beforeAll(async () => {
    [t, web, browser] = await Promise.all([startTestServer({ heartbeatMs: 1000 }), startStaticServer(), launchBrowser()]);
    localPage = `${web.url}/local.html`;
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await t?.cleanup();
  });

  it('answers every spec vector, invalid configs included, from the streamed document', async () => {
    const { page, context, errors } = await openPage(browser, localPage);
    const mismatches: unknown[] = [];
    let total = 0;
    for (const name of Object.keys(evaluationSpec.configs)) {
      const cases = evaluationSpec.cases.filter((c) => c.config === name);
      await createClientInPage(page, { serverKey: 'sy_srv_stub', baseUrl: `${web.url}/spec/${name}`, context: {}, storage: null });
      await page.evaluate(() => window.client.ready());
      const details = await evaluateCasesInPage(page, cases);
      cases.forEach((c, i) => {
        if (!isDeepStrictEqual(details[i], c.expected)) mismatches.push({ name: c.name, expected: c.expected, got: details[i] });
      });
      total += cases.length;
      await page.evaluate(() => window.client.close());
    }
    expect(mismatches).toEqual([]);
    expect(total).toBe(evaluationSpec.cases.length);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('records exposures under the attribute an experiment buckets by', async () => {
    const { page, context } = await openPage(browser, localPage);
    await createClientInPage(page, {
      serverKey: 'sy_srv_stub',
      baseUrl: `${web.url}/spec/experiments`,
      context: { key: 'user-9', account: 'acme' },
      storage: null,
    });
    await page.evaluate(async () => {
      await window.client.ready();
      window.client.variant('by-account');
      window.client.variant('checkout-exp');
      window.client.variant('paused-exp'); // PAUSED: control for everyone, no exposure
      await window.client.flush();
    });
    const exposures = (web.stubEvents.experiments ?? []) as { type: string; key: string; unit_id: string; variant: string }[];
    // (Earlier tests' exposures went to the same stub; this test's units are its own.)
    expect(exposures.filter((e) => e.unit_id === 'acme' || e.unit_id === 'user-9').map((e) => [e.type, e.key, e.unit_id])).toEqual([
      ['exposure', 'by-account', 'acme'],
      ['exposure', 'checkout-exp', 'user-9'],
    ]);
    await context.close();
  });

  it('fetches the RE2 engine only for a config that uses matches, once per page', async () => {
    const { page, context, errors } = await openPage(browser, localPage);
    const fetched: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/switchyard-re2.min.js')) fetched.push(r.url());
    });
    const open = async (name: string, ctx: Record<string, unknown>) => {
      await createClientInPage(page, { serverKey: 'sy_srv_stub', baseUrl: `${web.url}/spec/${name}`, context: ctx, storage: null });
      await page.evaluate(() => window.client.ready());
    };
    await open('flags', {});
    await page.evaluate(() => window.client.close());
    expect(fetched).toEqual([]);

    // The engine is in the page before ready() resolves: the first answer is already right.
    await open('conditions', { key: 'u', email: 'bob@example.com' });
    expect(await detailInPage(page, 'matches', false)).toEqual({ value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'r' });
    expect(fetched).toEqual([`${web.url}/dist/switchyard-re2.min.js`]);
    await page.evaluate(() => window.client.close());
    await open('conditions', { key: 'u', email: 'Bob@example.com' });
    expect(await detailInPage(page, 'matches', false)).toEqual({ value: false, variant: 'off', reason: 'DEFAULT' });
    expect(fetched).toHaveLength(1);
    await page.evaluate(() => window.client.close());
    expect(errors).toEqual([]);
    await context.close();
  });

  it('fails ready() with NETWORK_ERROR when the RE2 engine cannot be fetched', async () => {
    const { page, context } = await openPage(browser, localPage);
    await page.route('**/switchyard-re2.min.js', (r) => r.abort());
    await createClientInPage(page, { serverKey: 'sy_srv_stub', baseUrl: `${web.url}/spec/conditions`, context: {}, storage: null });
    const code = await page.evaluate(() =>
      window.client.ready().then(
        () => 'ready',
        (e: { code?: string }) => e.code,
      ),
    );
    expect(code).toBe('NETWORK_ERROR');
    await page.evaluate(() => window.client.close());
    await context.close();
  });

  it('records the exposure of a flag that serves an experiment under the experiment and its unit', async () => {
    const { page, context } = await openPage(browser, localPage);
    await createClientInPage(page, {
      serverKey: 'sy_srv_stub',
      baseUrl: `${web.url}/spec/flag-experiments`,
      context: { key: 'user-fx', plan: 'pro', account: 'acct-fx' },
      storage: null,
    });
    const d = await page.evaluate(async () => {
      await window.client.ready();
      const first = window.client.detail('fx-rules', 'x');
      window.client.string('fx-rules', 'x'); // the same unit again: still one exposure
      await window.client.flush();
      return first;
    });
    expect(d).toMatchObject({ reason: 'SPLIT', inExperiment: true, experiment: 'fx-theme', ruleId: 'exp' });
    const exposures = (web.stubEvents['flag-experiments'] ?? []) as { type: string; key: string; unit_id: string; variant: string }[];
    // (The spec-vector test before this one exposed other units to the same stub.)
    const mine = exposures.filter((e) => e.unit_id === 'acct-fx' || e.unit_id === 'user-fx');
    expect(mine.map((e) => [e.type, e.key, e.unit_id, e.variant])).toEqual([['exposure', 'fx-theme', 'acct-fx', d.variant]]);
    await context.close();
  });

  it('evaluates the spec configs recreated on a real server exactly as core does', async () => {
    await loadSpecIntoServer(t);
    const cases = evaluationSpec.cases.filter((c) => validConfigNames.includes(c.config));
    const { page, context } = await openPage(browser, localPage);
    await createClientInPage(page, { serverKey: t.serverKey, baseUrl: t.url, context: {}, storage: null });
    await page.evaluate(() => window.client.ready());
    const details = await evaluateCasesInPage(page, cases);
    const served = compileConfig((await t.api('GET', '/sdk/v1/config', undefined, { apiKey: t.serverKey })).body);
    const notCore = cases.flatMap((c, i) => {
      const want = evaluate(served, c.flag, JSON.parse(JSON.stringify(c.context)), c.default);
      return isDeepStrictEqual(details[i], { ...want }) ? [] : [{ name: c.name, core: want, got: details[i] }];
    });
    expect(notCore).toEqual([]);
    // The same five differences between the spec's documents and the server's as in remote mode.
    expect(cases.filter((c, i) => !isDeepStrictEqual(details[i], c.expected)).length).toBe(5);
    await context.close();
  });

  it('applies a change made through the management API, and identify() needs no request', async () => {
    await createFlag(t, 'local-live', {
      rules: [{ id: 'beta', when: { attr: 'plan', op: 'eq', values: ['beta'] }, serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    });
    const { page, context } = await openPage(browser, localPage);
    const streams = t.server.ctx.hub.size;
    await createClientInPage(page, { serverKey: t.serverKey, baseUrl: t.url, context: { key: 'u1', plan: 'beta' } });
    await page.evaluate(() => window.client.ready());
    expect(await detailInPage(page, 'local-live', false)).toEqual({
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      ruleId: 'beta',
    });
    // The page's stream is open, so the change below arrives as a patch.
    await until(() => t.server.ctx.hub.size > streams, 10_000, "the page's stream");

    // Latency is measured in benchmarks/, not asserted here: a loaded machine is not a slow SDK.
    await admin(t, 'PATCH', '/api/v1/feature-flags/local-live', { rules: [] });
    await waitForValue(page, 'local-live', false, 10_000);

    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const switched = await page.evaluate(() => {
      const done = window.client.identify({ key: 'u2', plan: 'beta' });
      return done.then(() => window.client.detail('local-live', true));
    });
    expect(switched).toEqual({ value: false, variant: 'off', reason: 'DEFAULT' });
    await admin(t, 'PATCH', '/api/v1/feature-flags/local-live', {
      rules: [{ id: 'u2', when: { attr: 'key', op: 'eq', values: ['u2'] }, serve: { variant: 'on' } }],
    });
    await waitForValue(page, 'local-live', true, 1000);
    expect(requests.filter((u) => !u.includes('/sdk/v1/events'))).toEqual([]);
    await context.close();
  });

  it("lists a guarded rollout's flag but not its internal experiment, and records the flag's exposure under it", async () => {
    await createFlag(t, 'rolled-local', { default_serve: { variant: 'off' } });
    const rollout = await admin(t, 'POST', '/api/v1/feature-flags/rolled-local/environments/production/rollouts', {
      variant: 'on',
      stages: [{ percent: 100 }],
      guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.1 }],
    });
    const experiment = rollout.data.attributes.experiment as string;
    const before = await t.server.ctx.store.countEvents();
    const { page, context } = await openPage(browser, localPage);
    await createClientInPage(page, { serverKey: t.serverKey, baseUrl: t.url, context: { key: 'rolled-local-user' } });
    const got = await page.evaluate(async () => {
      await window.client.ready();
      const detail = window.client.detail('rolled-local', false);
      await window.client.flush();
      return { detail, all: Object.keys(window.client.all()) };
    });
    expect(got.all).toContain('rolled-local');
    expect(got.all.filter((k) => k.startsWith('rollout.'))).toEqual([]);
    expect(got.detail).toMatchObject({ value: true, variant: 'on', inExperiment: true, experiment });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 1, 10_000, 'the exposure');
    await context.close();
  });

  it('starts warm from localStorage after a reload', async () => {
    await createFlag(t, 'local-warm', { type: 'number', variants: [{ key: 'n', value: 7 }] });
    const { page, context } = await openPage(browser, localPage);
    await createClientInPage(page, { serverKey: t.serverKey, baseUrl: t.url, context: { key: 'w' } });
    await page.evaluate(() => window.client.ready());
    await page.reload();
    const first = await createClientInPage(
      page,
      { serverKey: t.serverKey, baseUrl: t.url, context: { key: 'w' } },
      { key: 'local-warm', default: 0 },
    );
    expect(first).toEqual({ detail: { value: 7, variant: 'n', reason: 'CACHED' }, status: 'cached' });
    await page.evaluate(() => window.client.ready());
    expect(await detailInPage(page, 'local-warm', 0)).toEqual({ value: 7, variant: 'n', reason: 'DEFAULT' });
    // The server key itself is never written down.
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(t.serverKey);
    await context.close();
  });

  it('survives a server outage and catches up from the stream after a restart on the same port', async () => {
    const s = await startTestServer({ heartbeatMs: 1000 });
    try {
      await createFlag(s, 'local-outage', {
        type: 'string',
        variants: [
          { key: 'a', value: 'before' },
          { key: 'b', value: 'after' },
        ],
        default_serve: { variant: 'a' },
      });
      const { page, context } = await openPage(browser, localPage);
      await createClientInPage(page, { serverKey: s.serverKey, baseUrl: s.url, context: { key: 'o' } });
      await page.evaluate(() => window.client.ready());
      const port = s.port;

      await s.stop();
      await page.waitForFunction(() => window.client.status === 'stale', undefined, { timeout: 10_000 });
      expect(await detailInPage(page, 'local-outage', 'x')).toEqual({ value: 'before', variant: 'a', reason: 'STALE' });
      // identify() still works while the server is down: the page has the config.
      await page.evaluate(() => window.client.identify({ key: 'o2' }));
      expect(await detailInPage(page, 'local-outage', 'x')).toMatchObject({ value: 'before', variant: 'a' });

      await s.restart({ port: 0 });
      await admin(s, 'PATCH', '/api/v1/feature-flags/local-outage', { default_serve: { variant: 'b' } });
      await s.restart({ port });
      await waitForValue(page, 'local-outage', 'after', 15_000);
      expect(await detailInPage(page, 'local-outage', 'x')).toEqual({ value: 'after', variant: 'b', reason: 'DEFAULT' });
      expect(await page.evaluate(() => window.client.status)).toBe('ready');

      await admin(s, 'PATCH', '/api/v1/feature-flags/local-outage', { default_serve: { variant: 'a' } });
      await waitForValue(page, 'local-outage', 'before', 1000);
      await context.close();
    } finally {
      await s.cleanup();
    }
  });

  it('sends events with the server key, and a beacon on close', async () => {
    const { page, context } = await openPage(browser, localPage);
    await createClientInPage(page, { serverKey: t.serverKey, baseUrl: t.url, context: { key: 'local-events' }, flushIntervalMs: 600_000 });
    await page.evaluate(() => window.client.ready());
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(() => window.client.track('local-purchase', { value: 3 }));
    await page.close({ runBeforeUnload: true });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 1, 10_000, 'the beaconed event');
    await context.close();
  });
});
