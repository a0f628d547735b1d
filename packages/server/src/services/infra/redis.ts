import type { Redis } from 'ioredis';
import { loadOptional } from '../../optional-dependency';
import type { Logger } from 'pino';

/**
 * The two Redis connections of an instance: `command` (publishes config versions, runs the
 * rate-limit script) and `subscriber` (pub/sub mode). Both connect lazily, reconnect forever
 * with a capped back-off, and report errors to the log (throttled) instead of throwing: Redis
 * is an accelerator, never a dependency of serving a request.
 */
export interface RedisConnections {
  command: Redis;
  subscriber: Redis;
  /** Both connections are up. */
  readonly ready: boolean;
  close(): Promise<void>;
}

export interface RedisConnectOptions {
  /** A command that takes longer fails (and its caller falls back); default 500 ms. */
  commandTimeoutMs?: number;
  /** Longest wait between reconnect attempts; default 2000 ms. */
  maxReconnectDelayMs?: number;
}

/** Logs a connection's first error after it was up (or at start), then at most every 30 s. */
function watch(redis: Redis, role: string, logger: Logger): void {
  let lastLogged = 0;
  let wasReady = false;
  redis.on('ready', () => {
    if (wasReady || lastLogged !== 0) logger.info({ role }, 'redis connection restored');
    wasReady = true;
    lastLogged = 0;
  });
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastLogged < 30_000) return;
    lastLogged = now;
    logger.warn({ role, err: err.message }, 'redis unavailable; serving from memory and the store until it is back');
  });
}

/**
 * Opens (lazily) the command and subscriber connections to `url`.
 *
 * @example
 * ```ts
 * const redis = await connectRedis('redis://cache:6379', logger);
 * await redis.close();
 * ```
 */
export async function connectRedis(url: string, logger: Logger, options: RedisConnectOptions = {}): Promise<RedisConnections> {
  // Loaded here, not at import: installs without Redis do not need the optional 'ioredis' package.
  const { Redis } = await loadOptional('ioredis', 'SWITCHYARD_REDIS_URL', () => import('ioredis'));
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const common = {
    lazyConnect: true,
    connectTimeout: 2000,
    // Never give up: keep trying with a capped back-off while the instance keeps serving.
    retryStrategy: (times: number) => Math.min(times * 100, maxDelay),
  };
  const command = new Redis(url, {
    ...common,
    // Fail fast instead of queueing while disconnected: callers fall back at once.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 500,
  });
  const subscriber = new Redis(url, {
    ...common,
    maxRetriesPerRequest: null,
    // The fan-out subscribes on every 'ready' itself (so a subscription that failed at start still happens).
    autoResubscribe: false,
  });
  watch(command, 'command', logger);
  watch(subscriber, 'subscriber', logger);
  // A failed first attempt is retried by retryStrategy; the error was logged by watch().
  command.connect().catch(() => {});
  subscriber.connect().catch(() => {});
  return {
    command,
    subscriber,
    get ready() {
      return command.status === 'ready' && subscriber.status === 'ready';
    },
    async close() {
      // disconnect(): immediate, no reconnect, no waiting on a server that may be gone.
      command.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * Settles with `p`, or rejects once `ms` have passed without an answer, so a hung Redis costs a
 * request at most `ms`; `p`'s own late failure is never left unhandled.
 *
 * @example
 * ```ts
 * const replies = await withinBudget(pipeline.exec(), 100);
 * ```
 */
export function withinBudget<T>(p: Promise<T>, ms: number): Promise<T> {
  p.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
