import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/app-env';

/** What a limiter says about one request. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again (or, when refused, until one token is back). */
  resetSeconds: number;
}

/**
 * Counts requests per key. The in-process token bucket below is the default; a Redis-backed
 * one can implement the same interface for several instances.
 */
export interface RateLimiter {
  take(key: string, now: number): Promise<RateDecision>;
}

/** Token bucket: `capacity` requests at once, refilled at `perSecond`. */
export function tokenBucketLimiter(options: { capacity: number; perSecond: number; maxKeys?: number }): RateLimiter {
  const { capacity, perSecond } = options;
  const maxKeys = options.maxKeys ?? 100_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    async take(key, now) {
      let b = buckets.get(key);
      if (b === undefined) {
        // Bound memory: forget the oldest keys; a forgotten key simply starts full again.
        if (buckets.size >= maxKeys)
          for (const k of buckets.keys()) {
            buckets.delete(k);
            if (buckets.size < maxKeys / 2) break;
          }
        b = { tokens: capacity, at: now };
        buckets.set(key, b);
      }
      b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return {
          allowed: true,
          limit: capacity,
          remaining: Math.floor(b.tokens),
          resetSeconds: Math.ceil((capacity - b.tokens) / perSecond),
        };
      }
      return { allowed: false, limit: capacity, remaining: 0, resetSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perSecond)) };
    },
  };
}

/**
 * Applies a limiter to the requests `keyOf` names (others pass), with the IETF `RateLimit-*`
 * headers on every counted response and `Retry-After` on a 429.
 */
export function rateLimit(
  limiter: RateLimiter,
  keyOf: (c: Parameters<MiddlewareHandler<AppEnv>>[0]) => string | null,
): MiddlewareHandler<AppEnv> {
  return async function rateLimitMiddleware(c, next) {
    const key = keyOf(c);
    if (key === null) return next();
    const d = await limiter.take(key, Date.now());
    const headers = {
      'RateLimit-Limit': String(d.limit),
      'RateLimit-Remaining': String(d.remaining),
      'RateLimit-Reset': String(d.resetSeconds),
    };
    if (!d.allowed) {
      throw new ApiError(
        'RATE_LIMIT_EXCEEDED',
        `too many requests; retry in ${d.resetSeconds} s`,
        { retry_after_seconds: d.resetSeconds },
        {
          ...headers,
          'Retry-After': String(d.resetSeconds),
        },
      );
    }
    await next();
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
  };
}
