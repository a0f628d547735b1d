import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SwitchyardClient } from '../src/index';
import { booleanFlag, startTestServer, type TestServer } from './support/server';
import { waitFor } from './support/wait';

describe('against a real server', () => {
  let t: TestServer;
  const clients: SwitchyardClient[] = [];
  const client = (o: Partial<Parameters<typeof createClient>[0]> = {}) => {
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

  it('becomes ready with the server config and evaluates it', async () => {
    expect((await t.api('POST', '/api/v1/feature-flags', booleanFlag('ready-flag'))).status).toBe(201);
    const c = client();
    expect(c.detail('ready-flag', { key: 'u1' }, false)).toEqual({ value: false, variant: null, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' });
    await c.ready({ timeoutMs: 5000 });
    expect(c.detail('ready-flag', { key: 'u1' }, false)).toEqual({ value: true, variant: 'on', reason: 'DEFAULT' });
  });
});
