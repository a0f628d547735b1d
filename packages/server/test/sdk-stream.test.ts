import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { SseClient } from './sse-client';

const flag = (key: string, extra: Record<string, unknown> = {}) => ({ key, type: 'boolean', enabled: true, ...extra });

describe('SDK config and stream endpoints', () => {
  let t: TestServer;
  const open: SseClient[] = [];
  const sse = async (path: string, headers: Record<string, string> = {}) => {
    const c = await new SseClient(t.url + path, headers).open();
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestServer({ heartbeatMs: 150, sseReplayCapacity: 3 });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await t.stop();
  });

  it('serves the config document with an ETag and answers If-None-Match with 304', async () => {
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: flag('cfg-a') });
    const r = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
    expect(r.status).toBe(200);
    expect(r.body.schema_version).toBe(1);
    expect(r.body.flags['cfg-a'].enabled).toBe(true);
    const etag = r.headers.get('etag');
    expect(etag).toBe(`"v${r.body.version}"`);
    const again = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey, headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    await t.request('PATCH', '/api/v1/feature-flags/cfg-a', { token: t.adminToken, body: { enabled: false } });
    const changed = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey, headers: { 'if-none-match': etag! } });
    expect(changed.status).toBe(200);
    expect(changed.body.version).toBeGreaterThan(r.body.version);
  });

  it('keeps the config document away from client keys and the management API away from SDK keys', async () => {
    expect((await t.request('GET', '/sdk/v1/config', { apiKey: t.clientKey })).status).toBe(403);
    expect((await t.request('GET', '/sdk/v1/config', { token: t.adminToken })).status).toBe(403);
    expect((await t.request('GET', '/sdk/v1/config')).status).toBe(401);
  });

  it('streams a put on connect and a patch per change, with id = version and a retry hint', async () => {
    const c = await sse('/sdk/v1/stream', { 'x-api-key': t.serverKey });
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toContain('text/event-stream');
    await c.until(() => c.events.length >= 1);
    const put = c.events[0]!;
    expect(put.event).toBe('put');
    expect(Number(put.id)).toBe(put.data.version);
    expect(c.retry).toBeGreaterThan(0);
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: flag('live-1') });
    await c.until(() => c.events.some((e) => e.event === 'patch' && e.data.flags?.['live-1']));
    const patch = c.events.find((e) => e.event === 'patch')!;
    expect(Number(patch.id)).toBe(put.data.version + 1);
    expect(patch.data.flags['live-1'].key).toBe('live-1');
    await t.request('DELETE', '/api/v1/feature-flags/live-1', { token: t.adminToken });
    await c.until(() => c.events.some((e) => e.event === 'patch' && e.data.flags?.['live-1'] === null));
  });

  it('sends heartbeats as a named event carrying the config version, and as a comment for older clients', async () => {
    const c = await sse('/sdk/v1/stream', { authorization: `Bearer ${t.serverKey}` });
    await c.until(() => c.comments.includes('heartbeat') && c.heartbeats.length > 0, 3000);
    const version = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body.version as number;
    expect(c.heartbeats.at(-1)).toBe(version);
  });

  it('replays patches after Last-Event-ID, and sends a put when they are gone', async () => {
    const v0 = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body.version as number;
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: flag('replay-1') });
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: flag('replay-2') });
    const c = await sse('/sdk/v1/stream', { 'x-api-key': t.serverKey, 'last-event-id': String(v0) });
    await c.until(() => c.events.length >= 2);
    expect(c.events.map((e) => [e.event, Number(e.id)])).toEqual([
      ['patch', v0 + 1],
      ['patch', v0 + 2],
    ]);
    expect(c.events[1]!.data.flags['replay-2'].key).toBe('replay-2');
    // The ring holds 3 patches: four more changes push v0's successors out.
    for (let i = 0; i < 4; i++)
      await t.request('PATCH', '/api/v1/feature-flags/replay-1', { token: t.adminToken, body: { name: `n${i}` } });
    const late = await sse(`/sdk/v1/stream?key=${t.serverKey}`, { 'last-event-id': String(v0) });
    await late.until(() => late.events.length >= 1);
    expect(late.events[0]!.event).toBe('put');
    expect(late.events[0]!.data.flags['replay-1'].name).toBe('n3');
    const current = await sse('/sdk/v1/stream', { 'x-api-key': t.serverKey, 'last-event-id': late.events[0]!.id! });
    await current.until(() => current.comments.includes('heartbeat'), 3000);
    expect(current.events).toEqual([]);
  });

  it('gives client keys re-evaluated results for their context, never rules or segments', async () => {
    await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'vip', included: ['secret-user-list-entry'] } });
    await t.request('POST', '/api/v1/feature-flags', {
      token: t.adminToken,
      body: flag('remote-1', {
        rules: [
          { id: 'de', when: { attr: 'country', op: 'eq', values: ['DE'] }, serve: { variant: 'on' } },
          { id: 'vip', when: { segment: 'vip' }, serve: { variant: 'on' } },
        ],
        default_serve: { variant: 'off' },
      }),
    });
    const ctx = Buffer.from(JSON.stringify({ key: 'u-remote', country: 'DE' })).toString('base64url');
    const c = await sse(`/sdk/v1/stream?key=${t.clientKey}&context=${ctx}`);
    await c.until(() => c.events.length >= 1);
    expect(c.events[0]!.event).toBe('put');
    expect(c.events[0]!.data.flags['remote-1']).toEqual({ value: true, variant: 'on', reason: 'TARGETING_MATCH', rule_id: 'de' });
    await t.request('PATCH', '/api/v1/feature-flags/remote-1', { token: t.adminToken, body: { enabled: false } });
    await c.until(() => c.events.some((e) => e.event === 'patch'));
    const patch = c.events.find((e) => e.event === 'patch')!;
    expect(patch.data.flags).toEqual({ 'remote-1': { value: false, variant: 'off', reason: 'DISABLED' } });
    const evaluated = await t.request('POST', '/sdk/v1/evaluate', {
      apiKey: t.clientKey,
      body: { context: { key: 'u-remote', country: 'DE' } },
    });
    expect(evaluated.status).toBe(200);
    expect(evaluated.body.data.flags['remote-1'].reason).toBe('DISABLED');
    const wire = JSON.stringify([c.events, evaluated.body]);
    expect(wire).not.toContain('secret-user-list-entry');
    expect(wire).not.toContain('"rules"');
    expect(wire).not.toContain('"when"');
  });

  it('rejects a client stream without a context', async () => {
    const r = await t.request('GET', `/sdk/v1/stream?key=${t.clientKey}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('drops a client that stops reading without slowing the others', async () => {
    // Segments of ~300 KB each: above the default per-entry config limit, which is not what this test is about.
    const slowServer = await startTestServer({ sseMaxBufferBytes: 64 * 1024, heartbeatMs: 60_000, maxFlagBytes: 1024 * 1024 });
    try {
      const { request } = await import('node:http');
      const stalled = request(`${slowServer.url}/sdk/v1/stream`, { headers: { 'x-api-key': slowServer.serverKey } });
      stalled.on('response', (res) => res.pause());
      stalled.on('error', () => {});
      stalled.end();
      const healthy = await new SseClient(`${slowServer.url}/sdk/v1/stream`, { 'x-api-key': slowServer.serverKey }).open();
      await healthy.until(() => healthy.events.length >= 1);
      await vi.waitFor(() => expect(slowServer.server.ctx.hub.size).toBe(2));
      // ~12 MB of patches: more than the kernel's socket buffers can hide from the server.
      const included = Array.from({ length: 25_000 }, (_, j) => `unit-${j}`);
      for (let i = 0; i < 40; i++) {
        const r = await slowServer.request('POST', '/api/v1/segments', {
          token: slowServer.adminToken,
          body: { key: `seg-${i}`, included },
        });
        expect(r.status).toBe(201);
      }
      await healthy.until(() => healthy.events.filter((e) => e.event === 'patch').length >= 40, 90_000);
      expect(healthy.closed).toBe(false);
      expect(slowServer.server.ctx.hub.size).toBe(1);
      healthy.close();
      stalled.destroy();
    } finally {
      await slowServer.stop();
    }
  }, 120_000);
});

describe('remote evaluation details', () => {
  it('takes any JSON object as context and names the unit of an enrolled experiment', async () => {
    const t = await startTestServer();
    try {
      await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: {
          key: 'by-company',
          bucket_by: 'company_id',
          variants: [
            { key: 'control', weight: 50 },
            { key: 'b', weight: 50 },
          ],
        },
      });
      await t.request('POST', '/api/v1/experiments/by-company/start', { token: t.adminToken });
      const r = await t.request('POST', '/sdk/v1/evaluate', {
        apiKey: t.clientKey,
        body: { context: { key: 'user-9', company_id: 'acme' } },
      });
      expect(r.body.data.flags['by-company']).toMatchObject({ reason: 'SPLIT', in_experiment: true, unit_id: 'acme' });
      const none = await t.request('POST', '/sdk/v1/evaluate', { apiKey: t.clientKey, body: { context: { key: null } } });
      expect(none.status).toBe(200);
      expect(none.body.data.flags['by-company']).toEqual({ value: null, variant: null, reason: 'DEFAULT', in_experiment: false });
      const proto = await t.request('POST', '/sdk/v1/evaluate', {
        apiKey: t.clientKey,
        raw: '{"context": {"key": "u", "__proto__": {"x": 1}}}',
        headers: { 'content-type': 'application/json' },
      });
      expect(proto.status).toBe(200);
      expect((await t.request('POST', '/sdk/v1/evaluate', { apiKey: t.clientKey, body: { context: [] } })).status).toBe(400);
    } finally {
      await t.stop();
    }
  });

  it('rate-limits a client key per visitor, so one visitor cannot exhaust it for all', async () => {
    const t = await startTestServer({ apiRateBurst: 3, apiRatePerSecond: 0.001, trustProxy: true });
    try {
      const ask = (ip: string) =>
        t.request('POST', '/sdk/v1/evaluate', { apiKey: t.clientKey, headers: { 'x-forwarded-for': ip }, body: { context: { key: 'u' } } });
      for (let i = 0; i < 3; i++) expect((await ask('203.0.113.1')).status).toBe(200);
      expect((await ask('203.0.113.1')).status).toBe(429);
      expect((await ask('203.0.113.2')).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});

describe('SDK streams at shutdown', () => {
  it('ends a stream that opens after shutdown began, so closing the server does not wait on it', async () => {
    const t = await startTestServer();
    try {
      // What a stream request still being authenticated when close() ended the others meets.
      t.server.ctx.hub.close();
      const res = await fetch(`${t.url}/sdk/v1/stream`, { headers: { 'x-api-key': t.serverKey } });
      expect(res.status).toBe(200);
      // The body ends instead of staying open for the next heartbeat that will never come.
      expect(await res.text()).toBe('');
    } finally {
      await t.stop();
    }
  });
});
