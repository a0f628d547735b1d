import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisRateLimiter } from '../src/middleware/redis-rate-limiter';
import { tokenBucketLimiter, type RateDecision } from '../src/middleware/rate-limit';
import { connectRedis } from '../src/services/infra/redis';
import { freePort, startRedis, type TestRedis } from './services';

const silent = pino({ level: 'silent' });

/** An ioredis client configured like the server's command connection. */
function client(url: string): Redis {
  return new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 500,
    retryStrategy: (n) => Math.min(n * 100, 300),
  });
}

async function ready(r: Redis, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (r.status !== 'ready') {
    if (Date.now() > deadline) throw new Error(`redis client not ready in ${timeoutMs} ms (status ${r.status})`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('Redis-backed rate limiter', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const open = async () => {
    const c = client(redis.url);
    c.on('error', () => {});
    clients.push(c);
    await ready(c);
    return c;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it('two instances (two connections) draw from one bucket', async () => {
    const a = redisRateLimiter({ redis: await open(), name: 'shared', capacity: 5, perSecond: 1 });
    const b = redisRateLimiter({ redis: await open(), name: 'shared', capacity: 5, perSecond: 1 });
    const now = 1_700_000_000_000;
    const decisions: RateDecision[] = [];
    for (let i = 0; i < 8; i++) decisions.push(await (i % 2 === 0 ? a : b).take('key:1', now));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(decisions[5]).toEqual({ allowed: false, limit: 5, remaining: 0, resetSeconds: 1 });
    // Two seconds later two tokens are back, for either instance.
    expect((await b.take('key:1', now + 2000)).allowed).toBe(true);
    expect((await a.take('key:1', now + 2000)).allowed).toBe(true);
    expect((await a.take('key:1', now + 2000)).allowed).toBe(false);
    // Another key, and another limiter name, are separate buckets.
    expect((await a.take('key:2', now)).remaining).toBe(4);
    const other = redisRateLimiter({ redis: await open(), name: 'other', capacity: 5, perSecond: 1 });
    expect((await other.take('key:1', now)).remaining).toBe(4);
    expect(a.stats.local + b.stats.local).toBe(0);
  });

  it('decides exactly like the in-process token bucket', async () => {
    const shared = redisRateLimiter({ redis: await open(), name: 'same', capacity: 3, perSecond: 2 });
    const local = tokenBucketLimiter({ capacity: 3, perSecond: 2 });
    const steps = [0, 0, 0, 0, 100, 400, 500, 500, 500, 2000, 2000, 2100, 2101, 5000, 5000, 5000, 5000];
    const t0 = 1_800_000_000_000;
    for (const [i, dt] of steps.entries()) {
      expect(await shared.take('k', t0 + dt), `step ${i}`).toEqual(await local.take('k', t0 + dt));
    }
  });

  it('fails open to local counting while Redis is down and goes back to Redis when it returns', async () => {
    const r = await open();
    // A budget far above any answer of a live Redis on a loaded machine: only the outage may open the circuit.
    const limiter = redisRateLimiter({ redis: r, name: 'outage', capacity: 2, perSecond: 0.001, retryAfterMs: 50, budgetMs: 5000 });
    const now = Date.now();
    expect((await limiter.take('k', now)).allowed).toBe(true);
    expect(limiter.stats.redis).toBe(1);
    await redis.stop();
    const during = [await limiter.take('k', now), await limiter.take('k', now), await limiter.take('k', now)];
    // The connection is known to be down: no answer waited on a Redis command.
    expect(limiter.stats.redis).toBe(1);
    // The local bucket starts full: two allowed, then refused (never an exception).
    expect(during.map((d) => d.allowed)).toEqual([true, true, false]);
    expect(limiter.stats.local).toBe(3);
    await redis.start();
    await ready(r, 10_000);
    // If a failure opened the circuit, a probe off the request path closes it once Redis answers.
    await vi.waitFor(
      async () => {
        if (limiter.circuitOpen) await limiter.take('probe', now);
        expect(limiter.circuitOpen).toBe(false);
      },
      { timeout: 10_000, interval: 20 },
    );
    const viaRedis = limiter.stats.redis;
    // Redis forgot everything (no persistence): a full bucket again, counted in Redis.
    const after = await limiter.take('k', now);
    expect(after).toMatchObject({ allowed: true, remaining: 1 });
    expect(limiter.stats.redis).toBe(viaRedis + 1);
  });

  it('a hung Redis (SIGSTOP) opens the circuit once; later requests are answered from memory, not by waiting on Redis', async () => {
    const r = await open();
    const limiter = redisRateLimiter({ redis: r, name: 'hung', capacity: 100, perSecond: 1, retryAfterMs: 50, budgetMs: 300 });
    const now = Date.now();
    expect((await limiter.take('k', now)).allowed).toBe(true);
    expect(limiter.stats).toEqual({ redis: 1, local: 0, opened: 0 });
    redis.freeze();
    try {
      // The connection stays open and ready, so the first request waits one budget and trips the circuit...
      expect((await limiter.take('k', now)).allowed).toBe(true);
      expect(limiter.stats).toEqual({ redis: 1, local: 1, opened: 1 });
      expect(limiter.circuitOpen).toBe(true);
      // ...and every later one is decided locally at once: no Redis answer is awaited on the request path.
      for (let i = 0; i < 20; i++) expect((await limiter.take('k', now)).allowed).toBe(true);
      expect(limiter.stats).toEqual({ redis: 1, local: 21, opened: 1 });
      expect(limiter.circuitOpen).toBe(true);
    } finally {
      redis.thaw();
    }
    // The off-path probe closes the circuit once Redis answers again.
    await vi.waitFor(
      async () => {
        if (limiter.circuitOpen) await limiter.take('probe', Date.now());
        expect(limiter.circuitOpen).toBe(false);
      },
      { timeout: 15_000, interval: 50 },
    );
    const viaRedis = limiter.stats.redis;
    await limiter.take('k', Date.now());
    expect(limiter.stats.redis).toBe(viaRedis + 1);
  });

  it('answers from memory without delay when Redis was never reachable', async () => {
    const port = await freePort();
    const conns = await connectRedis(`redis://127.0.0.1:${port}`, silent);
    try {
      const limiter = redisRateLimiter({ redis: conns.command, name: 'never', capacity: 1, perSecond: 1, logger: silent });
      const started = Date.now();
      expect((await limiter.take('k', started)).allowed).toBe(true);
      expect((await limiter.take('k', started)).allowed).toBe(false);
      // Never connected: both answers came from memory without a Redis command (none failed, none opened the circuit).
      expect(limiter.stats).toEqual({ redis: 0, local: 2, opened: 0 });
      expect(conns.ready).toBe(false);
    } finally {
      await conns.close();
    }
  });
});
