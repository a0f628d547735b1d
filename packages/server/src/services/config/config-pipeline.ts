import { randomUUID } from 'node:crypto';
import type { ConfigPatch } from '@switchyard/core';
import type { Logger } from 'pino';
import type { CredentialChange } from '../../auth/credential-cache';
import type { CommitResult, Store, UnitOfWork } from '../../store/types';
import type { RedisConnections } from '../infra/redis';
import type { ClusterSignal, Leadership } from '../jobs/leadership';
import { ConfigFanout, type CatchUpReason, type FanoutTarget } from './config-fanout';
import type { EnvironmentRuntime, EnvironmentRuntimes } from './environment-runtimes';

/** Config-log entries read per query while catching up. */
const CATCH_UP_PAGE = 1000;

/** What the pipeline tells its subscribers, and with what. */
export interface PipelineTopics {
  /** Experiments or rollouts changed, here or on another instance: the scheduler re-plans. */
  experiments: [];
  /** Credentials were revoked or changed, here or on another instance (`{}`: anything may have changed). */
  credentials: [change: CredentialChange];
  /** A commit here wrote webhook events, or a delivery became due: the webhook worker runs a pass. */
  webhooks: [];
}

export type PipelineTopic = keyof PipelineTopics;
export type PipelineListener<T extends PipelineTopic> = (...args: PipelineTopics[T]) => void;

/** Counters of the signals between instances, for tests and metrics. */
export interface SignalStats {
  sent: number;
  /** Signals from other instances, acted on. */
  received: number;
  /** This instance's own signals coming back on the shared channel, ignored (it acted when it sent them). */
  ownEchoes: number;
}

export interface ConfigPipelineOptions {
  store: Store;
  environments: EnvironmentRuntimes;
  /** The channel signals between instances travel on. */
  leadership: Leadership;
  logger: Logger;
  /** Config sync with other instances sharing the store; `null` for a lone process. */
  sync: { redis: RedisConnections | null; pollMs: number; channel?: string } | null;
}

/**
 * The server's one write path for anything that changes what instances hold in memory:
 *
 * 1. **commit** — {@link commit} writes a unit of work (rows, audit, each environment's config
 *    patch, webhook outbox) in one store transaction;
 * 2. **fan-out** — each new config version is published to the other instances (Redis), who
 *    catch up from the store's config log; a message, a reconnect or the poll makes this
 *    instance catch up the same way;
 * 3. **apply** — every change to a live config, local or caught up, runs on ONE queue, one at a
 *    time, in version order (a catch-up never interleaves with a local apply, so SSE clients see
 *    versions in order); a local commit resolves after its own version is applied;
 * 4. **subscribers** — SSE streams follow each environment's `ConfigState`; the typed topics
 *    ({@link PipelineTopics}) reach the scheduler, the credential cache and the webhook worker.
 *    Experiment and credential changes also travel to the other instances as cluster signals,
 *    tagged with this process's {@link origin} so that its own echo is ignored.
 *
 * Subscribers are registered while the server is wired, before {@link start}; registering later
 * is a programming error (it throws), so nothing can be missed by a late subscriber.
 *
 * @example
 * ```ts
 * const pipeline = new ConfigPipeline({ store, environments, leadership, logger, sync: null });
 * pipeline.on('experiments', () => scheduler.trigger());
 * pipeline.start();
 * const { versions } = await pipeline.commit({ writes, configPatches: { production: patch } });
 * ```
 */
export class ConfigPipeline {
  /** This process's id on the shared channels. */
  readonly origin: string = randomUUID();
  /** Cross-instance config sync; `null` for a lone process. */
  readonly fanout: ConfigFanout | null;
  readonly signals: SignalStats = { sent: 0, received: 0, ownEchoes: 0 };
  private readonly listeners: { [T in PipelineTopic]: PipelineListener<T>[] } = { experiments: [], credentials: [], webhooks: [] };
  /** The apply queue: each task starts when the previous one settled. */
  private chain: Promise<void> = Promise.resolve();
  /** A queued catch-up that has not started yet: later requests share it. */
  private queuedCatchUp: Promise<void> | null = null;
  private started = false;
  private closed = false;
  private lastWarned = 0;

  constructor(private readonly options: ConfigPipelineOptions) {
    const target: FanoutTarget = {
      defaultEnvironment: options.environments.defaultEnvironment,
      versionOf: (environment) => options.environments.peek(environment)?.config.version,
      catchUp: (reason) => this.catchUp(reason),
    };
    this.fanout = options.sync === null ? null : new ConfigFanout({ ...options.sync, logger: options.logger, origin: this.origin }, target);
  }

  /** Registers a subscriber (during wiring only: before {@link start}). */
  on<T extends PipelineTopic>(topic: T, listener: PipelineListener<T>): void {
    if (this.started) throw new Error(`config pipeline: '${topic}' subscribers are registered before start()`);
    this.listeners[topic].push(listener);
  }

