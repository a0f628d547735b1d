import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

/**
 * The server's one write path (a lone SQLite server, wired as in production): a commit resolves
 * with its config version applied, every live-config change runs on one queue in version order,
 * subscribers are fixed at start, and a signal this instance sends is handled once here — its
 * own echo from the shared channel is ignored.
 */
describe('config pipeline', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiRateBurst: 1e9, apiRatePerSecond: 1e9 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('concurrent writes: each response comes after its own version is live, and streams see every version once, in order', async () => {
    const config = t.server.ctx.config;
    const seen: number[] = [];
    const unsubscribe = config.subscribe((patch) => seen.push(patch.version));
    const start = config.version;
    try {
      const keys = Array.from({ length: 24 }, (_, i) => `pipeline-${i}`);
      const liveAtResponse = await Promise.all(
        keys.map(async (key) => {
          const r = await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key, type: 'boolean' } });
          expect(r.status, JSON.stringify(r.body)).toBe(201);
          // Read synchronously when the response arrives: the live document already has the flag.
          return Object.hasOwn(config.document.flags, key);
        }),
      );
      expect(liveAtResponse.every(Boolean)).toBe(true);
      expect(seen).toEqual(Array.from({ length: keys.length }, (_, i) => start + i + 1));
      expect(config.version).toBe(start + keys.length);
    } finally {
      unsubscribe();
    }
  });

  it('refuses a subscriber registered after start (a late one would miss changes)', () => {
    expect(() => t.server.pipeline.on('experiments', () => undefined)).toThrow(/before start/);
  });

  it('an experiment saved here re-plans the scheduler once: the echo of its own signal is ignored', async () => {
    const trigger = vi.spyOn(t.server.jobs.scheduler, 'trigger');
    const signals = { ...t.server.pipeline.signals };
    try {
      const r = await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: {
          key: 'pipeline-exp',
          variants: [
            { key: 'control', weight: 50 },
            { key: 'treatment', weight: 50 },
          ],
          metrics: [{ key: 'buy', type: 'conversion' }],
        },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      await vi.waitFor(() => expect(t.server.pipeline.signals.ownEchoes).toBe(signals.ownEchoes + 1));
      expect(t.server.pipeline.signals.sent).toBe(signals.sent + 1);
      expect(t.server.pipeline.signals.received).toBe(signals.received);
      expect(trigger).toHaveBeenCalledTimes(1);
    } finally {
      trigger.mockRestore();
    }
  });

  it('a revocation drops cached credentials here once, and the revoked key is refused at once', async () => {
    const created = await t.request('POST', '/api/v1/api-keys', { token: t.adminToken, body: { name: 'to revoke', kind: 'server' } });
    expect(created.status).toBe(201);
    const key = created.body.data.attributes.key as string;
    expect((await t.request('GET', '/sdk/v1/config', { apiKey: key })).status).toBe(200);
    const invalidate = vi.spyOn(t.server.ctx.credentials, 'invalidate');
    const echoes = t.server.pipeline.signals.ownEchoes;
    try {
      expect((await t.request('DELETE', `/api/v1/api-keys/${created.body.data.id}`, { token: t.adminToken })).status).toBe(204);
      await vi.waitFor(() => expect(t.server.pipeline.signals.ownEchoes).toBe(echoes + 1));
      expect(invalidate).toHaveBeenCalledTimes(1);
      expect((await t.request('GET', '/sdk/v1/config', { apiKey: key })).status).toBe(401);
    } finally {
      invalidate.mockRestore();
    }
  });
});
