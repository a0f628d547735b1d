import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { createApp } from './app';
import { createLoginGuard } from './auth/login-guard';
import { createTokenService } from './auth/tokens';
import { startingResponse } from './http/starting';
import { createMetrics } from './middleware/metrics';
import { tokenBucketLimiter } from './middleware/rate-limit';
import { redisRateLimiter } from './middleware/redis-rate-limiter';
import { resolveOptions, type ServerOptions } from './options';
import { describeCredentials, ensureEnvironment, firstStart, type FirstStartCredentials } from './services/startup/bootstrap';
import { resolveKeyring } from './auth/signing-keys';
import type { ConfigFanout } from './services/config/config-fanout';
import { ConfigPipeline } from './services/config/config-pipeline';
import { EnvironmentRuntimes } from './services/config/environment-runtimes';
import type { ServerContext } from './services/context';
import { seedDemo } from './services/startup/demo';
import { describeLaterStart, ignoredPasswordWarning } from './services/startup/start-notes';
import { createEventAdmission } from './services/events/event-admission';
import { EventWriter } from './services/events/event-writer';
import { startRetention } from './services/jobs/retention';
import { connectRedis } from './services/infra/redis';
import { StreamHub } from './services/config/stream-hub';
import { ExperimentService } from './services/domain/experiments';
import { ResultsService } from './services/results/results';
import { SafetyMonitor } from './services/jobs/safety-monitor';
import { RolloutMonitor } from './services/jobs/rollout-monitor';
import { Scheduler } from './services/jobs/scheduler';
import { WebhookWorker } from './services/webhooks/webhook-worker';
import { openStore } from './store/open-store';
import { isPostgresStore } from './store/postgres/postgres-store';
import { postgresLeadership } from './store/postgres/control-connection';
import { CredentialCache, type CredentialChange } from './auth/credential-cache';
import { KeyUsage } from './auth/key-usage';
import { JobRunner } from './services/jobs/job-runner';
import { soleLeadership, type Leadership } from './services/jobs/leadership';
import type { Store } from './store/types';

/** How long close() lets in-flight requests finish before it cuts the connections left. */
const SHUTDOWN_GRACE_MS = 5000;

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  ctx: ServerContext;
  /** Secrets created on first start (`null` on later starts). */
  credentials: FirstStartCredentials | null;
  /** Background jobs, exposed so tests (and operators) can run a pass now. */
  jobs: {
    scheduler: Scheduler;
    safety: SafetyMonitor;
    rollouts: RolloutMonitor;
    webhooks: WebhookWorker;
    runner: JobRunner;
    leadership: Leadership;
  };
  /** The write path: commits, config fan-out and apply, subscribers. */
  pipeline: ConfigPipeline;
  /** Cross-instance config sync (PostgreSQL or Redis set-ups); `null` for a lone SQLite server. */
  fanout: ConfigFanout | null;
  /** Stops accepting, lets in-flight requests finish, then closes the store. */
  close(): Promise<void>;
}

/** Options for {@link startServer}: server options plus injectables for tests. */
export interface StartOptions extends Partial<ServerOptions> {
  store?: Store;
  logger?: Logger;
  now?: () => number;
  env?: Record<string, string | undefined>;
}

