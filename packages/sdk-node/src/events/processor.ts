import { SwitchyardError } from '../errors';
import type { Logger } from '../logger';
import { splitBatch } from '@switchyard/core/protocol';
import { Backoff } from '../sync/backoff';
import { BoundedQueue } from './queue';
import type { EventSender } from './sender';
import type { WireEvent } from './types';

export interface EventProcessorOptions {
  capacity: number;
  batchSize: number;
  flushIntervalMs: number;
  closeTimeoutMs: number;
  retry: { initialDelayMs: number; maxDelayMs: number };
  logger: Logger;
  onError: (err: SwitchyardError) => void;
}

/**
 * Counters of what happened to events, since the client was created.
 *
 * @example
 * ```ts
 * const { queued, delivered, droppedOverflow } = client.stats().events;
 * ```
 */
export interface EventStats {
  /** Waiting in memory (queued or in a batch being delivered). */
  queued: number;
  /** Acknowledged by the server (`accepted + duplicates`). */
  delivered: number;
  /** Of the delivered, how many the server had already stored (a retry after a lost acknowledgement). */
  duplicates: number;
  /** Dropped because the queue was full (oldest first). */
  droppedOverflow: number;
  /** Dropped because the server rejected them with a 4xx other than 429. */
  droppedRejected: number;
  /** Still undelivered when `close()` gave up. */
  droppedOnClose: number;
}

const OVERFLOW_LOG_EVERY_MS = 10_000;

/** Waits between delivery attempts while closing (the last one repeats until the deadline). */
export const CLOSE_RETRY_SCHEDULE_MS = [50, 100, 200, 400, 800] as const;
/** Time kept back before the close deadline so a last attempt can still get its answer. */
const LAST_ATTEMPT_MARGIN_MS = 250;

/**
 * Batches events and delivers each batch at least once: a batch is removed only after a `2xx`
 * or a permanent `4xx`; on a network error, timeout, `5xx` or `429` the same batch (same event
 * ids, so the server counts each once) is retried after `Retry-After` or a jittered backoff.
 * Batches go one at a time, which keeps delivery in order and bounds memory to the queue plus
 * one batch.
 */
export class EventProcessor {
  private readonly queue: BoundedQueue<WireEvent>;
  /** Batches taken from the queue and not yet settled; the first is the one being sent. */
  private pending: WireEvent[][] = [];
  private readonly salvaged = new WeakSet<WireEvent[]>();
  private running: Promise<boolean> | null = null;
  private readonly interval: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The server asked for this pause (Retry-After): even an explicit flush waits it out. */
  private retryAfterUntil = 0;
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private closing: Promise<void> | null = null;
  private lastOverflowLog = 0;
  /** Set by a failed delivery, cleared by a successful one: failures are reported once per outage. */
  private outage = false;
  private readonly counters = { delivered: 0, duplicates: 0, droppedRejected: 0, droppedOnClose: 0 };

  constructor(
    private readonly sender: EventSender,
    private readonly options: EventProcessorOptions,
  ) {
    this.queue = new BoundedQueue(options.capacity);
    this.backoff = new Backoff(options.retry);
    this.interval = setInterval(() => {
      if (this.retryTimer === null && (this.queue.size > 0 || this.pending.length > 0)) void this.kick();
    }, options.flushIntervalMs);
    // A queued event must not keep a finished script alive; close() is how to wait for delivery.
    this.interval.unref();
  }

  get stats(): EventStats {
    let inBatches = 0;
    for (const b of this.pending) inBatches += b.length;
    return { queued: this.queue.size + inBatches, droppedOverflow: this.queue.dropped, ...this.counters };
  }

  enqueue(event: WireEvent): void {
    if (this.closing !== null) {
      this.counters.droppedOnClose++;
      return;
    }
    if (this.queue.push(event) !== undefined) {
      const now = Date.now();
      if (now - this.lastOverflowLog >= OVERFLOW_LOG_EVERY_MS) {
        this.lastOverflowLog = now;
        this.options.logger.warn('event queue full: dropping the oldest events', {
          capacity: this.queue.capacity,
          droppedTotal: this.queue.dropped,
        });
      }
    }
    if (this.queue.size >= this.options.batchSize && this.retryTimer === null) void this.kick();
  }

  /**
   * Sends what is queued now. Resolves when it was delivered or dropped, or when an attempt
   * failed (the events then stay queued and are retried in the background). Never rejects.
   */
  async flush(): Promise<void> {
    if (this.running !== null) await this.running;
    if (this.queue.size === 0 && this.pending.length === 0) return;
    if (Date.now() < this.retryAfterUntil) return;
    this.clearRetry();
    await this.kick();
  }

  /**
   * The server is reachable again (the config stream reconnected): a batch waiting for its
   * backoff timer goes now. A `Retry-After` the server asked for is still honoured.
   */
  resume(): void {
    if (this.closing !== null || this.retryTimer === null || Date.now() < this.retryAfterUntil) return;
    this.clearRetry();
    this.backoff.reset();
    void this.kick();
  }

