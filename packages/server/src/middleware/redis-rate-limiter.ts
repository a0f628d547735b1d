import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { tokenBucketLimiter, type RateDecision, type RateLimiter } from './rate-limit';
import { withinBudget } from '../services/infra/redis';

/**
 * One atomic token-bucket step per request: the bucket is a hash {tokens, at} refilled by the
 * time since `at` (never backwards, so instances with slightly different clocks cannot mint
 * tokens), expiring once it would be full again anyway.
 */
const TOKEN_BUCKET_LUA = `
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = tokens + (now - at) * per_ms
  at = now
end
tokens = math.min(capacity, tokens)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ttl)
return { allowed, tostring(tokens) }
`;

const COMMAND = 'switchyardTokenBucket';
type TokenBucketCommand = (key: string, capacity: number, perMs: number, now: number, ttlMs: number) => Promise<[number, string]>;

export interface RedisRateLimiterOptions {
  redis: Redis;
  /** Part of the key (`switchyard:rl:<name>:<key>`), so two limiters never share buckets. */
  name: string;
  capacity: number;
  perSecond: number;
  logger?: Logger;
  /** After a Redis failure, count locally for at least this long before probing Redis again (default 1000 ms). */
  retryAfterMs?: number;
  /**
   * The longest a request waits for Redis (default 100 ms): a slower answer (a hung Redis,
   * which keeps its connection open and never answers) is abandoned, the request is decided
   * locally and the circuit opens.
   */
  budgetMs?: number;
  /** Key prefix (default `switchyard:rl:`). */
  prefix?: string;
}

/** Where the decisions came from (for tests and metrics). */
export interface RedisRateLimiterStats {
  redis: number;
  local: number;
  /** Times the circuit opened (Redis failed or was too slow). */
  opened: number;
}

/**
 * A {@link RateLimiter} shared by every instance using the same Redis: the same token bucket
 * as {@link tokenBucketLimiter}, kept in Redis by an atomic Lua script. Behind a circuit
 * breaker: when Redis errors or takes longer than `budgetMs` the circuit opens and requests
 * are decided by an in-process bucket with the same limits (each instance then counts alone),
 * paying nothing for Redis. While open, a `PING` off the request path probes Redis every
 * `retryAfterMs`; the circuit closes when one answers. A request is never refused because
 * Redis is down, and a hung Redis costs at most one `budgetMs` wait, to the requests in flight
 * when it hung.
 *
 * @example
 * ```ts
 * const limiter = redisRateLimiter({ redis, name: 'api', capacity: 2000, perSecond: 1000 });
 * const decision = await limiter.take('key:abc', Date.now());
 * ```
 */
export function redisRateLimiter(
  options: RedisRateLimiterOptions,
): RateLimiter & { readonly stats: RedisRateLimiterStats; readonly circuitOpen: boolean } {
  const { redis, capacity, perSecond, logger } = options;
  const local = tokenBucketLimiter({ capacity, perSecond });
  const prefix = `${options.prefix ?? 'switchyard:rl:'}${options.name}:`;
  const retryAfterMs = options.retryAfterMs ?? 1000;
  const budgetMs = options.budgetMs ?? 100;
  const perMs = perSecond / 1000;
  // Long enough for an emptied bucket to refill completely; after that, absent == full.
  const ttlMs = perSecond > 0 ? Math.min(86_400_000, Math.ceil((capacity / perSecond) * 1000) + 1000) : 86_400_000;
  const scripted = redis as unknown as Record<typeof COMMAND, TokenBucketCommand | undefined>;
  if (typeof scripted[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
  const stats: RedisRateLimiterStats = { redis: 0, local: 0, opened: 0 };
  let open = false;
  let openedAt = 0;
  let probing = false;
  let lastWarned = 0;

  const decide = (allowed: boolean, tokens: number): RateDecision =>
    allowed
      ? { allowed: true, limit: capacity, remaining: Math.floor(tokens), resetSeconds: Math.ceil((capacity - tokens) / perSecond) }
      : { allowed: false, limit: capacity, remaining: 0, resetSeconds: Math.max(1, Math.ceil((1 - tokens) / perSecond)) };

  const trip = (err: unknown) => {
    if (!open) stats.opened++;
    open = true;
    openedAt = Date.now();
    if (Date.now() - lastWarned > 30_000) {
      lastWarned = Date.now();
      logger?.warn(
        { err: (err as Error).message, limiter: options.name },
        'redis rate limiter unavailable; counting in this instance only',
      );
    }
  };

  /** Off the request path: closes the circuit once Redis answers again. */
  const probe = () => {
    if (probing || Date.now() - openedAt < retryAfterMs) return;
    probing = true;
    withinBudget(redis.ping(), Math.max(budgetMs, 1000)).then(
      () => {
        open = false;
        probing = false;
      },
      () => {
        openedAt = Date.now();
        probing = false;
      },
    );
  };

  return {
    stats,
    get circuitOpen() {
      return open;
    },
    async take(key, now) {
      if (open) probe();
      else if (redis.status === 'ready') {
        try {
          const [allowed, tokens] = await withinBudget(scripted[COMMAND]!(prefix + key, capacity, perMs, now, ttlMs), budgetMs);
          stats.redis++;
          return decide(allowed === 1, Number(tokens));
        } catch (err) {
          trip(err);
        }
      }
      stats.local++;
      return local.take(key, now);
    },
  };
}