/**
 * Opens the store, loads the config, binds the port, runs first-start set-up (and the demo
 * seed), starts the background jobs and then answers requests.
 *
 * @example
 * ```ts
 * const server = await startServer({ port: 0, dbPath: ':memory:', logLevel: 'silent' });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export async function startServer(start: StartOptions = {}): Promise<RunningServer> {
  const { store: givenStore, logger: givenLogger, now, env, ...explicit } = start;
  const options = resolveOptions(explicit, env ?? process.env);
  const logger = givenLogger ?? pino({ level: options.logLevel, base: { service: 'switchyard' } });
  const store = givenStore ?? (await openStore(options, logger));
  // Whatever start-up opened is closed again, newest first, if a later step fails.
  const undo: (() => unknown)[] = [() => store.close()];
  try {
    return await listen();
  } catch (err) {
    for (const step of undo.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
    throw err;
  }

  async function listen(): Promise<RunningServer> {
    const redis = options.redisUrl !== undefined ? await connectRedis(options.redisUrl, logger) : null;
    if (redis !== null) undo.push(() => redis.close());
    // Check-then-act set-up (JWT secret, first admin, demo seed) runs once across instances starting together.
    const once = <T>(fn: () => Promise<T>): Promise<T> => (isPostgresStore(store) ? store.withLock('bootstrap', fn) : fn());
    const keyring = await once(() => resolveKeyring(store, options, now ?? Date.now));
    await once(() => ensureEnvironment(store, options.defaultEnvironment, (now ?? Date.now)()));
    const metrics = createMetrics();
    // Instances sharing PostgreSQL elect one leader for the background jobs; a lone SQLite server is its own.
    const leadership: Leadership =
      isPostgresStore(store) && options.databaseUrl !== undefined
        ? await postgresLeadership({ url: options.databaseUrl, logger, checkMs: options.leaderCheckMs })
        : soleLeadership();
    undo.push(() => leadership.close());
    const jobs = new JobRunner(leadership, logger, { run: (job, outcome) => metrics.operations.jobRuns.inc({ job, outcome }) });
    undo.push(() => jobs.stop());
    metrics.operations.sources.isLeader = () => leadership.isLeader;
    if (isPostgresStore(store)) metrics.operations.sources.pool = () => store.poolUse();
    metrics.operations.sources.aggregatorBacklog = () => store.aggregatorBacklog();
    const environments = new EnvironmentRuntimes(
      store,
      options.defaultEnvironment,
      (config) =>
        new StreamHub(
          config,
          { heartbeatMs: options.heartbeatMs, maxBufferBytes: options.sseMaxBufferBytes, replayCapacity: options.sseReplayCapacity },
          logger,
          (d) =>
            d > 0
              ? metrics.sseClients.inc({ environment: config.environment })
              : metrics.sseClients.dec({ environment: config.environment }),
        ),
    );
    await environments.get(options.defaultEnvironment);
    metrics.sources.configVersions = () => environments.all().map((r) => ({ environment: r.environment, version: r.config.version }));
    metrics.sources.replayMisses = () => environments.all().map((r) => ({ environment: r.environment, misses: r.hub.replayMisses }));
    // Every write that changes what instances hold in memory goes through it (see ctx.pipeline).
    const pipeline = new ConfigPipeline({
      store,
      environments,
      leadership,
      logger,
      // Instances that share a store keep each other's live configs in step.
      sync: store.kind === 'postgres' || redis !== null ? { redis, pollMs: options.configPollMs } : null,
    });
    const fanout = pipeline.fanout;
    metrics.sources.fanout = () => fanout?.stats ?? null;
    undo.push(() => pipeline.close());
    undo.push(() => environments.close());
    const events = new EventWriter(store, (environment, counts) => {
      for (const type of ['track', 'exposure'] as const) {
        if (counts[type].accepted > 0) metrics.eventsIngested.inc({ environment, type }, counts[type].accepted);
        if (counts[type].duplicates > 0) metrics.eventsDuplicate.inc({ environment, type }, counts[type].duplicates);
      }
    });
    const ctx: ServerContext = {
      options,
      store,
      logger,
      environments,
      get config() {
        return environments.default.config;
      },
      get hub() {
        return environments.default.hub;
      },
      events,
      tokens: createTokenService({ keyring, ttlSeconds: options.jwtTtlSeconds, ...(options.oidc ? { oidc: options.oidc } : {}) }),
      metrics,
      apiLimiter:
        redis !== null
          ? redisRateLimiter({
              redis: redis.command,
              name: 'api',
              capacity: options.apiRateBurst,
              perSecond: options.apiRatePerSecond,
              budgetMs: options.redisBudgetMs,
              logger,
            })
          : tokenBucketLimiter({ capacity: options.apiRateBurst, perSecond: options.apiRatePerSecond }),
      loginLimiter:
        redis !== null
          ? redisRateLimiter({
              redis: redis.command,
              name: 'login',
              capacity: options.loginRatePerMinute,
              perSecond: options.loginRatePerMinute / 60,
              budgetMs: options.redisBudgetMs,
              logger,
            })
          : tokenBucketLimiter({ capacity: options.loginRatePerMinute, perSecond: options.loginRatePerMinute / 60 }),
      eventAdmission: createEventAdmission({
        newUnitsPerMinute: options.newUnitsPerMinute,
        redis: redis?.command ?? null,
        budgetMs: options.redisBudgetMs,
        logger,
      }),
      loginGuard: createLoginGuard(),
      jobs,
      credentials: new CredentialCache(store, options.credentialCacheTtlMs, now ?? Date.now),
      dependencies: {
        database: () => store.ping(),
        ...(redis === null
          ? {}
          : {
              redis: async () => {
                // A connection that is not up fails at once; a hung one is cut by the readiness budget.
                if (redis.command.status !== 'ready') throw new Error(`the connection is ${redis.command.status}`);
                await redis.command.ping();
              },
            }),
      },
      now: now ?? Date.now,
      pipeline,
    };
    // Revoked credentials (here or on another instance): cached keys and users go, streams of revoked keys end.
    pipeline.on('credentials', (change: CredentialChange) => {
      ctx.credentials.invalidate(change);
      if (change.apiKeyIds === undefined || change.apiKeyIds.length === 0) return;
      const ids = new Set(change.apiKeyIds);
      for (const runtime of ctx.environments.all()) runtime.hub.endStreamsOf(ids);
    });
    const keyUsage = new KeyUsage(ctx, logger);
    ctx.keyUsage = keyUsage;
    keyUsage.start();
    undo.push(() => keyUsage.stop());
    const app = createApp(ctx);
    // The port is bound before first-start set-up: a busy port must fail the start before the
    // once-only admin password and SDK keys exist (they would be printed, then lost). Requests
    // that arrive meanwhile get a 503 with Retry-After.
    let handle: (req: Request, env: Parameters<typeof app.fetch>[1]) => Response | Promise<Response> = () =>
      startingResponse(options.docsBaseUrl);
    const server: ServerType = await new Promise((resolve, reject) => {
      const s = serve(
        {
          fetch: (req, env) => handle(req, env),
          port: options.port,
          hostname: options.host,
          serverOptions: {
            requestTimeout: options.requestTimeoutMs,
            headersTimeout: Math.min(options.requestTimeoutMs, 60_000),
            // Node checks the two timeouts above only this often (30 s by default).
            connectionsCheckingInterval: Math.min(1_000, options.requestTimeoutMs),
            // Idle keep-alive connections stay open longer than load balancers' idle timeouts
            // (60 s is common) and than a busy client takes between two requests: a server that
            // closes first (Node's default is 5 s) races the client's next request on that
            // connection, which then fails with ECONNRESET although nothing was wrong.
            keepAliveTimeout: 65_000,
          },
        },
        () => resolve(s),
      );
      s.once('error', reject);
    });
    undo.push(() => new Promise((resolve) => server.close(resolve)));
    const credentials = await once(() => firstStart(ctx));
    if (options.printCredentials) {
      if (credentials !== null) process.stdout.write(describeCredentials(credentials) + '\n');
      else process.stdout.write(describeLaterStart(options) + '\n');
    }
    if (credentials === null && options.adminPassword !== undefined) {
      if (options.printCredentials) process.stderr.write(ignoredPasswordWarning(options) + '\n');
      else logger.warn(ignoredPasswordWarning(options));
    }
    if (options.demo) {
      const admin = await store.getUserByEmail(options.adminEmail);
      if (admin !== null) {
        const created = await once(() => seedDemo(ctx, admin));
        if (created.length > 0) logger.info({ created }, 'demo data seeded');
      }
    }
    startRetention(ctx, jobs);
    const experiments = new ExperimentService(ctx);
    const scheduler = new Scheduler(ctx, experiments);
    scheduler.start(jobs);
    const safety = new SafetyMonitor(ctx, experiments, new ResultsService(ctx), options.safetyIntervalMs);
    safety.start(jobs);
    const rollouts = new RolloutMonitor(ctx, new ResultsService(ctx), options.rolloutIntervalMs);
    rollouts.start(jobs);
    const webhooks = new WebhookWorker(ctx, {
      pollMs: options.webhookPollMs,
      retryBaseMs: options.webhookRetryBaseMs,
      retryMaxDelayMs: options.webhookRetryMaxDelayMs,
      retryWindowMs: options.webhookRetryWindowMs,
      timeoutMs: options.webhookTimeoutMs,
      leaseMs: options.webhookTimeoutMs * 3,
      disableAfterFailures: options.webhookDisableAfterFailures,
      disableAfterMs: options.webhookDisableAfterMs,
      allowPrivate: options.webhookAllowPrivate,
    });
    webhooks.start();
    undo.push(() => webhooks.stop());
    // A schedule saved on any instance re-plans the leader's scheduler.
    pipeline.on('experiments', () => scheduler.trigger());
    // A commit that wrote webhook events is sent without waiting for the worker's next poll.
    pipeline.on('webhooks', () => webhooks.kick());
    pipeline.start();
    leadership.start();
    handle = (req, env) => app.fetch(req, env);
    const port = (server.address() as AddressInfo).port;
    const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
    logger.info({ url, db: store.kind === 'sqlite' ? options.dbPath : store.kind }, 'switchyard listening');
    let closing: Promise<void> | null = null;
    return {
      url,
      port,
      ctx,
      credentials,
      jobs: { scheduler, safety, rollouts, webhooks, runner: jobs, leadership },
      pipeline,
      fanout,
      close() {
        closing ??= (async () => {
          const stoppingWebhooks = webhooks.stop();
          // The lease goes first: another instance takes the jobs over while this one drains.
          await jobs.stop();
          await leadership.close();
          environments.close();
          await new Promise<void>((resolve) => {
            const http = server as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
            // In-flight requests get a grace period; a connection still busy after it (a client
            // that keeps sending on a kept-alive connection) is cut so that close() always ends.
            const force = setTimeout(() => http.closeAllConnections?.(), SHUTDOWN_GRACE_MS);
            server.close(() => {
              clearTimeout(force);
              resolve();
            });
            // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
            http.closeIdleConnections?.();
          });
          await events.drain();
          // The counts of the hour so far, before the store closes.
          await keyUsage.stop();
          await stoppingWebhooks;
          await pipeline.close();
          await redis?.close();
          await store.close();
        })();
        return closing;
      },
    };
  }
}
