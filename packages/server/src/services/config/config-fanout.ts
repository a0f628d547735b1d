import type { Logger } from 'pino';
import type { RedisConnections } from '../infra/redis';

/** The Redis pub/sub channel carrying `{"environment": E, "version": N, "instance": origin}` after each config commit. */
export const CONFIG_CHANNEL = 'switchyard:config';

export type CatchUpReason = 'message' | 'poll' | 'reconnect' | 'commit';

/** Counters, for metrics and tests: which path brought this instance up to date. */
export interface FanoutStats {
  published: number;
  publishFailures: number;
  /** Well-formed messages received on the channel from other instances (this instance's own echoes are not counted). */
  received: number;
  lastReceivedVersion: number;
  /** Catch-ups that found this instance behind the store, by what triggered them ('commit': a local commit found others' versions unseen). */
  catchUps: Record<CatchUpReason, number>;
  errors: number;
}

export interface ConfigFanoutOptions {
  /** `null`: no Redis, the poll alone keeps instances in sync. */
  redis: RedisConnections | null;
  /** How often to compare the store's config version with this instance's (0: never). */
  pollMs: number;
  logger: Logger;
  channel?: string;
  /** This process's id: messages carrying it are its own echoes and are ignored. */
  origin: string;
}

/** What the fan-out asks of the config pipeline that owns it. */
export interface FanoutTarget {
  /** The environment messages without one are about (stores made before environments). */
  readonly defaultEnvironment: string;
  /** This instance's config version of `environment`, or `undefined` when it is not loaded here. */
  versionOf(environment: string): number | undefined;
  /** Brings every loaded environment up to the store's version (queued; never rejects). */
  catchUp(reason: CatchUpReason): Promise<void>;
}

/**
 * The transport between instances sharing a store: after a local commit the pipeline publishes
 * `{environment, version}` on {@link CONFIG_CHANNEL} (fire and forget: a publish never delays or
 * fails the request); a message from another instance with a version newer than this one's, a
 * (re)connected subscriber and every `pollMs` make the pipeline catch up from the store. The
 * poll is what keeps instances in sync with Redis down or absent, or a message lost (pub/sub is
 * at-most-once). It applies nothing itself: applying is the pipeline's, on its one queue.
 *
 * Redis errors are logged (throttled), never thrown.
 *
 * @example
 * ```ts
 * const fanout = new ConfigFanout({ redis, pollMs: 5000, logger, origin }, pipeline);
 * fanout.start();
 * fanout.publish('production', 42);
 * ```
 */
export class ConfigFanout {
  readonly stats: FanoutStats = {
    published: 0,
    publishFailures: 0,
    received: 0,
    lastReceivedVersion: 0,
    catchUps: { message: 0, poll: 0, reconnect: 0, commit: 0 },
    errors: 0,
  };
  private readonly channel: string;
  private timer: NodeJS.Timeout | null = null;
  private subscribed = false;
  private closed = false;
  private lastWarned = 0;
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly options: ConfigFanoutOptions,
    private readonly target: FanoutTarget,
  ) {
    this.channel = options.channel ?? CONFIG_CHANNEL;
  }

  /** Subscribed to the channel and able to publish (always `false` without Redis). */
  get connected(): boolean {
    const r = this.options.redis;
    return r !== null && r.command.status === 'ready' && this.subscribed;
  }

  /** Starts listening and polling. */
  start(): void {
    const redis = this.options.redis;
    if (redis !== null) {
      const sub = redis.subscriber;
      const onMessage = (channel: string, message: string) => this.onMessage(channel, message);
      const onReady = () => this.subscribe();
      const onDown = () => {
        this.subscribed = false;
      };
      sub.on('message', onMessage);
      sub.on('ready', onReady);
      sub.on('close', onDown);
      this.detach.push(() => {
        sub.off('message', onMessage);
        sub.off('ready', onReady);
        sub.off('close', onDown);
      });
      if (sub.status === 'ready') this.subscribe();
    }
    if (this.options.pollMs > 0) {
      this.timer = setInterval(() => void this.target.catchUp('poll'), this.options.pollMs);
      this.timer.unref();
    }
  }

  /** Stops polling and listening. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const d of this.detach) d();
  }

  /** Tells the other instances that `environment` is at `version` now. */
  publish(environment: string, version: number): void {
    const redis = this.options.redis;
    if (redis === null || this.closed) return;
    const command = redis.command;
    if (command.status !== 'ready') {
      this.stats.publishFailures++;
      return;
    }
    command.publish(this.channel, JSON.stringify({ environment, version, instance: this.options.origin })).then(
      () => {
        this.stats.published++;
      },
      (err: unknown) => {
        this.stats.publishFailures++;
        this.warn(err, 'redis publish failed; other instances catch up by polling');
      },
    );
  }

  /** Logs a failure of the sync, at most every 30 s. */
  warn(err: unknown, msg: string): void {
    const now = Date.now();
    if (now - this.lastWarned < 30_000) return;
    this.lastWarned = now;
    this.options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  }

  private subscribe(): void {
    const sub = this.options.redis!.subscriber;
    sub.subscribe(this.channel).then(
      () => {
        this.subscribed = true;
        // Messages sent while disconnected are gone: look at the store once.
        void this.target.catchUp('reconnect');
      },
      (err: unknown) => this.warn(err, 'redis subscribe failed; the poll keeps this instance in sync'),
    );
  }

  private onMessage(channel: string, message: string): void {
    if (channel !== this.channel || this.closed) return;
    let parsed: { version?: unknown; environment?: unknown; instance?: unknown };
    try {
      parsed = JSON.parse(message) as { version?: unknown; environment?: unknown; instance?: unknown };
    } catch {
      return;
    }
    // This instance's own commits are applied by its pipeline, not through the channel.
    if (parsed.instance === this.options.origin) return;
    const version = parsed.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return;
    const environment = typeof parsed.environment === 'string' ? parsed.environment : this.target.defaultEnvironment;
    this.stats.received++;
    this.stats.lastReceivedVersion = version;
    const current = this.target.versionOf(environment);
    // An environment not loaded here is read from the store when first used.
    if (current !== undefined && version > current) void this.target.catchUp('message');
  }
}
