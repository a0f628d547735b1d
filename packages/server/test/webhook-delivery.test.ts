import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';
import { startReceiver, type Receiver } from './webhook-receiver';

/** Retries in tens of milliseconds instead of seconds; nothing else differs from production. */
const FAST = {
  env: { SWITCHYARD_WEBHOOK_ALLOW_PRIVATE: '1' },
  webhookRetryBaseMs: 40,
  webhookRetryMaxDelayMs: 300,
  webhookPollMs: 25,
  webhookTimeoutMs: 2000,
  webhookDisableAfterFailures: 1_000_000,
};

describe.each(['sqlite', 'postgres'] as const)('webhook deliveries (outbox): %s', (kind) => {
  let t: TestServer;
  let postgres: TestPostgres | undefined;
  let databaseUrl: string | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-webhooks-'));
  const start = () => startTestServer({ ...FAST, dir, ...(databaseUrl !== undefined ? { databaseUrl } : {}) });

  beforeAll(async () => {
    if (kind === 'postgres') {
      postgres = await startPostgres();
      databaseUrl = await postgres.createDatabase();
    }
    t = await start();
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function subscribe(r: Receiver, events: string[]): Promise<string> {
    const res = await t.request('POST', '/api/v1/webhooks', { token: t.adminToken, body: { url: r.url, events } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    r.secret = res.body.data.attributes.secret;
    return res.body.data.id;
  }
  const deliveries = async (id: string) => {
    const res = await t.request('GET', `/api/v1/webhooks/${id}/deliveries?limit=200`, { token: t.adminToken });
    expect(res.status).toBe(200);
    return res.body.data as { id: string; attributes: Record<string, any> }[];
  };
  const createFlag = async (key: string) => {
    const res = await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key, type: 'boolean' } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };

  it('a flag change reaches the receiver signed per Standard Webhooks, with its environment, and is listed', async () => {
    const r = await startReceiver();
    const id = await subscribe(r, ['flag.created', 'flag.updated', 'flag.deleted']);
    const key = `wh-signed-${kind}`;
    await createFlag(key);
    const bad = await t.request('PATCH', `/api/v1/feature-flags/${key}`, { token: t.adminToken, body: { enabled: 'yes' } });
    expect(bad.status).toBe(400);
    expect((await t.request('PATCH', `/api/v1/feature-flags/${key}`, { token: t.adminToken, body: { enabled: true } })).status).toBe(200);
    expect((await t.request('DELETE', `/api/v1/feature-flags/${key}`, { token: t.adminToken })).status).toBe(204);
    await vi.waitFor(() => expect(r.received).toHaveLength(3), { timeout: 15_000, interval: 20 });

    // The rejected PATCH committed nothing, so it sent nothing.
    expect(r.received.map((x) => x.body.type)).toEqual(['flag.created', 'flag.updated', 'flag.deleted']);
    expect(r.received.every((x) => x.verified)).toBe(true);
    const first = r.received[0]!;
    expect(first.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(first.headers['content-type']).toBe('application/json');
    const raw = JSON.stringify(first.body);
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(raw, first.headers as Record<string, string>),
    ).toThrow();
    const updated = r.received[1]!.body;
    expect(updated.data).toMatchObject({ environment: 'production', key, flag: { key, enabled: true }, previous: { enabled: false } });
    expect(updated.data.actor).toMatchObject({ type: 'user' });
    expect(Date.parse(updated.timestamp)).not.toBeNaN();

    // The receiver has answered; the worker records each answer right after, so wait for that.
    let listed = await deliveries(id);
    await vi.waitFor(
      async () => {
        listed = await deliveries(id);
        expect(listed.every((d) => d.attributes.status !== 'pending')).toBe(true);
      },
      { timeout: 15_000, interval: 20 },
    );
    expect(listed.map((d) => d.attributes.event_type)).toEqual(['flag.deleted', 'flag.updated', 'flag.created']);
    expect(new Set(listed.map((d) => d.attributes.message_id))).toEqual(new Set(r.received.map((x) => x.id)));
    for (const d of listed)
      expect(d.attributes).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        response_status: 200,
        response_excerpt: 'ok',
        next_attempt_at: null,
      });
    const one = await t.request('GET', `/api/v1/webhooks/${id}/deliveries/${listed[0]!.id}`, { token: t.adminToken });
    expect(one.body.data.attributes.payload).toEqual(r.received[2]!.body);
    await t.request('DELETE', `/api/v1/webhooks/${id}`, { token: t.adminToken });
    await r.close();
  });

  it('receiver down for a while (and the server restarted), then up: every delivery arrives exactly once by webhook-id', async () => {
    const r = await startReceiver();
    const id = await subscribe(r, ['flag.created']);
    await r.down();
    for (let i = 0; i < 4; i++) await createFlag(`wh-down-${kind}-${i}`);
    // Backing off: every delivery has failed at least twice and waits for its next attempt.
    await vi.waitFor(
      async () => {
        const list = await deliveries(id);
        expect(list).toHaveLength(4);
        for (const d of list) {
          expect(d.attributes.status).toBe('pending');
          expect(d.attributes.attempts).toBeGreaterThanOrEqual(2);
          expect(d.attributes.last_error).toMatch(/ECONNREFUSED/);
          expect(d.attributes.response_status).toBeNull();
        }
      },
      { timeout: 20_000, interval: 50 },
    );
    // The outbox is in the store: a restart loses nothing.
    await t.server.close();
    t = await start();
    await createFlag(`wh-down-${kind}-after-restart`);
    await vi.waitFor(async () => expect((await deliveries(id)).every((d) => d.attributes.attempts >= 1)).toBe(true), {
      timeout: 20_000,
      interval: 50,
    });
    expect(r.received).toHaveLength(0);
    await r.up();
    await vi.waitFor(async () => expect((await deliveries(id)).every((d) => d.attributes.status === 'succeeded')).toBe(true), {
      timeout: 30_000,
      interval: 50,
    });
    const list = await deliveries(id);
    expect(list).toHaveLength(5);
    const counts = r.countsById();
    expect(new Set(counts.keys())).toEqual(new Set(list.map((d) => d.attributes.message_id)));
    expect([...counts.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(r.received.every((x) => x.verified)).toBe(true);
    expect(new Set(r.received.map((x) => x.body.data.key))).toEqual(
      new Set([0, 1, 2, 3].map((i) => `wh-down-${kind}-${i}`).concat(`wh-down-${kind}-after-restart`)),
    );
    await t.request('DELETE', `/api/v1/webhooks/${id}`, { token: t.adminToken });
    await r.close();
  }, 90_000);

  it('redelivers by hand with the same webhook-id; not while the webhook is disabled', async () => {
    const r = await startReceiver();
    const id = await subscribe(r, ['flag.created']);
    await createFlag(`wh-redeliver-${kind}`);
    await vi.waitFor(() => expect(r.received).toHaveLength(1), { timeout: 15_000, interval: 20 });
    // Redelivered once the first attempt is recorded (the worker writes it right after the answer).
    await vi.waitFor(async () => expect((await deliveries(id))[0]!.attributes.status).toBe('succeeded'), { timeout: 15_000, interval: 20 });
    const [d] = await deliveries(id);
    const again = await t.request('POST', `/api/v1/webhooks/${id}/deliveries/${d!.id}/redeliver`, { token: t.adminToken });
    expect(again.status).toBe(202);
    expect(again.body.data.attributes.status).toBe('pending');
    await vi.waitFor(() => expect(r.received).toHaveLength(2), { timeout: 15_000, interval: 20 });
    expect(r.received[1]!.id).toBe(r.received[0]!.id);
    expect(r.received[1]!.verified).toBe(true);
    await vi.waitFor(async () => expect((await deliveries(id))[0]!.attributes).toMatchObject({ status: 'succeeded', attempts: 2 }), {
      timeout: 10_000,
      interval: 20,
    });
    const missing = await t.request('POST', `/api/v1/webhooks/${id}/deliveries/nope/redeliver`, { token: t.adminToken });
    expect(missing.status).toBe(404);
    const off = await t.request('PATCH', `/api/v1/webhooks/${id}`, { token: t.adminToken, body: { enabled: false } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.data.attributes).toMatchObject({ enabled: false, version: 2 });
    const disabled = await t.request('POST', `/api/v1/webhooks/${id}/deliveries/${d!.id}/redeliver`, { token: t.adminToken });
    expect(disabled.status).toBe(409);
    expect(disabled.body.error.code).toBe('CONFLICT');
    await t.request('DELETE', `/api/v1/webhooks/${id}`, { token: t.adminToken });
    await r.close();
  });
});

describe('webhook deliveries with two instances on one PostgreSQL', () => {
  it('each delivery is claimed by one instance and arrives exactly once', async () => {
    const postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase();
    const a = await startTestServer({ ...FAST, databaseUrl });
    const b = await startTestServer({ ...FAST, databaseUrl });
    const r = await startReceiver();
    try {
      const created = await a.request('POST', '/api/v1/webhooks', { token: a.adminToken, body: { url: r.url, events: ['flag.created'] } });
      r.secret = created.body.data.attributes.secret;
      // Changes through both instances; both workers poll the same outbox.
      for (let i = 0; i < 10; i++) {
        const t = i % 2 === 0 ? a : b;
        expect(
          (await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: `wh-two-${i}`, type: 'boolean' } })).status,
        ).toBe(201);
      }
      await vi.waitFor(() => expect(r.received.length).toBeGreaterThanOrEqual(10), { timeout: 30_000, interval: 25 });
      // Both workers keep polling for a while: nothing is sent twice.
      await Promise.all([a.server.jobs.webhooks.pass(), b.server.jobs.webhooks.pass()]);
      const list = (await a.request('GET', `/api/v1/webhooks/${created.body.data.id}/deliveries?limit=50`, { token: a.adminToken })).body
        .data as { attributes: Record<string, any> }[];
      expect(list.map((d) => [d.attributes.status, d.attributes.attempts])).toEqual(Array(10).fill(['succeeded', 1]));
      expect([...r.countsById().values()]).toEqual(Array(10).fill(1));
      expect(r.received.every((x) => x.verified)).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
      await r.close();
      await postgres.stop();
    }
  }, 120_000);
});
