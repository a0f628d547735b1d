import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startRedis, type TestRedis } from './services';

/** The server's API rate limiter as the Redis-backed one exposes itself. */
type Breaker = { circuitOpen: boolean; stats: { redis: number; local: number; opened: number } };

// A hung Redis (SIGSTOP: connections stay open, nothing is answered) must not hold requests up:
// the rate limiter's circuit opens on the first command that misses its budget, and from then
// on requests are decided in memory; config changes still apply on the instance that made them.
describe('Redis hung (SIGSTOP): requests are answered without Redis', { timeout: 120_000 }, () => {
  let redis: TestRedis;
  let t: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    t = await startTestServer({ redisUrl: redis.url, redisBudgetMs: 300 });
  });
  afterAll(async () => {
    redis?.thaw();
    await t?.stop();
    await redis?.stop();
  });

  it('opens the circuit once, answers every request from memory meanwhile, and goes back to Redis after SIGCONT', async () => {
    const limiter = t.server.ctx.apiLimiter as unknown as Breaker;
    expect((await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken })).status).toBe(200);
    await vi.waitFor(() => expect(limiter.stats.redis).toBeGreaterThan(0), { timeout: 10_000 });
    expect(limiter.circuitOpen).toBe(false);

    redis.freeze();
    try {
      const first = await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken });
      expect(first.status).toBe(200);
      expect(limiter.circuitOpen).toBe(true);
      const { redis: answered, opened } = limiter.stats;
      const local = limiter.stats.local;
      for (let i = 0; i < 10; i++) {
        expect((await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken })).status).toBe(200);
        expect((await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).status).toBe(200);
      }
      // Decided in memory: no Redis answer counted, the circuit opened only the once.
      expect(limiter.stats.redis).toBe(answered);
      expect(limiter.stats.opened).toBe(opened);
      expect(limiter.stats.local).toBeGreaterThanOrEqual(local + 10);
      // A change is stored and served by this instance while the fan-out channel is hung.
      const created = await t.request('POST', '/api/v1/feature-flags', {
        token: t.adminToken,
        body: { key: 'while-redis-hangs', type: 'boolean', enabled: true },
      });
      expect(created.status).toBe(201);
      const doc = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
      expect(Object.keys(doc.body.flags)).toContain('while-redis-hangs');
    } finally {
      redis.thaw();
    }
    await vi.waitFor(
      async () => {
        await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken });
        expect(limiter.circuitOpen).toBe(false);
      },
      { timeout: 20_000, interval: 100 },
    );
    const viaRedis = limiter.stats.redis;
    expect((await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken })).status).toBe(200);
    expect(limiter.stats.redis).toBe(viaRedis + 1);
  });
});