  /** Stops batching and tries to deliver everything for up to `closeTimeoutMs`. Never rejects. */
  close(): Promise<void> {
    this.closing ??= this.shutdown().catch((err: unknown) => {
      this.options.logger.error('closing the event processor failed', { error: String(err) });
    });
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.interval);
    this.clearRetry();
    const deadline = Date.now() + this.options.closeTimeoutMs;
    // Aborts a request still in flight at the deadline, so close() is bounded.
    const deadlineTimer = setTimeout(() => this.abort.abort(), this.options.closeTimeoutMs);
    try {
      // A short schedule of its own, not the background backoff (which may have grown to tens of
      // seconds during an outage): a server that is briefly unreachable must not cost the queue.
      for (let attempt = 0; ;) {
        if (this.running !== null) await this.running;
        if (this.queue.size === 0 && this.pending.length === 0) break;
        if (Date.now() >= deadline) break;
        const ok = await this.kick();
        if (ok) {
          attempt = 0;
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) break;
        const step = CLOSE_RETRY_SCHEDULE_MS[Math.min(attempt++, CLOSE_RETRY_SCHEDULE_MS.length - 1)]!;
        const wanted = Math.max(step, this.retryAfterUntil - Date.now());
        // Clamped so the last attempt still starts before the deadline, with time to answer.
        const wait = Math.min(wanted, Math.max(0, left - Math.min(LAST_ATTEMPT_MARGIN_MS, left / 2)));
        await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      clearTimeout(deadlineTimer);
      this.clearRetry();
    }
    const left = this.stats.queued;
    if (left > 0) {
      this.counters.droppedOnClose += left;
      this.pending = [];
      this.queue.clear();
      this.options.logger.warn('close(): undelivered events dropped', { count: left, timeoutMs: this.options.closeTimeoutMs });
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private kick(): Promise<boolean> {
    if (this.running !== null) return this.running;
    const run = this.drain().then(
      (ok) => {
        this.running = null;
        // Events that filled a batch while this drain was busy go now rather than at the next tick.
        if (ok && this.closing === null && this.retryTimer === null && this.queue.size >= this.options.batchSize) void this.kick();
        return ok;
      },
      (err: unknown) => {
        this.running = null;
        this.options.logger.error('event delivery failed unexpectedly', { error: String(err) });
        return false;
      },
    );
    this.running = run;
    return run;
  }

  /** Sends the batches that exist now; `false` when one must be retried later. */
  private async drain(): Promise<boolean> {
    const size = this.options.batchSize;
    let budget = this.pending.length + Math.ceil(this.queue.size / size);
    while (budget > 0) {
      if (this.pending.length === 0) {
        if (this.queue.size === 0) return true;
        this.pending.push(this.queue.take(size));
      }
      const batch = this.pending[0]!;
      const r = await this.sender.send(batch, this.abort.signal);
      switch (r.kind) {
        case 'ok':
          this.pending.shift();
          if (this.outage) this.options.logger.info('event delivery recovered');
          this.outage = false;
          this.backoff.reset();
          this.retryAfterUntil = 0;
          this.counters.delivered += batch.length;
          this.counters.duplicates += Math.min(batch.length, r.duplicates);
          budget--;
          this.options.logger.debug('events delivered', { count: batch.length, accepted: r.accepted, duplicates: r.duplicates });
          break;
        case 'retry': {
          const delay = r.retryAfterMs ?? this.backoff.next();
          this.retryAfterUntil = r.retryAfterMs === null ? 0 : Date.now() + r.retryAfterMs;
          this.options.logger.warn('event batch not delivered; will retry with the same ids', {
            count: batch.length,
            reason: r.reason,
            status: r.status,
            retryInMs: delay,
          });
          if (!this.outage) {
            // Once per outage, not per attempt: a long outage must not flood 'error' listeners.
            this.outage = true;
            this.options.onError(
              new SwitchyardError('EVENTS_UNDELIVERED', `events not delivered (${r.reason}); they stay queued and are retried`, {
                ...(r.status === null ? {} : { status: r.status }),
              }),
            );
          }
          if (this.closing === null) {
            this.clearRetry();
            this.retryTimer = setTimeout(() => {
              this.retryTimer = null;
              void this.kick();
            }, delay);
            this.retryTimer.unref();
          }
          return false;
        }
        case 'split': {
          // A body limit is a size problem, not a content problem: halve and resend.
          const [a, b] = splitBatch(batch);
          this.pending.splice(0, 1, a, b);
          budget++;
          this.options.logger.warn('event batch too large; splitting it', { count: batch.length });
          break;
        }
        case 'drop': {
          const bad = new Set(r.indexes);
          if (bad.size < batch.length && !this.salvaged.has(batch)) {
            // The server named the invalid events: drop those, resend the rest once.
            const rest = batch.filter((_, i) => !bad.has(i));
            this.salvaged.add(rest);
            this.pending[0] = rest;
            this.reject(
              batch.filter((_, i) => bad.has(i)),
              r.status,
              r.code,
            );
          } else {
            this.pending.shift();
            this.reject(batch, r.status, r.code);
            budget--;
          }
          break;
        }
      }
    }
    return true;
  }

  private reject(events: WireEvent[], status: number, code: string): void {
    this.counters.droppedRejected += events.length;
    this.options.logger.error('events rejected by the server and dropped', { count: events.length, status, code });
    this.options.onError(
      new SwitchyardError('EVENTS_REJECTED', `the server rejected ${events.length} event(s): ${status} ${code}`, { status }),
    );
  }
}
