import { emptyConfig, ErrorCode, evaluate, Reason, type EvaluationContext, type EvaluationDetail, type JsonValue } from '@switchyard/core';
import { loadBootstrap } from './bootstrap';
import { ConfigStore, type ConfigChange } from './config-store';
import type { ClientEvents, ClientStats, ReadyEvent, TrackOptions } from './client-events';
import { Emitter, type Listener } from './emitter';
import { SwitchyardError } from './errors';
import { EventProcessor, type EventStats } from './events/processor';
import { EventSender } from './events/sender';
import { trackEvent } from './events/track-event';
import { ExposureLru } from './exposure-lru';
import { createTransport, type Transport } from './http/transport';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options';
import { ReadyWaiters } from './ready-waiters';
import { Synchronizer } from './sync/synchronizer';
import { eventId, toUnitId } from '@switchyard/core/protocol';

const NO_EVENTS: EventStats = Object.freeze({
  queued: 0,
  delivered: 0,
  duplicates: 0,
  droppedOverflow: 0,
  droppedRejected: 0,
  droppedOnClose: 0,
});

/** The caller's default with an error code: the not-ready and can't-evaluate outcomes. */
function fallback<T>(value: T, errorCode: ErrorCode): EvaluationDetail<T> {
  return { value, variant: null, reason: Reason.ERROR, errorCode };
}

/**
 * A Switchyard client: holds the config in memory, kept in sync over SSE, and evaluates flags
 * and experiments in process. Create one per process with {@link createClient} and share it.
 *
 * Evaluation never throws and never waits: before the first config it returns your default
 * (reason `ERROR`, error code `PROVIDER_NOT_READY`).
 *
 * @example
 * ```ts
 * const client = createClient({ sdkKey: process.env.SWITCHYARD_SDK_KEY!, baseUrl: 'https://switchyard.internal' });
 * await client.ready({ timeoutMs: 2000 }).catch(() => {}); // or serve defaults until it is
 * if (client.boolean('new-checkout', { key: user.id, country: user.country }, false)) {
 *   renderNewCheckout();
 * }
 * ```
 */
export class SwitchyardClient {
  private readonly options: ResolvedOptions;
  private readonly store = new ConfigStore();
  private readonly emitter: Emitter<ClientEvents>;
  private readonly transport: Transport | null;
  private readonly sync: Synchronizer | null;
  private readonly processor: EventProcessor | null;
  private readonly exposures: ExposureLru | null;
  private readonly readyWaiters = new ReadyWaiters();
  private isReadyFlag = false;
  private isStale = false;
  private fatalError: SwitchyardError | null = null;
  private closing: Promise<void> | null = null;

  /** Prefer {@link createClient}. Throws a {@link SwitchyardError} `INVALID_OPTIONS` for unusable options. */
  constructor(options: ClientOptions) {
    const o = resolveOptions(options);
    this.options = o;
    this.emitter = new Emitter<ClientEvents>(o.logger);
    if (o.bootstrap !== undefined) {
      const r = this.store.replace(loadBootstrap(o.bootstrap), 'bootstrap');
      if (r.status !== 'applied')
        throw new SwitchyardError(
          'INVALID_OPTIONS',
          `bootstrap is not a usable config document: ${r.status === 'invalid' ? r.error : r.status}`,
        );
    } else if (o.offline) {
      this.store.replace(emptyConfig(), 'bootstrap');
    }
    const live = !o.offline;
    this.transport = live ? createTransport({ sdkKey: o.sdkKey, fetch: o.fetch, requestTimeoutMs: o.requestTimeoutMs }) : null;
    const eventsOn = live && o.events.enabled;
    this.exposures = eventsOn ? new ExposureLru(o.exposureCacheSize) : null;
    this.processor =
      eventsOn && this.transport !== null
        ? new EventProcessor(new EventSender(this.transport, o.eventsBaseUrl), {
            ...o.events,
            closeTimeoutMs: o.closeTimeoutMs,
            logger: o.logger,
            onError: (err) => this.emitter.emit('error', err),
          })
        : null;
    this.sync =
      this.transport === null
        ? null
        : new Synchronizer(o, this.store, this.transport, {
            applied: (change) => this.onApplied(change),
            stale: (info) => {
              this.isStale = true;
              this.emitter.emit('stale', info);
            },
            recovered: () => {
              this.isStale = false;
              this.emitter.emit('recovered', { version: this.store.version });
            },
            error: (err) => this.emitter.emit('error', err),
            fatal: (err) => this.onFatal(err),
            // The server answers again: queued events need not wait for their backoff timer.
            reconnected: () => this.processor?.resume(),
          });
    if (this.store.compiled !== null) {
      this.isReadyFlag = true;
      const event: ReadyEvent = {
        version: o.bootstrap === undefined ? null : this.store.version,
        source: o.bootstrap === undefined ? 'offline' : 'bootstrap',
      };
      // Next microtask: listeners attached right after createClient() still hear it.
      queueMicrotask(() => {
        if (this.closing === null) this.emitter.emit('ready', event);
      });
    }
    this.sync?.start();
    o.logger.debug('client created', { offline: o.offline, stream: o.stream, bootstrap: o.bootstrap !== undefined });
  }

