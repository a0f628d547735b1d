import { OpenFeature, ProviderEvents, ProviderStatus, type EventDetails } from '@openfeature/server-sdk';
import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../src/index';
import { SwitchyardProvider, toSwitchyardContext } from '../src/openfeature/index';
import { BASE, doc, fakeSwitchyard } from './support/fake-switchyard';
import { booleanFlag, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('OpenFeature provider with a real server', () => {
  let t: TestServer;
  let provider: SwitchyardProvider;

  beforeAll(async () => {
    OpenFeature.setLogger(silent);
    t = await startTestServer({ heartbeatMs: 200 });
    await t.api('POST', '/api/v1/segments', { key: 'staff', included: ['boss'] });
    await t.api(
      'POST',
      '/api/v1/feature-flags',
      booleanFlag('of-bool', {
        rules: [{ id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'on' } }],
        default_serve: { variant: 'off' },
      }),
    );
    await t.api('POST', '/api/v1/feature-flags', {
      key: 'of-string',
      type: 'string',
      enabled: true,
      variants: [
        { key: 'a', value: 'alpha' },
        { key: 'b', value: 'beta' },
      ],
      default_serve: { variant: 'b' },
    });
    await t.api('POST', '/api/v1/feature-flags', {
      key: 'of-number',
      type: 'number',
      enabled: true,
      variants: [{ key: 'n', value: 42 }],
      default_serve: { variant: 'n' },
    });
    await t.api('POST', '/api/v1/feature-flags', {
      key: 'of-json',
      type: 'json',
      enabled: true,
      variants: [{ key: 'j', value: { color: 'red', sizes: [1, 2] } }],
      default_serve: { variant: 'j' },
    });
    await t.api(
      'POST',
      '/api/v1/feature-flags',
      booleanFlag('of-split', {
        default_serve: {
          split: [
            { variant: 'on', weight: 50 },
            { variant: 'off', weight: 50 },
          ],
        },
      }),
    );
    await t.api('POST', '/api/v1/experiments', {
      key: 'of-exp',
      variants: [
        { key: 'control', weight: 50 },
        { key: 'treatment', weight: 50, value: 'new' },
      ],
    });
    await t.api('POST', '/api/v1/experiments/of-exp/start');
    provider = new SwitchyardProvider({ sdkKey: t.serverKey, baseUrl: t.url, events: { flushIntervalMs: 50 } });
    await OpenFeature.setProviderAndWait(provider);
  });

  afterAll(async () => {
    await OpenFeature.close();
    await t.cleanup();
  });

  it('is READY after setProviderAndWait and identifies itself', () => {
    const of = OpenFeature.getClient();
    expect(of.providerStatus).toBe(ProviderStatus.READY);
    expect(of.metadata.providerMetadata.name).toBe('switchyard');
  });

  it('resolves every type with variant, reason and metadata; targetingKey is the unit key', async () => {
    const of = OpenFeature.getClient();
    const b = await of.getBooleanDetails('of-bool', false, { targetingKey: 'user-1', country: 'US' });
    expect(b).toMatchObject({ flagKey: 'of-bool', value: true, variant: 'on', reason: 'TARGETING_MATCH', flagMetadata: { ruleId: 'us' } });
    expect(b.errorCode).toBeUndefined();
    expect(await of.getBooleanDetails('of-bool', true, { targetingKey: 'user-1', country: 'FR' })).toMatchObject({
      value: false,
      variant: 'off',
      reason: 'DEFAULT',
    });
    expect(await of.getStringDetails('of-string', 'x', { targetingKey: 'u' })).toMatchObject({
      value: 'beta',
      variant: 'b',
      reason: 'DEFAULT',
    });
    expect(await of.getNumberDetails('of-number', 0, { targetingKey: 'u' })).toMatchObject({ value: 42, variant: 'n' });
    expect(await of.getObjectDetails('of-json', {}, { targetingKey: 'u' })).toMatchObject({
      value: { color: 'red', sizes: [1, 2] },
      variant: 'j',
    });
    // The split buckets by targetingKey: the same answer as the SDK's own API for { key }.
    for (const unit of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const d = await of.getBooleanDetails('of-split', false, { targetingKey: unit });
      expect(d.reason).toBe('SPLIT');
      expect(d.value).toBe(provider.client.boolean('of-split', { key: unit }, false));
    }
  });

  it('maps error codes 1:1 and returns the default', async () => {
    const of = OpenFeature.getClient();
    expect(await of.getBooleanDetails('missing', true, { targetingKey: 'u' })).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await of.getNumberDetails('of-bool', 7, { targetingKey: 'u' })).toMatchObject({
      value: 7,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(await of.getBooleanDetails('of-split', false, {})).toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: 'TARGETING_KEY_MISSING',
    });
  });

  it('evaluates experiments and records one exposure per unit', async () => {
    const of = OpenFeature.getClient();
    const before = await t.server.ctx.store.countEvents();
    const d = await of.getStringDetails('of-exp', 'none', { targetingKey: 'unit-9' });
    expect(d.reason).toBe('SPLIT');
    expect(['control', 'new']).toContain(d.value);
    expect(d.flagMetadata.inExperiment).toBe(true);
    await of.getStringDetails('of-exp', 'none', { targetingKey: 'unit-9' });
    await provider.client.flush();
    await until(async () => (await t.server.ctx.store.countEvents()) === before + 1, 3000, 'one exposure stored');
  });

  it('tracks through OpenFeature: value and the other details as properties', async () => {
    const of = OpenFeature.getClient();
    const before = await t.server.ctx.store.countEvents();
    const delivered = provider.client.stats().events.delivered;
    of.track('purchase', { targetingKey: 'user-1' }, { value: 9.5, currency: 'EUR' });
    await provider.client.flush();
    await until(() => provider.client.stats().events.delivered === delivered + 1, 3000, 'tracking event delivered');
    expect(await t.server.ctx.store.countEvents()).toBe(before + 1);
  });

  it('emits CONFIGURATION_CHANGED with flagsChanged when a flag changes', async () => {
    const changed: EventDetails[] = [];
    const handler = (d?: EventDetails) => {
      if (d) changed.push(d);
    };
    OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, handler);
    try {
      await t.api('PATCH', '/api/v1/feature-flags/of-bool', { enabled: false });
      await until(() => changed.some((c) => (c.flagsChanged as string[] | undefined)?.includes('of-bool')), 2000, 'CONFIGURATION_CHANGED');
      expect(await OpenFeature.getClient().getBooleanDetails('of-bool', true, { targetingKey: 'u', country: 'US' })).toMatchObject({
        value: false,
        reason: 'DISABLED',
      });
    } finally {
      OpenFeature.removeHandler(ProviderEvents.ConfigurationChanged, handler);
    }
  });
});

