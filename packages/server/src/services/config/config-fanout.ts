import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../../store/types';
import type { EnvironmentRuntime, EnvironmentRuntimes } from './environment-runtimes';
import type { RedisConnections } from '../infra/redis';

/** The Redis pub/sub channel carrying `{"environment": E, "version": N}` after each config commit. */
export const CONFIG_CHANNEL = 'switchyard:config';

/** Config-log entries read per query while catching up. */
const CATCH_UP_PAGE = 1000;

export type CatchUpReason = 'message' | 'poll' | 'reconnect' | 'commit';

/** Counters, for metrics and tests: which path brought this instance up to date. */
export interface FanoutStats {
  published: number;
  publishFailures: number;
  /** Well-formed messages received on the channel (including this instance's own). */
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
}

/**
 * Wraps a store so every commit that produced config versions awaits `onVersions` (after the
 * transaction committed, before the commit resolves to its caller). Every other member is the
 * store's own.
 */
export function observeCommits<S extends Store>(store: S, onVersions: (versions: Record<string, number>) => Promise<void>): S {
  const commit: Store['commit'] = async (work) => {
    const result = await store.commit(work);
    if (Object.keys(result.versions).length > 0) await onVersions(result.versions);
    return result;
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'commit') return commit;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Keeps this instance's live config of every loaded environment in step with config versions
 * committed by other instances sharing the store (each environment has its own sequence):
 *
 * - after a local commit produces version N of environment E it publishes
 *   `{environment: E, version: N}` on {@link CONFIG_CHANNEL} (fire and forget: a publish never
 *   delays or fails the request), then brings E's config up to N from the log before the commit
 *   resolves, so the caller's own `ConfigState.apply(N)` finds it applied;
 * - on a message with a version newer than its own for that environment, and whenever the
 *   subscriber (re)connects, it catches up from the store: `configLogSince(E, current)` applied
 *   in order through `ConfigState.apply` (which reloads on a gap and fans every patch out to
 *   that environment's SSE clients);
 * - every `pollMs` it compares `store.configVersions()` with its own, so with Redis down (or
 *   absent, or a message lost: pub/sub is at-most-once) it still catches up within one interval.
 *
 * An environment this instance has not loaded yet needs nothing: it is loaded from the store
 * when first used.
 *
 * Every apply this class makes runs on one queue, one at a time, and local commits wait for it:
 * `ConfigState.apply` is never entered twice at once (its gap reload awaits the store, and an
 * apply running meanwhile would reach SSE clients ahead of the versions the reload replays).
 * Redis and store errors are logged (throttled), never thrown.
 */
export class ConfigFanout {
  /** The store to use everywhere: commits through it are published. */
  readonly store: Store;
  readonly stats: FanoutStats = {
    published: 0,
    publishFailures: 0,
    received: 0,
    lastReceivedVersion: 0,
    catchUps: { message: 0, poll: 0, reconnect: 0, commit: 0 },
    errors: 0,
  };
  private readonly instanceId = randomUUID();
  private readonly channel: string;
  private runtimes: EnvironmentRuntimes | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The apply queue: each task starts when the previous one settled. */
  private chain: Promise<void> = Promise.resolve();
  /** A queued catch-up that has not started yet: later requests share it. */
  private queuedCatchUp: Promise<void> | null = null;
  private subscribed = false;
  private closed = false;
  private lastWarned = 0;
  private readonly detach: (() => void)[] = [];

  constructor(
    private readonly base: Store,
    private readonly options: ConfigFanoutOptions,
  ) {
    this.channel = options.channel ?? CONFIG_CHANNEL;
    this.store = observeCommits(base, async (versions) => {
      for (const [environment, version] of Object.entries(versions)) {
        this.publish(environment, version);
        await this.syncTo(environment, version);
      }
    });
  }

  /** Subscribed to the channel and able to publish (always `false` without Redis). */
  get connected(): boolean {
    const r = this.options.redis;
    return r !== null && r.command.status === 'ready' && this.subscribed;
  }

  /** Starts listening and polling for the environments' live configs. */
  start(runtimes: EnvironmentRuntimes): void {
    this.runtimes = runtimes;
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
      this.timer = setInterval(() => void this.catchUp('poll'), this.options.pollMs);
      this.timer.unref();
    }
  }

  /**
   * Brings the config up to the store's version now (queued behind any running apply).
   * Exposed for tests and operators; resolves when done, never rejects.
   */
  catchUp(reason: CatchUpReason): Promise<void> {
    if (this.closed || this.runtimes === null) return Promise.resolve();
    if (this.queuedCatchUp !== null) return this.queuedCatchUp;
    const queued = this.enqueue(async () => {
      // Started: a request from now on needs a fresh look at the store.
      this.queuedCatchUp = null;
      await this.catchUpOnce(reason);
    });
    this.queuedCatchUp = queued;
    return queued;
  }

  /** Stops polling and listening; waits for queued applies (the store stays open). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    for (const d of this.detach) d();
    await this.chain;
  }

  /** After a local commit of `version` of `environment`: applies its log up to it (others' versions first). */
  private syncTo(environment: string, version: number): Promise<void> {
    if (this.closed || this.runtimes === null) return Promise.resolve();
    return this.enqueue(async () => {
      const runtime = this.runtimes!.peek(environment);
      if (runtime === undefined || runtime.config.version >= version) return;
      if (runtime.config.version < version - 1) this.stats.catchUps.commit++;
      await this.applyLog(runtime, version);
    });
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch (err) {
        this.stats.errors++;
        this.warn(err, 'config catch-up from the store failed; retrying on the next poll or message');
      }
    });
    this.chain = run;
    return run;
  }

  private async catchUpOnce(reason: CatchUpReason): Promise<void> {
    const latest = await this.base.configVersions();
    let counted = false;
    for (const runtime of this.runtimes!.all()) {
      const target = latest[runtime.environment] ?? 0;
      if (target <= runtime.config.version) continue;
      if (!counted) this.stats.catchUps[reason]++;
      counted = true;
      await this.applyLog(runtime, target);
    }
  }

  /** Applies an environment's logged patches in version order until its config is at `target` or later. */
  private async applyLog(runtime: EnvironmentRuntime, target: number): Promise<void> {
    const config = runtime.config;
    while (config.version < target && !this.closed) {
      const before = config.version;
      const entries = await this.base.configLogSince(runtime.environment, before, CATCH_UP_PAGE);
      // apply() ignores what it already has and reloads from the store on a gap.
      for (const e of entries) await config.apply(e.patch);
      if (config.version <= before) {
        // The log no longer holds what is missing: rebuild from the rows.
        await config.load();
        break;
      }
    }
  }

  private subscribe(): void {
    const sub = this.options.redis!.subscriber;
    sub.subscribe(this.channel).then(
      () => {
        this.subscribed = true;
        // Messages sent while disconnected are gone: look at the store once.
        void this.catchUp('reconnect');
      },
      (err: unknown) => this.warn(err, 'redis subscribe failed; the poll keeps this instance in sync'),
    );
  }

  private onMessage(channel: string, message: string): void {
    if (channel !== this.channel) return;
    let parsed: { version?: unknown; environment?: unknown };
    try {
      parsed = JSON.parse(message) as { version?: unknown; environment?: unknown };
    } catch {
      return;
    }
    const version = parsed.version;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return;
    const environment = typeof parsed.environment === 'string' ? parsed.environment : this.runtimes?.defaultEnvironment;
    this.stats.received++;
    this.stats.lastReceivedVersion = version;
    const runtime = environment === undefined ? undefined : this.runtimes?.peek(environment);
    // An environment not loaded here is read from the store when first used.
    if (runtime !== undefined && version > runtime.config.version) void this.catchUp('message');
  }

  private publish(environment: string, version: number): void {
    const redis = this.options.redis;
    if (redis === null || this.closed) return;
    const command = redis.command;
    if (command.status !== 'ready') {
      this.stats.publishFailures++;
      return;
    }
    command.publish(this.channel, JSON.stringify({ environment, version, instance: this.instanceId })).then(
      () => {
        this.stats.published++;
      },
      (err: unknown) => {
        this.stats.publishFailures++;
        this.warn(err, 'redis publish failed; other instances catch up by polling');
      },
    );
  }

  private warn(err: unknown, msg: string): void {
    const now = Date.now();
    if (now - this.lastWarned < 30_000) return;
    this.lastWarned = now;
    this.options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  }
}