  /** Starts the config sync and listening to other instances' signals; no subscribers after this. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.leadership.onSignal((signal) => this.onSignal(signal));
    // Signals sent while this instance's channel was down are lost: forget what they could have changed.
    this.options.leadership.onResync(() => {
      this.emit('credentials', {});
      this.emit('experiments');
    });
    this.fanout?.start();
  }

  /**
   * Commits a unit of work, publishes the config versions it produced to the other instances and
   * resolves once this instance's live config of each patched environment includes them.
   * A failure to apply is logged and left to the next catch-up: the commit itself stands.
   */
  async commit(work: UnitOfWork): Promise<CommitResult> {
    const result = await this.options.store.commit(work);
    if (work.webhookEvents !== undefined && work.webhookEvents.length > 0) this.emit('webhooks');
    const versions = Object.entries(result.versions);
    for (const [environment, version] of versions) this.fanout?.publish(environment, version);
    for (const [environment, version] of versions)
      await this.enqueue(() => this.advance(environment, version, work.configPatches?.[environment]));
    return result;
  }

  /** Experiments (or rollouts) changed: the scheduler re-plans, here at once and on every other instance. */
  experimentsChanged(): void {
    this.emit('experiments');
    this.broadcast({ type: 'experiments' });
  }

  /**
   * Credentials were revoked or changed (a key revoked or deleted, a user deleted, demoted, given
   * a new password or logged out): on every instance, cached keys and users are dropped and open
   * SDK streams of those keys end.
   */
  credentialsChanged(change: CredentialChange): void {
    this.emit('credentials', change);
    this.broadcast({ type: 'credentials', ...change });
  }

  /** A webhook delivery became due without an outbox write (re-enabled hook, redelivery): send now. */
  webhooksDue(): void {
    this.emit('webhooks');
  }

  /**
   * Brings every loaded environment up to the store's version now (queued behind any running
   * apply). Used by the fan-out's messages and poll, and by tests; never rejects.
   */
  catchUp(reason: CatchUpReason): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.queuedCatchUp !== null) return this.queuedCatchUp;
    const queued = this.enqueue(async () => {
      // Started: a request from now on needs a fresh look at the store.
      this.queuedCatchUp = null;
      await this.catchUpOnce(reason);
    });
    this.queuedCatchUp = queued;
    return queued;
  }

  /** Stops the sync; waits for queued applies (the store stays open). */
  async close(): Promise<void> {
    this.closed = true;
    this.fanout?.close();
    await this.chain;
  }

  /** After a local commit of `version`: applies the patch in hand, or the log up to it when others' versions came first. */
  private async advance(environment: string, version: number, patch: Omit<ConfigPatch, 'version'> | undefined): Promise<void> {
    const runtime = await this.options.environments.get(environment);
    const config = runtime.config;
    if (config.version >= version) return;
    if (patch !== undefined && config.version === version - 1) {
      await config.apply({ ...patch, version });
      return;
    }
    if (this.fanout !== null) this.fanout.stats.catchUps.commit++;
    await this.applyLog(runtime, version);
  }

  private async catchUpOnce(reason: CatchUpReason): Promise<void> {
    const latest = await this.options.store.configVersions();
    let counted = false;
    for (const runtime of this.options.environments.all()) {
      const target = latest[runtime.environment] ?? 0;
      if (target <= runtime.config.version) continue;
      if (!counted && this.fanout !== null) this.fanout.stats.catchUps[reason]++;
      counted = true;
      await this.applyLog(runtime, target);
    }
  }

  /** Applies an environment's logged patches in version order until its config is at `target` or later. */
  private async applyLog(runtime: EnvironmentRuntime, target: number): Promise<void> {
    const config = runtime.config;
    while (config.version < target && !this.closed) {
      const before = config.version;
      const entries = await this.options.store.configLogSince(runtime.environment, before, CATCH_UP_PAGE);
      // apply() ignores what it already has and reloads from the store on a gap.
      for (const e of entries) await config.apply(e.patch);
      if (config.version <= before) {
        // The log no longer holds what is missing: rebuild from the rows.
        await config.load();
        break;
      }
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch (err) {
        if (this.fanout !== null) this.fanout.stats.errors++;
        this.warn(err, 'applying a config change failed; the next commit, poll or message catches up from the store');
      }
    });
    this.chain = run;
    return run;
  }

  private broadcast(signal: ClusterSignal): void {
    this.signals.sent++;
    this.options.leadership.publish({ ...signal, origin: this.origin });
  }

  private onSignal(signal: ClusterSignal): void {
    if (signal.origin === this.origin) {
      this.signals.ownEchoes++;
      return;
    }
    this.signals.received++;
    if (signal.type === 'experiments') this.emit('experiments');
    else {
      const change: CredentialChange = {};
      if (signal.userId !== undefined) change.userId = signal.userId;
      if (signal.apiKeyIds !== undefined) change.apiKeyIds = signal.apiKeyIds;
      this.emit('credentials', change);
    }
  }

  private emit<T extends PipelineTopic>(topic: T, ...args: PipelineTopics[T]): void {
    for (const listener of this.listeners[topic]) {
      try {
        listener(...args);
      } catch (err) {
        // One subscriber's failure must not fail the write that already committed, nor starve the others.
        this.options.logger.error({ err, topic }, 'a config pipeline subscriber failed');
      }
    }
  }

  private warn(err: unknown, msg: string): void {
    if (this.fanout !== null) return this.fanout.warn(err, msg);
    const now = Date.now();
    if (now - this.lastWarned < 30_000) return;
    this.lastWarned = now;
    this.options.logger.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  }
}
