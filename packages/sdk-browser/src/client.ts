import type { ErrorCode } from '@switchyard/core';
import { STALE_AFTER_MS, unitIdOf } from '@switchyard/core/protocol';
import { createEmitter } from './emitter';
import { SwitchyardError } from './errors';
import { createEventQueue } from './event-queue';
import type { NetOptions, Snapshot, Source, SourceDetail } from './source';
import { defaultStorage, scopedStorage } from './storage';
import type { BrowserClient, ClientEvents, ClientOptions, ClientStatus, Context, FlagDetail } from './types';
import { createWarmCache } from './warm-cache';

/** Request and stream timeouts from the options, with their defaults. */
export function netOptions(options: ClientOptions): NetOptions {
  return { requestTimeoutMs: options.requestTimeoutMs ?? 10_000, staleAfterMs: options.staleAfterMs ?? STALE_AFTER_MS };
}

/** Checks what both modes need and returns the base URL without trailing slashes. */
export function checkOptions(options: ClientOptions, key: unknown, keyName: string): string {
  if (!key || typeof key !== 'string' || !/^https?:\/\//.test(options.baseUrl) || !isObject(options.context)) {
    throw new SwitchyardError('INVALID_OPTIONS', `${keyName}, baseUrl and context are required`);
  }
  return options.baseUrl.replace(/\/+$/, '');
}

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;
const own = Object.prototype.hasOwnProperty;

/**
 * The client both modes share: it serves what its {@link Source} delivers, keeps the last
 * results per context in storage for the next page load, fills in the caller's defaults,
 * records one exposure per (experiment, unit) and queues events, flushed with `sendBeacon`
 * when the page is hidden or unloaded.
 */
