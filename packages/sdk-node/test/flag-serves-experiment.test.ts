import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SwitchyardClient } from '../src/index';
import { booleanFlag, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';

// A boolean flag whose default serve is a running 50/50 experiment: `client.boolean()` is the
// A/B test. A real server, a real client over SSE, exposures through the event endpoint.
describe('a flag served by an experiment, through a real server and the Node SDK', () => {
  let t: TestServer;
  let client: SwitchyardClient;
  const USERS = 1000;

  beforeAll(async () => {
    t = await startTestServer();
    const exp = await t.api('POST', '/api/v1/experiments', {
      key: 'checkout-ab',
      name: 'Checkout A/B',
      variants: [
        { key: 'off', weight: 50 },
        { key: 'on', weight: 50 },
      ],
      metrics: [{ key: 'purchase', type: 'conversion' }],
    });
    expect(exp.status).toBe(201);
    const flag = await t.api(
      'POST',
      '/api/v1/feature-flags',
      booleanFlag('new-checkout', { default_serve: { experiment: 'checkout-ab' } }),
    );
    expect(flag.status, JSON.stringify(flag.body)).toBe(201);
    expect((await t.api('POST', '/api/v1/experiments/checkout-ab/start')).status).toBe(200);
    const published = await t.api('GET', '/sdk/v1/config', undefined, { apiKey: t.serverKey });
    client = createClient({ sdkKey: t.serverKey, baseUrl: t.url, events: { flushIntervalMs: 50, batchSize: 200 } });
    await client.ready({ timeoutMs: 10_000 });
    // Waiting on the version, not on an evaluation: an evaluation would itself record an exposure.
    await until(() => (client.configVersion ?? 0) >= published.body.version, 5000, 'the client to hold the started experiment');
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await t?.cleanup();
  });

  it('splits 1,000 users within binomial bounds and records exactly 1,000 units under the experiment', async () => {
    const before = await t.server.ctx.store.countEvents();
    let on = 0;
    for (let i = 0; i < USERS; i++) {
      const ctx = { key: `user-${i}` };
      const d = client.detail('new-checkout', ctx, false);
      expect(d).toMatchObject({ reason: 'SPLIT', inExperiment: true, experiment: 'checkout-ab' });
      expect(d.value).toBe(d.variant === 'on');
      // The experiment key itself gives the same arm (and the same exposure, deduplicated).
      expect(client.variant('checkout-ab', ctx)).toBe(d.variant);
      // A second evaluation of the flag records nothing new.
      expect(client.boolean('new-checkout', ctx, false)).toBe(d.value);
      if (d.value) on++;
    }
    // 50 % of 1,000: mean 500, sd 15.8; 5 sd either side.
    expect(on).toBeGreaterThanOrEqual(421);
    expect(on).toBeLessThanOrEqual(579);
    await client.flush();
    await until(() => client.stats().events.queued === 0, 10_000, 'exposures delivered');
    expect(await t.server.ctx.store.countEvents()).toBe(before + USERS);
    const results = await t.api('GET', '/api/v1/experiments/checkout-ab/results');
    expect(results.status).toBe(200);
    const variants = results.body.data.variants as { key: string; units: number }[];
    expect(variants.reduce((a, v) => a + v.units, 0)).toBe(USERS);
    expect(variants.find((v) => v.key === 'on')!.units).toBe(on);
    expect(results.body.data.excluded_units).toBe(0);
  });

  it('answers the same through server-side evaluation, /sdk/v1/evaluate and OFREP', async () => {
    const clientKey = (await t.api('POST', '/api/v1/api-keys', { name: 'browser', kind: 'client' })).body.data.attributes.key as string;
    for (const user of ['user-1', 'user-2', 'user-3', 'user-4']) {
      const local = client.detail('new-checkout', { key: user }, false);
      const server = await t.api('GET', `/api/v1/feature-flags/new-checkout/evaluate?user_id=${user}`);
      expect(server.body.data).toEqual({
        key: 'new-checkout',
        value: local.value,
        variant: local.variant,
        reason: 'SPLIT',
        in_experiment: true,
        experiment: 'checkout-ab',
      });
      const remote = await t.api('POST', '/sdk/v1/evaluate', { context: { key: user } }, { apiKey: clientKey });
      expect(remote.body.data.flags['new-checkout']).toEqual({
        value: local.value,
        variant: local.variant,
        reason: 'SPLIT',
        in_experiment: true,
        experiment: 'checkout-ab',
        unit_id: user,
      });
      const ofrep = await t.api(
        'POST',
        '/ofrep/v1/evaluate/flags/new-checkout',
        { context: { targetingKey: user } },
        { apiKey: t.serverKey },
      );
      expect(ofrep.body).toMatchObject({ key: 'new-checkout', value: local.value, variant: local.variant, reason: 'SPLIT' });
      expect(ofrep.body.metadata).toMatchObject({ in_experiment: true, experiment: 'checkout-ab' });
    }
  });

  it('falls through to the off variant once the experiment is paused', async () => {
    expect((await t.api('POST', '/api/v1/experiments/checkout-ab/pause')).status).toBe(200);
    await until(() => client.detail('new-checkout', { key: 'user-1' }, true).reason === 'DEFAULT', 5000, 'the pause to arrive');
    expect(client.detail('new-checkout', { key: 'user-1' }, true)).toEqual({ value: false, variant: 'off', reason: 'DEFAULT' });
  });
});
