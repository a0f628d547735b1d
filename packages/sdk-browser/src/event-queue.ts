import { classifyBatchResponse, eventId, splitBatch, type BatchOutcome, type WireEvent } from '@switchyard/core/protocol';
import { SwitchyardError } from './errors';
import { jitter, request } from './http';
import type { ScopedStorage } from './storage';

export type { WireEvent };

/** What {@link createEventQueue} needs. */
export interface EventQueueOptions {
  /** `<baseUrl>/sdk/v1/events`. */
  url: string;
  key: string;
  store: ScopedStorage;
  flushIntervalMs: number;
  /** Events per POST, and the queue length that sends at once. */
  batchSize: number;
  /** Oldest events are dropped beyond this many. */
  capacity: number;
  /** Timeout of each POST. */
  timeoutMs: number;
  onError(error: SwitchyardError): void;
}

/** Batches events and sends them; `beacon()` hands everything to the browser when the page goes away. */
export interface EventQueue {
  push(event: Omit<WireEvent, 'id' | 'timestamp'>): void;
  flush(): Promise<void>;
  /** The server is reachable again: a batch waiting out a failure's backoff goes now. */
  resume(): void;
  beacon(): void;
  /** Sends what it can within `timeoutMs`, then beacons the rest. */
  close(timeoutMs: number): Promise<void>;
}

/** Bytes per beacon: browsers allow 64 KiB of keepalive requests in flight per page. */
export const BEACON_BYTES = 60_000;

/**
 * Queues events and sends them in batches of `batchSize` at most `flushIntervalMs` after the
 * first one (at once when `batchSize` are queued), with the protocol's batch policy, the same as
 * the Node SDK's: a failed request is retried with the same ids (counted once) after
 * `Retry-After` or a jittered backoff, a `413` splits the batch, and a `400` drops only the
 * events it names (reported as `EVENTS_REJECTED`) and resends the others once. A delivery outage
 * is reported once (`EVENTS_UNDELIVERED`), not per attempt.
 *
 * `beacon()` sends the whole queue with `navigator.sendBeacon` as `text/plain` with the key in
 * `?key=` (beacons cannot set headers, and a text body needs no CORS preflight). What the
 * browser refuses is kept in storage and sent on the next page load.
 *
 * @example
 * ```ts
 * const q = createEventQueue({ url, key, store, flushIntervalMs: 2000, batchSize: 50, capacity: 1000, timeoutMs: 10_000, onError });
 * q.push({ type: 'track', key: 'purchase', unit_id: 'user-1', value: 42.5 });
 * addEventListener('pagehide', () => q.beacon());
 * ```
 */
export function createEventQueue(o: EventQueueOptions): EventQueue {
  let queue: WireEvent[] = o.store.get<WireEvent[]>('q') ?? [];
  /** Batches taken from the queue and not settled; the first is the one being sent. */
  let pending: WireEvent[][] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let outage = false;
  o.store.remove('q');

  const schedule = (ms: number) => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, ms);
  };

  const post = async (batch: WireEvent[]): Promise<BatchOutcome> => {
    try {
      const res = await request(o.url, o.key, { events: batch }, o.timeoutMs);
      return classifyBatchResponse(res.status, await res.text().catch(() => ''), res.headers.get('retry-after'), batch.length);
    } catch (e) {
      return { kind: 'retry', status: null, retryAfterMs: null, reason: (e as Error).message };
    }
  };

  /** Sends one batch; `false` when it has to be retried later. */
  const sendBatch = async (): Promise<boolean> => {
    if (pending.length === 0) pending.push(queue.splice(0, o.batchSize));
    const batch = pending[0]!;
    const r = await post(batch);
    if (r.kind === 'retry') {
      failures++;
      if (!outage) {
        outage = true;
        o.onError(new SwitchyardError('EVENTS_UNDELIVERED', r.reason));
      }
      schedule(r.retryAfterMs ?? jitter(failures));
      return false;
    }
    failures = 0;
    outage = false;
    if (r.kind === 'ok') pending.shift();
    else if (r.kind === 'split') pending.splice(0, 1, ...splitBatch(batch));
    else {
      // The others are resent; every drop removes at least one event, so this ends.
      const rest = batch.filter((_, i) => !r.indexes.includes(i));
      if (rest.length > 0) pending[0] = rest;
      else pending.shift();
      o.onError(new SwitchyardError('EVENTS_REJECTED', `${r.indexes.length} dropped: ${r.code}`, { status: r.status }));
    }
    return true;
  };

  let sending: Promise<void> | undefined;
  /** Sends every queued event, batch by batch, until nothing is left or a batch fails. */
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    return (sending ??= (async () => {
      while ((pending.length > 0 || queue.length > 0) && (await sendBatch()));
    })().finally(() => (sending = undefined)));
  };

  const beacon = () => {
    clearTimeout(timer);
    timer = undefined;
    // Unsettled batches go too: their request may die with the page, and a resent id counts once.
    const rest = pending.flat().concat(queue);
    pending = [];
    queue = [];
    const url = `${o.url}?key=${encodeURIComponent(o.key)}`;
    while (rest.length > 0) {
      let n = rest.length;
      let blob: Blob;
      while ((blob = new Blob([JSON.stringify({ events: rest.slice(0, n) })], { type: 'text/plain' })).size > BEACON_BYTES && n > 1)
        n = Math.ceil(n / 2);
      if (!navigator.sendBeacon?.(url, blob)) break;
      rest.splice(0, n);
    }
    if (rest.length > 0) o.store.set('q', (o.store.get<WireEvent[]>('q') ?? []).concat(rest).slice(-o.capacity));
  };

  if (queue.length > 0) schedule(0);
  return {
    push(event) {
      queue.push({ ...event, id: eventId(), timestamp: Date.now() });
      if (queue.length > o.capacity) queue.shift();
      if (queue.length >= o.batchSize && failures === 0) void flush();
      else schedule(o.flushIntervalMs);
    },
    flush,
    resume() {
      // Only after a failed delivery: batching and the flush interval hold otherwise.
      if (failures > 0) void flush();
    },
    beacon,
    async close(timeoutMs) {
      // Retries on a short schedule (50, 100, 200 ms, ...) clamped to the deadline, so a server
      // that is briefly unreachable costs nothing; what is left then goes by beacon.
      const end = Date.now() + timeoutMs;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      for (let wait = 50; queue.length + pending.length > 0 && Date.now() < end; wait *= 2)
        await Promise.race([flush().then(() => sleep(wait)), sleep(end - Date.now())]);
      beacon();
    },
  };
}