describe('OpenFeature provider events without a real server', () => {
  afterEach(async () => {
    await OpenFeature.close();
  });

  it('reports ERROR when initialization times out, then READY when the config arrives', async () => {
    OpenFeature.setLogger(silent);
    const fake = fakeSwitchyard();
    try {
      const provider = new SwitchyardProvider({ sdkKey: 'k', baseUrl: BASE, fetch: fake.fetch }, { readyTimeoutMs: 100 });
      const seen: string[] = [];
      OpenFeature.addHandler(ProviderEvents.Error, () => seen.push('error'));
      OpenFeature.addHandler(ProviderEvents.Ready, () => seen.push('ready'));
      await expect(OpenFeature.setProviderAndWait(provider)).rejects.toThrow(/no config/);
      expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.ERROR);
      const s = await fake.stream(1);
      s.put(
        doc(1, {
          f: { key: 'f', type: 'boolean', enabled: true, variants: [{ key: 'on', value: true }], default_serve: { variant: 'on' } },
        }),
      );
      await until(() => OpenFeature.getClient().providerStatus === ProviderStatus.READY, 2000, 'READY');
      // (OpenFeature also runs a READY handler at once when added while the current provider is ready.)
      expect(seen.slice(seen.indexOf('error'))).toEqual(['error', 'ready']);
      expect(await OpenFeature.getClient().getBooleanValue('f', false, { targetingKey: 'u' })).toBe(true);
    } finally {
      fake.close();
    }
  });

  it('reports STALE on silence and READY again on recovery', async () => {
    OpenFeature.setLogger(silent);
    const fake = fakeSwitchyard();
    try {
      const provider = new SwitchyardProvider({
        sdkKey: 'k',
        baseUrl: BASE,
        fetch: fake.fetch,
        staleAfterMs: 200,
        reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
      });
      const init = OpenFeature.setProviderAndWait(provider);
      (await fake.stream(1)).put(doc(1));
      await init;
      const seen: string[] = [];
      OpenFeature.addHandler(ProviderEvents.Stale, () => seen.push('stale'));
      OpenFeature.addHandler(ProviderEvents.Ready, () => seen.push('ready'));
      const s2 = await fake.stream(2, 2000);
      await until(() => OpenFeature.getClient().providerStatus === ProviderStatus.STALE, 1000, 'STALE');
      s2.write(': heartbeat\n\n');
      await until(() => OpenFeature.getClient().providerStatus === ProviderStatus.READY, 1000, 'READY again');
      expect(seen.slice(seen.indexOf('stale'))).toEqual(['stale', 'ready']);
    } finally {
      fake.close();
    }
  });

  it('reports a fatal ERROR for a refused key', async () => {
    OpenFeature.setLogger(silent);
    const fake = fakeSwitchyard();
    fake.onStream = () => HttpResponse.json({ error: { code: 'AUTHENTICATION_REQUIRED' } }, { status: 401 });
    try {
      const provider = new SwitchyardProvider({ sdkKey: 'k', baseUrl: BASE, fetch: fake.fetch });
      await expect(OpenFeature.setProviderAndWait(provider)).rejects.toThrow();
      expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.FATAL);
    } finally {
      fake.close();
    }
  });

  it('shares an existing client without closing it, and maps contexts', async () => {
    const client = createClient({ offline: true, bootstrap: doc(1) as never });
    const provider = new SwitchyardProvider(client);
    await OpenFeature.setProviderAndWait(provider);
    await OpenFeature.close();
    expect(client.isReady).toBe(true);
    expect(toSwitchyardContext({ targetingKey: 'u', plan: 'pro' })).toEqual({ key: 'u', plan: 'pro' });
    expect(toSwitchyardContext({ key: 'k' })).toEqual({ key: 'k' });
    expect(toSwitchyardContext(undefined)).toEqual({});
    await client.close();
  });
});
