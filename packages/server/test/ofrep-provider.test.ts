import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { seed } from './ofrep-seed';

describe('OFREP with @openfeature/ofrep-provider and @openfeature/server-sdk', () => {
  let t: TestServer;
  let of: Client;
  let denied: Client;

  beforeAll(async () => {
    t = await startTestServer();
    await seed(t);
    await OpenFeature.setProviderAndWait(
      'switchyard',
      new OFREPProvider({ baseUrl: t.url, headers: { Authorization: `Bearer ${t.clientKey}` } }),
    );
    await OpenFeature.setProviderAndWait('switchyard-bad-key', new OFREPProvider({ baseUrl: t.url, headers: [['X-API-Key', 'sy_wrong']] }));
    of = OpenFeature.getClient('switchyard');
    denied = OpenFeature.getClient('switchyard-bad-key');
  });
  afterAll(async () => {
    await OpenFeature.close();
    await t.stop();
  });

  it('evaluates boolean, string, number and object flags with targeting', async () => {
    const b = await of.getBooleanDetails('of-bool', false, { targetingKey: 'u1', country: 'US' });
    expect(b).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH', flagMetadata: { rule_id: 'us' } });
    expect(b.errorCode).toBeUndefined();
    expect(await of.getBooleanValue('of-bool', true, { targetingKey: 'u1', country: 'FR' })).toBe(false);

    expect(await of.getStringValue('of-string', 'none', { targetingKey: 'u1', plan: 'pro' })).toBe('green');
    expect(await of.getStringValue('of-string', 'none', { targetingKey: 'u1', plan: 'free' })).toBe('blue');

    const n = await of.getNumberDetails('of-number', 0, { targetingKey: 'vip-user' });
    expect(n).toMatchObject({ value: 99.5, variant: 'high', reason: 'TARGETING_MATCH' });
    expect(await of.getNumberValue('of-number', 0, { targetingKey: 'someone' })).toBe(10);

    expect(await of.getObjectValue('of-json', {}, { targetingKey: 'u1' })).toEqual({ theme: 'dark', max: 3 });
  });

  it('evaluates an experiment key and splits deterministically', async () => {
    const d = await of.getStringDetails('of-exp', 'fallback', { targetingKey: 'user-3', country: 'US' });
    expect(d.reason).toBe('SPLIT');
    expect(d.flagMetadata).toMatchObject({ in_experiment: true });
    expect(['old', 'new']).toContain(d.value);
    expect(await of.getStringValue('of-exp', 'fallback', { targetingKey: 'user-3', country: 'US' })).toBe(d.value);
    const s = await of.getBooleanDetails('of-split', false, { targetingKey: 'unit-7' });
    expect(s.reason).toBe('SPLIT');
  });

  it('returns the default with FLAG_NOT_FOUND for an unknown flag', async () => {
    const d = await of.getBooleanDetails('no-such-flag', true, { targetingKey: 'u1' });
    expect(d).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
  });

  it('returns the default with TARGETING_KEY_MISSING for a split without a targeting key', async () => {
    const d = await of.getBooleanDetails('of-split', true, {});
    expect(d).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
  });

  it('returns the default with TYPE_MISMATCH when the code asks for another type', async () => {
    const d = await of.getNumberDetails('of-string', 7, { targetingKey: 'u1' });
    expect(d).toMatchObject({ value: 7, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
  });

  it('returns the code default for a disabled flag without an off variant, and outside an experiment', async () => {
    expect(await of.getStringValue('of-dark', 'code-default', { targetingKey: 'u1' })).toBe('code-default');
    expect(await of.getStringValue('of-exp', 'code-default', { targetingKey: 'u1', country: 'FR' })).toBe('code-default');
  });

  it('returns the default with an error when the key is rejected', async () => {
    const d = await denied.getBooleanDetails('of-bool', false, { targetingKey: 'u1', country: 'US' });
    expect(d.value).toBe(false);
    expect(d.reason).toBe('ERROR');
    expect(d.errorCode).toBeDefined();
  });
});
