import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startReceiver, type Receiver } from './webhook-receiver';

const FAST = {
  env: { SWITCHYARD_WEBHOOK_ALLOW_PRIVATE: '1' },
  webhookRetryBaseMs: 40,
  webhookRetryMaxDelayMs: 200,
  webhookPollMs: 25,
  webhookTimeoutMs: 2000,
};

describe('webhooks API', () => {
  let t: TestServer;
  let r: Receiver;
  beforeAll(async () => {
    t = await startTestServer({ ...FAST, webhookRetryWindowMs: 400, webhookDisableAfterFailures: 1_000_000 });
    r = await startReceiver();
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await r?.close();
  });
  const admin = (method: string, path: string, body?: unknown) =>
    t.request(method, `/api/v1${path}`, { token: t.adminToken, ...(body !== undefined ? { body } : {}) });

  it('ADMIN creates, reads, changes and deletes webhooks; the secret is shown once; everything is audited', async () => {
    const created = await admin('POST', '/webhooks', { url: r.url, events: ['flag.updated'], description: 'ops' });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    expect(created.body.data.type).toBe('webhook');
    expect(created.body.data.attributes).toMatchObject({
      url: r.url,
      events: ['flag.updated'],
      enabled: true,
      description: 'ops',
      version: 1,
    });
    const secret = created.body.data.attributes.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);

    const read = await admin('GET', `/webhooks/${id}`);
    expect(read.body.data.attributes.secret).toBeUndefined();
    expect(JSON.stringify((await admin('GET', '/webhooks')).body)).not.toContain(secret);

    const patched = await admin('PATCH', `/webhooks/${id}`, { events: ['flag.created', 'experiment.status_changed'], enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body.data.attributes).toMatchObject({
      events: ['flag.created', 'experiment.status_changed'],
      enabled: false,
      version: 2,
    });

    const rotated = await admin('POST', `/webhooks/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.attributes.secret).toMatch(/^whsec_/);
    expect(rotated.body.data.attributes.secret).not.toBe(secret);

    expect((await admin('DELETE', `/webhooks/${id}`)).status).toBe(204);
    expect((await admin('GET', `/webhooks/${id}`)).status).toBe(404);

    const audit = (await admin('GET', `/audit-log?resource_type=webhook&resource_id=${id}`)).body.data as { attributes: any }[];
    expect(audit.map((a) => a.attributes.action).sort()).toEqual([
      'webhook.create',
      'webhook.delete',
      'webhook.rotate_secret',
      'webhook.update',
    ]);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('refuses other roles (403) and bad input (400 in the error envelope)', async () => {
    const created = await admin('POST', '/webhooks', { url: r.url, events: ['flag.updated'] });
    const id = created.body.data.id as string;
    for (const role of ['VIEWER', 'EXPERIMENTER'] as const) {
      const u = await t.user(role);
      for (const [method, path, body] of [
        ['GET', '/webhooks', undefined],
        ['POST', '/webhooks', { url: r.url, events: ['flag.updated'] }],
        ['GET', `/webhooks/${id}`, undefined],
        ['PATCH', `/webhooks/${id}`, { enabled: false }],
        ['DELETE', `/webhooks/${id}`, undefined],
        ['GET', `/webhooks/${id}/deliveries`, undefined],
      ] as const) {
        const res = await t.request(method, `/api/v1${path}`, { token: u.token, ...(body !== undefined ? { body } : {}) });
        expect(res.status, `${role} ${method} ${path}`).toBe(403);
        expect(res.body.error.code).toBe('PERMISSION_DENIED');
      }
    }
    const unknown = await admin('POST', '/webhooks', { url: r.url, events: ['flag.renamed'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(unknown.body.error.details[0].path).toBe('events.0');
    for (const url of ['ftp://example.com/x', 'not a url', 'https://user:pw@example.com/']) {
      const res = await admin('POST', '/webhooks', { url, events: ['flag.updated'] });
      expect(res.status, url).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'url' })]);
    }
    expect((await admin('POST', '/webhooks', { url: r.url, events: [] })).status).toBe(400);
    expect((await admin('PATCH', `/webhooks/${id}`, { secret: 'mine' })).status).toBe(400);
    await admin('DELETE', `/webhooks/${id}`);
  });

  it('experiment lifecycle changes and the safety monitor emit experiment events', async () => {
    const created = await admin('POST', '/webhooks', {
      url: r.url,
      events: ['experiment.status_changed', 'experiment.auto_paused', 'experiment.srm_detected'],
    });
    r.secret = created.body.data.attributes.secret;
    const id = created.body.data.id as string;
    const key = 'wh-srm';
    const body = {
      key,
      variants: [
        { key: 'control', weight: 50 },
        { key: 'treatment', weight: 50 },
      ],
      metrics: [{ key: 'buy', type: 'conversion' }],
    };
    expect((await admin('POST', '/experiments', body)).status).toBe(201);
    expect((await admin('POST', `/experiments/${key}/start`)).status).toBe(200);
    const events: unknown[] = [];
    for (const [variant, units] of [
      ['control', 1300],
      ['treatment', 1000],
    ] as const)
      for (let i = 0; i < units; i++)
        events.push({
          id: `${variant}-${i}`,
          type: 'exposure',
          key,
          experiment: key,
          variant,
          unit_id: `${variant}-${i}`,
          timestamp: Date.now(),
        });
    for (let i = 0; i < events.length; i += 900)
      expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: events.slice(i, i + 900) } })).status).toBe(
        202,
      );
    await t.server.jobs.safety.check();
    await t.server.jobs.safety.check();
    await vi.waitFor(() => expect(r.received.length).toBeGreaterThanOrEqual(4), { timeout: 15_000, interval: 20 });
    const got = r.received.map((x) => x.body);
    expect(got.map((b) => b.type)).toEqual([
      'experiment.status_changed',
      'experiment.status_changed',
      'experiment.auto_paused',
      'experiment.srm_detected',
    ]);
    expect(got[0]!.data).toMatchObject({ environment: 'production', key, from: 'DRAFT', to: 'RUNNING' });
    expect(got[1]!.data).toMatchObject({ key, from: 'RUNNING', to: 'PAUSED', action: 'experiment.auto_pause', actor: { type: 'system' } });
    expect(got[2]!.data.reason).toMatchObject({ by: 'safety-monitor', rule: 'srm' });
    expect(got[3]!.data).toMatchObject({ srm_action: 'pause', environment: 'production' });
    expect(r.received.every((x) => x.verified)).toBe(true);
    await admin('DELETE', `/webhooks/${id}`);
    r.received.length = 0;
  });

  it('gives a delivery up once its retry window is over', async () => {
    const down = await startReceiver();
    const created = await admin('POST', '/webhooks', { url: down.url, events: ['flag.created'] });
    const id = created.body.data.id as string;
    await down.down();
    expect((await admin('POST', '/feature-flags', { key: 'wh-window', type: 'boolean' })).status).toBe(201);
    await vi.waitFor(
      async () => {
        const [d] = (await admin('GET', `/webhooks/${id}/deliveries`)).body.data as { attributes: any }[];
        expect(d!.attributes).toMatchObject({ status: 'failed', next_attempt_at: null });
        expect(d!.attributes.attempts).toBeGreaterThanOrEqual(2);
      },
      { timeout: 15_000, interval: 25 },
    );
    const failed = await admin('GET', `/webhooks/${id}/deliveries?status=failed`);
    expect(failed.body.data).toHaveLength(1);
    expect((await admin('GET', `/webhooks/${id}/deliveries?status=pending`)).body.data).toHaveLength(0);
    await admin('DELETE', `/webhooks/${id}`);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/api/v1/openapi.json')).body;
    for (const path of [
      '/api/v1/webhooks',
      '/api/v1/webhooks/{id}',
      '/api/v1/webhooks/{id}/deliveries',
      '/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver',
    ])
      expect(doc.paths[path], path).toBeDefined();
    expect(doc.components.schemas.WebhookDelivery).toBeDefined();
  });
});

describe('webhook auto-disable', () => {
  it('disables a webhook after a long failure streak, audited as the system; new events skip it; enabling resets it', async () => {
    const t = await startTestServer({ ...FAST, webhookDisableAfterFailures: 3, webhookDisableAfterMs: 0 });
    const r = await startReceiver();
    r.status = 500;
    try {
      const created = await t.request('POST', '/api/v1/webhooks', { token: t.adminToken, body: { url: r.url, events: ['flag.created'] } });
      const id = created.body.data.id as string;
      await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'wh-dis-1', type: 'boolean' } });
      await vi.waitFor(
        async () =>
          expect((await t.request('GET', `/api/v1/webhooks/${id}`, { token: t.adminToken })).body.data.attributes.enabled).toBe(false),
        { timeout: 15_000, interval: 25 },
      );
      const hook = (await t.request('GET', `/api/v1/webhooks/${id}`, { token: t.adminToken })).body.data.attributes;
      expect(hook.failure_streak).toBeGreaterThanOrEqual(3);
      expect(hook.disabled_reason).toMatch(/failed attempts in a row.*HTTP 500/);
      const [d] = (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`, { token: t.adminToken })).body.data as { attributes: any }[];
      expect(d!.attributes).toMatchObject({ response_status: 500, response_excerpt: 'receiver failing on purpose' });
      const audit = (await t.request('GET', `/api/v1/audit-log?action=webhook.auto_disable`, { token: t.adminToken })).body.data;
      expect(audit).toHaveLength(1);
      expect(audit[0].attributes).toMatchObject({
        resource: { type: 'webhook', id },
        actor: { type: 'system' },
        after: { enabled: false },
      });

      await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'wh-dis-2', type: 'boolean' } });
      expect((await t.request('GET', `/api/v1/webhooks/${id}/deliveries`, { token: t.adminToken })).body.data).toHaveLength(1);

      r.status = 200;
      const on = await t.request('PATCH', `/api/v1/webhooks/${id}`, { token: t.adminToken, body: { enabled: true } });
      expect(on.body.data.attributes).toMatchObject({ enabled: true, failure_streak: 0, failing_since: null, disabled_reason: null });
    } finally {
      await t.stop();
      await r.close();
    }
  });
});

