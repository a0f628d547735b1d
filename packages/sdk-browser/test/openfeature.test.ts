import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage } from './support/browser';
import { startStaticServer, type StaticServer } from './support/static-server';
import { admin, createFlag, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';

// esbuild comes with tsup (a root devDependency): bundle the web SDK, the OFREP provider and
// the built provider into one script for the page.
const esbuild = createRequire(createRequire(import.meta.url).resolve('tsup'))('esbuild') as {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { contents: Uint8Array }[] }>;
};

type OFWindow = Window & { OF: any; events: { type: string; flags?: string[] | undefined }[]; of: any };

describe('OpenFeature web provider in Chromium', () => {
  let t: TestServer;
  let web: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    [t, web, browser] = await Promise.all([startTestServer({ heartbeatMs: 1000 }), startStaticServer(), launchBrowser()]);
    const bundle = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./fixtures/openfeature-entry.ts', import.meta.url))],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    web.route('/of.js', 'text/javascript', Buffer.from(bundle.outputFiles[0]!.contents));
    web.route(
      '/of.html',
      'text/html',
      '<!doctype html><html><head><meta charset="utf-8"><script src="/of.js"></script></head><body></body></html>',
    );
    await createFlag(t, 'of-bool', {
      rules: [{ id: 'pro', when: { attr: 'plan', op: 'eq', values: ['pro'] }, serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    });
    await createFlag(t, 'of-string', { type: 'string', variants: [{ key: 'a', value: 'alpha' }] });
    await createFlag(t, 'of-number', { type: 'number', variants: [{ key: 'n', value: 42 }] });
    await createFlag(t, 'of-object', { type: 'json', variants: [{ key: 'o', value: { size: 'L' } }] });
    await admin(t, 'POST', '/api/v1/experiments', {
      key: 'of-exp',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'treatment', weight: 50 },
      ],
    });
    await admin(t, 'POST', '/api/v1/experiments/of-exp/start');
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await t?.cleanup();
  });

  /** Sets the global context and our provider, and records provider events. */
  const setUp = async (page: Page, provider: 'remote' | 'local', targetingKey = 'user-1', plan = 'pro') => {
    await page.evaluate(
      async ({ url, clientKey, serverKey, provider, targetingKey, plan }) => {
        const w = window as unknown as OFWindow;
        const { OpenFeature, ProviderEvents, SwitchyardWebProvider, createLocalClient } = w.OF;
        w.events = [];
        await OpenFeature.setContext({ targetingKey, plan });
        const p =
          provider === 'remote'
            ? new SwitchyardWebProvider({ clientKey, baseUrl: url, flushIntervalMs: 100 })
            : new SwitchyardWebProvider({
                client: (context: object) => createLocalClient({ serverKey, baseUrl: url, context, flushIntervalMs: 100 }),
              });
        for (const type of [ProviderEvents.ConfigurationChanged, ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.Ready]) {
          OpenFeature.addHandler(type, (e: { flagsChanged?: string[] }) => w.events.push({ type, flags: e?.flagsChanged }));
        }
        await OpenFeature.setProviderAndWait(p);
        w.of = OpenFeature.getClient();
      },
      { url: t.url, clientKey: t.clientKey, serverKey: t.serverKey, provider, targetingKey, plan },
    );
  };

  const details = (page: Page) =>
    page.evaluate(() => {
      const c = (window as unknown as OFWindow).of;
      const pick = (d: any) => ({
        value: d.value,
        variant: d.variant,
        reason: d.reason,
        errorCode: d.errorCode,
        flagMetadata: d.flagMetadata,
      });
      return {
        bool: pick(c.getBooleanDetails('of-bool', false)),
        string: pick(c.getStringDetails('of-string', 'x')),
        number: pick(c.getNumberDetails('of-number', 0)),
        object: pick(c.getObjectDetails('of-object', {})),
        missing: pick(c.getBooleanDetails('of-missing', true)),
        mismatch: pick(c.getNumberDetails('of-string', 5)),
        experiment: pick(c.getStringDetails('of-exp', 'none')),
      };
    });

  for (const mode of ['remote', 'local'] as const) {
    it(`resolves every type with reasons, variants and metadata (${mode} client)`, async () => {
      const { page, context, errors } = await openPage(browser, `${web.url}/of.html`);
      await setUp(page, mode);
      const d = await details(page);
      expect(d.bool).toEqual({ value: true, variant: 'on', reason: 'TARGETING_MATCH', flagMetadata: { ruleId: 'pro' } });
      expect(d.string).toEqual({ value: 'alpha', variant: 'a', reason: 'DEFAULT', flagMetadata: {} });
      expect(d.number).toEqual({ value: 42, variant: 'n', reason: 'DEFAULT', flagMetadata: {} });
      expect(d.object).toEqual({ value: { size: 'L' }, variant: 'o', reason: 'DEFAULT', flagMetadata: {} });
      expect(d.missing).toEqual({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', flagMetadata: {} });
      expect(d.mismatch).toEqual({ value: 5, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', flagMetadata: {} });
      expect(d.experiment).toMatchObject({ reason: 'SPLIT', flagMetadata: { inExperiment: true } });
      expect(['control', 'treatment']).toContain(d.experiment.value);
      expect(errors).toEqual([]);
      await context.close();
    });
  }

  it('re-evaluates on a context change and emits ConfigurationChanged on a config change', async () => {
    const { page, context } = await openPage(browser, `${web.url}/of.html`);
    await setUp(page, 'remote');
    await page.evaluate(() => (window as unknown as OFWindow).OF.OpenFeature.setContext({ targetingKey: 'user-1', plan: 'free' }));
    expect(await page.evaluate(() => (window as unknown as OFWindow).of.getBooleanDetails('of-bool', true).value)).toBe(false);

    await admin(t, 'PATCH', '/api/v1/feature-flags/of-string', { variants: [{ key: 'a', value: 'beta' }] });
    await page.waitForFunction(
      () =>
        (window as unknown as OFWindow).events.some((e) => e.type === 'PROVIDER_CONFIGURATION_CHANGED' && e.flags?.includes('of-string')),
      undefined,
      { timeout: 1000 },
    );
    expect(await page.evaluate(() => (window as unknown as OFWindow).of.getStringValue('of-string', 'x'))).toBe('beta');
    await admin(t, 'PATCH', '/api/v1/feature-flags/of-string', { variants: [{ key: 'a', value: 'alpha' }] });
    await context.close();
  });

  it('sends tracking events and one exposure through the provider', async () => {
    const { page, context } = await openPage(browser, `${web.url}/of.html`);
    await setUp(page, 'remote', 'of-tracker');
    const before = await t.server.ctx.store.countEvents();
    await page.evaluate(() => {
      const c = (window as unknown as OFWindow).of;
      c.getStringValue('of-exp', 'none');
      c.getStringValue('of-exp', 'none');
      c.track('of-purchase', { value: 9.5, sku: 'A' });
    });
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 2, 10_000, 'exposure and track');
    await context.close();
  });

  it('agrees with the OFREP web provider on the same flags', async () => {
    const { page, context } = await openPage(browser, `${web.url}/of.html`);
    await setUp(page, 'remote', 'user-1', 'pro');
    const both = await page.evaluate(
      async ({ url, clientKey }) => {
        const w = window as unknown as OFWindow;
        const { OpenFeature, OFREPWebProvider } = w.OF;
        await OpenFeature.setProviderAndWait(
          'ofrep',
          new OFREPWebProvider({ baseUrl: url, headers: [['Authorization', `Bearer ${clientKey}`]], pollInterval: 0 }),
        );
        const ofrep = OpenFeature.getClient('ofrep');
        const keys: [string, string, unknown][] = [
          ['of-bool', 'Boolean', false],
          ['of-string', 'String', 'x'],
          ['of-number', 'Number', 0],
          ['of-object', 'Object', {}],
        ];
        return keys.map(([k, type, d]) => {
          const a = w.of[`get${type}Details`](k, d);
          const b = ofrep[`get${type}Details`](k, d);
          return [k, { value: a.value, variant: a.variant, reason: a.reason }, { value: b.value, variant: b.variant, reason: b.reason }];
        });
      },
      { url: t.url, clientKey: t.clientKey },
    );
    for (const [, ours, theirs] of both) expect(ours).toEqual(theirs);
    await context.close();
  });

  it('reports a bad key as a fatal provider error, not a throw at evaluation', async () => {
    const { page, context } = await openPage(browser, `${web.url}/of.html`);
    const r = await page.evaluate(
      async ({ url }) => {
        const w = window as unknown as OFWindow;
        const { OpenFeature, SwitchyardWebProvider } = w.OF;
        await OpenFeature.setContext({ targetingKey: 'u' });
        await OpenFeature.setProviderAndWait(new SwitchyardWebProvider({ clientKey: 'sy_cli_wrong', baseUrl: url })).catch(() => undefined);
        const c = OpenFeature.getClient();
        const d = c.getBooleanDetails('of-bool', true);
        return { status: c.providerStatus, value: d.value, errorCode: d.errorCode };
      },
      { url: t.url },
    );
    expect(r).toEqual({ status: 'FATAL', value: true, errorCode: 'PROVIDER_FATAL' });
    await context.close();
  });
});
