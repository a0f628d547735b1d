import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

describe('server smoke', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers health, ready, metrics and the OpenAPI document', async () => {
    expect((await t.request('GET', '/health')).body).toEqual({ data: { status: 'ok' } });
    const ready = await t.request('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.data.status).toBe('ready');
    const openapi = await t.request('GET', '/api/v1/openapi.json');
    expect(openapi.body.openapi).toBe('3.0.3');
    expect(Object.keys(openapi.body.paths)).toContain('/api/v1/feature-flags/{id}');
    // Every $ref resolves inside the document (zod's local definitions are hoisted into components).
    const refs: string[] = [];
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n !== null && typeof n === 'object')
        for (const [k, v] of Object.entries(n)) {
          if (k === '$ref') refs.push(v as string);
          else walk(v);
        }
    };
    walk(openapi.body);
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<any>((node, part) => node?.[part], openapi.body);
      expect(target, ref).toBeDefined();
    }
    await t.request('GET', '/api/v1/feature-flags/x', { token: t.adminToken });
    const metrics = await t.request('GET', '/metrics');
    expect(metrics.body).toContain('route="/api/v1/feature-flags/:id"');
    expect(metrics.body).not.toContain('route="/api/v1/feature-flags/x"');
  });

  it('creates a flag and evaluates it on the server', async () => {
    const created = await t.request('POST', '/api/v1/feature-flags', {
      token: t.adminToken,
      body: {
        key: 'smoke-flag',
        type: 'boolean',
        enabled: true,
        rules: [{ id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'on' } }],
        default_serve: { variant: 'off' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.type).toBe('feature-flag');
    expect(created.body.data.attributes.off_variant).toBe('off');
    const us = await t.request('GET', '/api/v1/feature-flags/smoke-flag/evaluate?user_id=u1&country=US', { apiKey: t.serverKey });
    expect(us.body.data).toMatchObject({ key: 'smoke-flag', value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    const other = await t.request('GET', '/api/v1/feature-flags/smoke-flag/evaluate?user_id=u1&country=FR', { apiKey: t.clientKey });
    expect(other.body.data).toMatchObject({ value: false, variant: 'off', reason: 'DEFAULT' });
  });
});

describe('start-up failure', () => {
  it('rejects with the listen error and releases what it opened', async () => {
    const first = await startTestServer();
    try {
      await expect(startTestServer({ port: first.server.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.stop();
    }
  });
});