describe('webhook targets on private addresses (SSRF)', () => {
  it('are refused at creation and at delivery unless SWITCHYARD_WEBHOOK_ALLOW_PRIVATE=1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-ssrf-'));
    const r = await startReceiver();
    let t = await startTestServer({ ...FAST, dir });
    try {
      // Stored while private targets were allowed ...
      const created = await t.request('POST', '/api/v1/webhooks', { token: t.adminToken, body: { url: r.url, events: ['flag.created'] } });
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      await t.server.close();
      // ... and the server restarted without the setting.
      t = await startTestServer({ ...FAST, env: {}, dir });
      for (const url of [
        r.url,
        'http://localhost:9/x',
        'http://[::1]:9/x',
        'http://[::ffff:127.0.0.1]:9/x',
        'http://0x7f.1/x',
        'http://169.254.169.254/latest/meta-data',
        'http://10.0.0.1/x',
      ]) {
        const res = await t.request('POST', '/api/v1/webhooks', { token: t.adminToken, body: { url, events: ['flag.created'] } });
        expect(res.status, url).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_ERROR');
        expect(res.body.error.details[0]).toMatchObject({ path: 'url', message: expect.stringMatching(/private, loopback or link-local/) });
      }
      expect(
        (await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'wh-ssrf', type: 'boolean' } })).status,
      ).toBe(201);
      await vi.waitFor(
        async () => {
          const [d] = (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`, { token: t.adminToken })).body.data as {
            attributes: any;
          }[];
          expect(d!.attributes.attempts).toBeGreaterThanOrEqual(2);
          expect(d!.attributes.last_error).toMatch(/target refused.*private, loopback or link-local/);
        },
        { timeout: 15_000, interval: 25 },
      );
      expect(r.received).toHaveLength(0);
    } finally {
      await t.stop();
      await r.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
