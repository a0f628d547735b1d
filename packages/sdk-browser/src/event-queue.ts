import { SwitchyardError } from './errors';
import { requestJson } from './http';
import type { ScopedStorage } from './storage';

/** An event as `POST /sdk/v1/events` takes it. */
export interface WireEvent {
  id: string;
  type: 'exposure' | 'track';
  key: string;
  unit_id: string;
  experiment?: string;
  variant?: string;
  value?: number;
  properties?: Record<string, unknown>;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** What {@link createEventQueue} needs. */
export interface EventQueueOptions {
  /** `<baseUrl>/sdk/v1/events`. */
  url: string;
  key: string;
  store: ScopedStorage;
  flushIntervalMs: number;
  flushAt: number;
  maxQueueSize: number;
  onError(error: SwitchyardError): void;
}

/** Batches events and sends them; `beacon()` hands everything to the browser when the page goes away. */
export interface EventQueue {
  push(event: Omit<WireEvent, 'id' | 'timestamp'>): void;
  flush(): Promise<void>;
  beacon(): void;
  close(): void;
}

/** Events per POST; with properties capped at 8 kB each a batch stays under the server's 1 MB body limit. */
export const EVENTS_PER_POST = 100;

/** Bytes per beacon: browsers allow 64 KiB of keepalive requests in flight per page. */
export const BEACON_BYTES = 60_000;

/**
 * A time-ordered id: 48 bits of milliseconds, then 80 random bits, as hex (`crypto.getRandomValues`
 * also works on plain-http pages, unlike `randomUUID`). Ids that grow with time keep the
 * server's de-duplication index appending instead of writing a random page per event.
 */
function eventId(): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => (b + 256).toString(16).slice(1)).join('');
  return Date.now().toString(16).padStart(12, '0') + random;
}

/**
 * Queues events, sends them in batches of {@link EVENTS_PER_POST} at most `flushIntervalMs`
 * after the first one (at once past `flushAt`) and retries failed batches with backoff (ids make
 * a resent event count once). A batch the server rejects as invalid (400, 413) is dropped and
 * reported as `EVENTS_REJECTED`.
 *
 * `beacon()` sends the whole queue with `navigator.sendBeacon` as `text/plain` with the key in
 * `?key=` (beacons cannot set headers, and a text body needs no CORS preflight). What the
 * browser refuses is kept in storage and sent on the next page load.
 *
 * @example
 * ```ts
 * const q = createEventQueue({ url, key, store, flushIntervalMs: 2000, flushAt: 50, maxQueueSize: 1000, onError });
 * q.push({ type: 'track', key: 'purchase', unit_id: 'user-1', value: 42.5 });
 * addEventListener('pagehide', () => q.beacon());
 * ```
 */
export function createEventQueue(o: EventQueueOptions): EventQueue {
  let queue: WireEvent[] = o.store.get<WireEvent[]>('q') ?? [];
  let inflight: WireEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  o.store.remove('q');

  const schedule = (ms: number) => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, ms);
  };

  /** Sends one batch; `false` when it has to be retried later. */
  const sendBatch = async (): Promise<boolean> => {
    const batch = (inflight = queue.splice(0, EVENTS_PER_POST));
    let retry = false;
    try {
      await requestJson(o.url, o.key, { events: batch });
    } catch (e) {
      // 400 and 413 reject the batch whole, and resending it would fail again: drop it.
      const status = (e as SwitchyardError).status;
      retry = status !== 400 && status !== 413;
      o.onError(
        retry ? (e as SwitchyardError) : new SwitchyardError('EVENTS_REJECTED', `${batch.length} events dropped: ${status}`, status),
      );
    }
    inflight = [];
    if (retry) queue = batch.concat(queue).slice(-o.maxQueueSize);
    failures = retry ? failures + 1 : 0;
    if (retry) schedule(Math.min(1000 * 2 ** failures, 60_000));
    return !retry;
  };

  let sending: Promise<void> | undefined;
  /** Sends every queued event, batch by batch, until the queue is empty or a batch fails. */
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    return (sending ??= (async () => {
      while (queue.length > 0 && (await sendBatch()));
    })().finally(() => (sending = undefined)));
  };

  const beacon = () => {
    clearTimeout(timer);
    timer = undefined;
    // In-flight events go too: their request may die with the page, and a resent id counts once.
    const pending = inflight.concat(queue);
    queue = [];
    const url = `${o.url}?key=${encodeURIComponent(o.key)}`;
    while (pending.length > 0) {
      let n = pending.length;
      let blob: Blob;
      while ((blob = new Blob([JSON.stringify({ events: pending.slice(0, n) })], { type: 'text/plain' })).size > BEACON_BYTES && n > 1)
        n = Math.ceil(n / 2);
      if (!navigator.sendBeacon?.(url, blob)) break;
      pending.splice(0, n);
    }
    if (pending.length > 0) o.store.set('q', (o.store.get<WireEvent[]>('q') ?? []).concat(pending).slice(-o.maxQueueSize));
  };

  if (queue.length > 0) schedule(0);
  return {
    push(event) {
      queue.push({ ...event, id: eventId(), timestamp: Date.now() });
      if (queue.length > o.maxQueueSize) queue.shift();
      if (queue.length >= o.flushAt) void flush();
      else schedule(o.flushIntervalMs);
    },
    flush,
    beacon,
    close: beacon,
  };
}