  /** `true` once a config is held (bootstrap or server). */
  get isReady(): boolean {
    return this.isReadyFlag;
  }

  /** The held config version, or `null` before the first config. */
  get configVersion(): number | null {
    return this.store.version;
  }

  /**
   * Resolves once the client holds a config: at once with `bootstrap` or `offline`, else when
   * the server's first config arrives. Rejects with a {@link SwitchyardError}: `TIMEOUT` after
   * `timeoutMs` (default: the `readyTimeoutMs` option, 10 s; `Infinity` waits forever),
   * `UNAUTHORIZED` when the key is refused, `CLOSED` when the client is closed first.
   * Evaluation works either way; a rejection only means defaults are being served.
   *
   * @example
   * ```ts
   * try {
   *   await client.ready({ timeoutMs: 2000 });
   * } catch (err) {
   *   logger.warn('Switchyard not ready; serving defaults', err);
   * }
   * ```
   */
  ready(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.isReadyFlag) return Promise.resolve();
    if (this.fatalError !== null) return Promise.reject(this.fatalError);
    if (this.closing !== null) return Promise.reject(new SwitchyardError('CLOSED', 'the client is closed'));
    const ms = options.timeoutMs ?? this.options.readyTimeoutMs;
    return this.readyWaiters.wait(ms);
  }

  /**
   * Evaluates a flag or experiment and returns the full detail: `{ value, variant, reason,
   * ruleId?, errorCode?, inExperiment? }`. The object may be shared between calls; treat it as
   * read-only. For an experiment that enrolls the unit, records one exposure per (experiment, unit).
   *
   * @example
   * ```ts
   * const d = client.detail('new-checkout', { key: 'user-1', country: 'US' }, false);
   * // { value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'us-users' }
   * ```
   */
  detail<T>(key: string, context: EvaluationContext, defaultValue: T): EvaluationDetail<T> {
    // The hot path: kept small so V8 inlines it (and core's evaluate into it); the rare
    // outcomes are built out of line.
    const compiled = this.store.compiled;
    if (compiled === null) return fallback(defaultValue, ErrorCode.PROVIDER_NOT_READY);
    let d: EvaluationDetail<T>;
    try {
      d = evaluate(compiled, key, context, defaultValue);
    } catch {
      // core does not throw; this guards the promise that evaluation never does.
      return fallback(defaultValue, ErrorCode.GENERAL);
    }
    // A flag serving an experiment records the exposure under the experiment.
    if (d.inExperiment === true) this.expose(d.experiment ?? key, context, d.variant);
    return d;
  }

  /**
   * A boolean flag's value, or `defaultValue` when it cannot be evaluated.
   *
   * @example
   * ```ts
   * if (client.boolean('new-checkout', { key: 'user-1', country: 'US' }, false)) showNewCheckout();
   * ```
   */
  boolean(key: string, context: EvaluationContext, defaultValue: boolean): boolean {
    return this.detail(key, context, defaultValue).value;
  }

  /**
   * A string flag's value (or an experiment's variant value), or `defaultValue`.
   *
   * @example
   * ```ts
   * const theme = client.string('theme', { key: 'user-1' }, 'light');
   * ```
   */
  string(key: string, context: EvaluationContext, defaultValue: string): string {
    return this.detail(key, context, defaultValue).value;
  }

  /**
   * A number flag's value, or `defaultValue`.
   *
   * @example
   * ```ts
   * const limit = client.number('rate-limit', { key: 'tenant-7' }, 100);
   * ```
   */
  number(key: string, context: EvaluationContext, defaultValue: number): number {
    return this.detail(key, context, defaultValue).value;
  }

  /**
   * A JSON flag's value (object or array), or `defaultValue`.
   *
   * @example
   * ```ts
   * const banner = client.json('banner', { key: 'user-1' }, { text: 'Welcome', color: 'blue' });
   * ```
   */
  json<T extends JsonValue>(key: string, context: EvaluationContext, defaultValue: T): T {
    return this.detail(key, context, defaultValue).value;
  }

  /**
   * An experiment's variant key for this unit, or `null` when the unit is not enrolled (or the
   * key is unknown). An enrolled unit records one exposure.
   *
   * @example
   * ```ts
   * switch (client.variant('checkout-exp', { key: 'user-1' })) {
   *   case 'one-page': return renderOnePage();
   *   default: return renderClassic(); // control, or not in the experiment
   * }
   * ```
   */
  variant(key: string, context: EvaluationContext): string | null {
    return this.detail<unknown>(key, context, null).variant;
  }

  /**
   * Records a metric event (`type: 'track'`) for the unit `context.key` (or `options.unitId`).
   * Queued and sent in batches; never throws. Invalid input is logged and dropped.
   *
   * @example
   * ```ts
   * client.track('purchase', { key: 'user-1' }, { value: 42.5, properties: { currency: 'EUR' } });
   * ```
   */
  track(eventKey: string, context: EvaluationContext, options: TrackOptions = {}): void {
    const log = this.options.logger;
    try {
      if (this.processor === null) return;
      const event = trackEvent(eventKey, context, options, log);
      if (event === null) return;
      this.processor.enqueue(event);
    } catch (err) {
      log.warn('track(): event dropped', { eventKey: String(eventKey), error: String(err) });
    }
  }

  /**
   * Subscribes to an event; returns a function that unsubscribes. See {@link ClientEvents}.
   *
   * @example
   * ```ts
   * const off = client.on('change', ({ version, keys }) => log.info({ version, keys }, 'flags changed'));
   * client.on('error', (err) => log.warn(err.code, err.message));
   * off();
   * ```
   */
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.emitter.on(event, listener);
  }

  /**
   * Like {@link SwitchyardClient.on}, for one emission.
   *
   * @example
   * ```ts
   * client.once('ready', ({ version }) => log.info({ version }, 'flags loaded'));
   * ```
   */
  once<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.emitter.once(event, listener);
  }

  /**
   * Removes a listener added with {@link SwitchyardClient.on}.
   *
   * @example
   * ```ts
   * client.off('change', onChange);
   * ```
   */
  off<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): void {
    this.emitter.off(event, listener);
  }

  /**
   * Sends the queued events now. Resolves when they were delivered (or dropped by a 4xx), or
   * when the attempt failed: they then stay queued and are retried. Never rejects.
   *
   * @example
   * ```ts
   * client.track('signup', { key: 'user-1' });
   * await client.flush();
   * ```
   */
  async flush(): Promise<void> {
    await this.processor?.flush();
  }

  /**
   * Counters for monitoring: config version, sync mode, staleness, event delivery.
   *
   * @example
   * ```ts
   * metrics.gauge('switchyard_events_dropped', client.stats().events.droppedOverflow);
   * ```
   */
  stats(): ClientStats {
    return {
      configVersion: this.store.version,
      configSource: this.store.source,
      sync: this.sync === null ? 'offline' : this.sync.currentMode,
      stale: this.isStale,
      events: this.processor?.stats ?? { ...NO_EVENTS },
      exposuresRemembered: this.exposures?.size ?? 0,
    };
  }

  /**
   * Stops syncing and delivers queued events (for up to `closeTimeoutMs`, default 5 s). The held
   * config keeps serving evaluations; new events are dropped. Idempotent; never rejects.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => { await client.close(); process.exit(0); });
   * ```
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.sync?.stop();
      this.readyWaiters.rejectAll(new SwitchyardError('CLOSED', 'the client was closed before it was ready'));
      await this.processor?.close();
      await this.transport?.close();
      this.options.logger.debug('client closed');
    })().catch((err: unknown) => this.options.logger.error('close() failed', { error: String(err) }));
    return this.closing;
  }

  private expose(key: string, context: EvaluationContext, variant: string | null): void {
    const seen = this.exposures;
    if (seen === null || variant === null) return;
    const attr = this.store.unitAttribute(key);
    // `context.key` is a named (monomorphic) load; `context[attr]` is a keyed one.
    const raw = attr === 'key' ? context.key : context[attr];
    const unit = toUnitId(raw);
    if (unit === null || !seen.add(key, unit, variant)) return;
    this.processor?.enqueue({ id: eventId(), type: 'exposure', key, unit_id: unit, experiment: key, variant, timestamp: Date.now() });
  }

  private onApplied(change: ConfigChange): void {
    if (!this.isReadyFlag) {
      this.isReadyFlag = true;
      this.readyWaiters.resolveAll();
      this.emitter.emit('ready', { version: change.version, source: change.source });
      return;
    }
    this.emitter.emit('change', change);
  }

  private onFatal(err: SwitchyardError): void {
    this.fatalError = err;
    this.readyWaiters.rejectAll(err);
    this.emitter.emit('error', err);
  }
}