export function createClient(options: ClientOptions, baseUrl: string, key: string, source: Source): BrowserClient {
  const store = scopedStorage(options.storage === undefined ? defaultStorage() : options.storage, `${baseUrl} ${key}`);
  const cache = createWarmCache(store);
  const emitter = createEmitter<ClientEvents>();
  const report = (e: SwitchyardError) => emitter.emit('error', e);
  const ev = options.events ?? {};
  const queue = createEventQueue({
    url: `${baseUrl}/sdk/v1/events`,
    key,
    store,
    // The deprecated flat names still work, for one minor version.
    flushIntervalMs: ev.flushIntervalMs ?? options.flushIntervalMs ?? 2000,
    batchSize: ev.batchSize ?? options.flushAt ?? 50,
    capacity: ev.capacity ?? options.maxQueueSize ?? 1000,
    timeoutMs: options.requestTimeoutMs ?? 10_000,
    onError: report,
  });
  const streaming = (options.stream ?? options.streaming) !== false;
  /** When the server was last heard from (data or heartbeat), for the `stale` event. */
  let lastActivityAt = Date.now();
  const exposed = new Set<string>();
  let context: Context;
  let flags: Record<string, SourceDetail> = {};
  /** Version of the fresh values held; -1 while serving cached ones. */
  let version = -1;
  let status: ClientStatus = 'loading';
  /** Bumped by every identify() and by close(): results for an older context are dropped. */
  let generation = 0;
  let pending: Promise<void>;

  /**
   * Takes new results. A loaded snapshot older than what the stream already delivered is
   * dropped; stream snapshots are always taken (a server restored from a backup may go back
   * in version), and a patch needs fresh values to patch.
   */
  const apply = (gen: number, snapshot: Snapshot, how: 'load' | 'put' | 'patch') => {
    const patch = how === 'patch';
    if (gen !== generation || (how === 'load' && snapshot.version < version) || (patch && version < 0)) return;
    const next: Record<string, SourceDetail> = patch ? { ...flags } : {};
    for (const [k, d] of Object.entries(snapshot.flags)) {
      if (d) next[k] = d;
      else delete next[k];
    }
    const changed = Object.keys({ ...flags, ...next }).filter((k) => JSON.stringify(flags[k]) !== JSON.stringify(next[k]));
    const was = status;
    flags = next;
    version = snapshot.version;
    status = 'ready';
    cache.write(context, { version, flags });
    if (changed.length > 0) emitter.emit('change', { keys: changed, version });
    if (was === 'stale') emitter.emit('recovered', { version });
    else if (was !== 'ready') emitter.emit('ready', { version });
  };

  const fail = (gen: number, e: SwitchyardError) => {
    if (gen !== generation) return;
    if (e.code === 'STREAM_ERROR') {
      // The stream is retried with backoff: report the loss once, not every attempt.
      if (status !== 'ready') return;
      status = 'stale';
      report(e);
      emitter.emit('stale', { silentForMs: Date.now() - lastActivityAt, lastActivityAt });
      return;
    }
    report(e);
  };

  const start = (next: Context): Promise<void> => {
    const gen = ++generation;
    context = next;
    const cached = cache.read(next);
    flags = (cached?.flags ?? {}) as Record<string, SourceDetail>;
    version = -1;
    status = cached ? 'cached' : 'loading';
    const now = source.peek?.(next);
    if (now) apply(gen, now, 'load');
    if (streaming)
      source.watch(next, {
        data: (s, p) => apply(gen, s, p ? 'patch' : 'put'),
        error: (e) => fail(gen, e),
        // In touch with the server: events held back by a failed delivery need not wait out the backoff.
        alive: () => {
          lastActivityAt = Date.now();
          queue.resume();
        },
      });
    pending = source.load(next).then(
      (s) => apply(gen, s, 'load'),
      (e: SwitchyardError) => {
        if (gen !== generation || status === 'ready' || status === 'stale') return;
        report(e);
        throw e;
      },
    );
    pending.catch(() => undefined); // a caller that never awaits ready() sees no unhandled rejection
    return pending;
  };

  const expose = (flagKey: string, d: SourceDetail) => {
    // A flag serving an experiment records the exposure under the experiment.
    const key = d.experiment ?? flagKey;
    const unit = d.unitId ?? unitIdOf(context);
    // Keyed by variant too: a unit whose assignment moves (a guarded rollout's growing share) is
    // exposed again, so the server sees it in both arms.
    const id = `${key}\n${unit}\n${d.variant}`;
    if (unit === null || exposed.has(id)) return;
    exposed.add(id);
    queue.push({ type: 'exposure', key, unit_id: unit, experiment: key, variant: d.variant! });
  };

  /** Mirrors core's `evaluate()` on the held results, so both modes answer exactly like core. */
  const evaluate = <T>(flagKey: string, defaultValue: T, record: boolean): FlagDetail<T> => {
    const d = own.call(flags, flagKey) ? flags[flagKey] : undefined;
    if (d === undefined) {
      const errorCode: ErrorCode = status === 'loading' ? 'PROVIDER_NOT_READY' : 'FLAG_NOT_FOUND';
      return { value: defaultValue, variant: null, reason: 'ERROR', errorCode };
    }
    if (d.variant !== null && defaultValue != null && typeof d.value !== typeof defaultValue) {
      const mismatch: FlagDetail<T> = { value: defaultValue, variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' };
      if (d.inExperiment !== undefined) mismatch.inExperiment = false;
      return mismatch;
    }
    // Every optional field the source set (ruleId, errorCode, inExperiment, experiment), not the unit.
    const { unitId: _unit, ...out } = d as FlagDetail<T> & { unitId?: string };
    out.value = d.variant === null ? defaultValue : (d.value as T);
    out.reason = d.reason === 'ERROR' ? d.reason : status === 'cached' ? 'CACHED' : status === 'stale' ? 'STALE' : d.reason;
    if (record && d.inExperiment && d.variant !== null) expose(flagKey, d);
    return out;
  };

  const onHide = () => queue.beacon();
  const onVisibility = () => document.visibilityState === 'hidden' && queue.beacon();
  const hasDocument = typeof document !== 'undefined';
  if (hasDocument) {
    addEventListener('pagehide', onHide);
    document.addEventListener('visibilitychange', onVisibility);
  }

  void start(options.context);

  return {
    get status() {
      return status;
    },
    get context() {
      return context;
    },
    ready({ timeoutMs } = {}) {
      if (status === 'ready' || status === 'stale') return Promise.resolve();
      if (timeoutMs === undefined) return pending;
      return Promise.race([
        pending,
        new Promise<never>((_, reject) => setTimeout(reject, timeoutMs, new SwitchyardError('TIMEOUT', 'not ready'))),
      ]);
    },
    boolean: (k, d) => evaluate(k, d, true).value,
    string: (k, d) => evaluate(k, d, true).value,
    number: (k, d) => evaluate(k, d, true).value,
    json: (k, d) => evaluate(k, d, true).value,
    detail: (k, d) => evaluate(k, d, true),
    variant: (k) => evaluate(k, null, true).variant,
    all: () => Object.fromEntries(Object.keys(flags).map((k) => [k, evaluate(k, null, false)])),
    track(eventKey, { value, properties } = {}) {
      const unit = unitIdOf(context);
      if (unit === null) return report(new SwitchyardError('MISSING_KEY', 'no context key'));
      queue.push({ type: 'track', key: eventKey, unit_id: unit, ...(value !== undefined && { value }), ...(properties && { properties }) });
    },
    identify: (next) =>
      isObject(next) ? start(next) : Promise.reject(new SwitchyardError('INVALID_OPTIONS', 'context must be an object')),
    on: (event, listener) => emitter.on(event, listener),
    flush: () => queue.flush(),
    async close() {
      generation++;
      source.close();
      if (hasDocument) {
        removeEventListener('pagehide', onHide);
        document.removeEventListener('visibilitychange', onVisibility);
      }
      await queue.close(options.closeTimeoutMs ?? 2000);
      emitter.clear();
    },
  };
}
