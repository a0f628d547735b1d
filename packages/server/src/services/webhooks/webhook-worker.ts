import type { WebhookDeliveryRow, WebhookRow } from '../../store/webhook-rows';
import { commitMutation, SYSTEM_ORIGIN, type RequestOrigin, type ServerContext } from '../context';
import { sendAttempt, type AttemptResult } from './webhook-sender';

const WORKER_ORIGIN: RequestOrigin = { ...SYSTEM_ORIGIN, userAgent: 'switchyard-webhooks' };

/** Deliveries claimed per pass; a full batch is followed by another pass at once. */
const BATCH = 50;

/** How the worker retries and when it gives up on a webhook. */
export interface WebhookWorkerOptions {
  /** How often it looks for due deliveries (commits on this instance also wake it at once). */
  pollMs: number;
  /** Delay after the first failed attempt; it doubles per attempt, up to `retryMaxDelayMs`. */
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** A delivery is retried until this long after its event; the attempt after that is its last. */
  retryWindowMs: number;
  /** Bound on one attempt, connection to response. */
  timeoutMs: number;
  /** A claimed delivery is not claimed again for this long (a crash mid-attempt retries it after). */
  leaseMs: number;
  /** A webhook is disabled after this many failed attempts in a row ... */
  disableAfterFailures: number;
  /** ... spanning at least this long. */
  disableAfterMs: number;
  allowPrivate: boolean;
}

/**
 * The delay before attempt `attempts + 1`: exponential (`base * 2^(attempts-1)`, capped) with
 * "equal jitter" (half fixed, half random), so receivers that come back are not hit by every
 * sender's retries at the same instant.
 *
 * @example
 * ```ts
 * retryDelay(3, { retryBaseMs: 5000, retryMaxDelayMs: 3_600_000 }, Math.random); // 10-20 s
 * ```
 */
export function retryDelay(
  attempts: number,
  o: Pick<WebhookWorkerOptions, 'retryBaseMs' | 'retryMaxDelayMs'>,
  random: () => number,
): number {
  const exp = Math.min(o.retryMaxDelayMs, o.retryBaseMs * 2 ** Math.min(40, Math.max(0, attempts - 1)));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/**
 * Sends the outbox: claims due deliveries from the store, signs and POSTs each, and records the
 * outcome — success, a retry with backoff, or failure once the retry window is over. Deliveries of
 * one webhook go in order, one at a time; different webhooks in parallel. A webhook whose
 * attempts keep failing for long enough is disabled and the change audited. Everything it
 * needs is in the store, so it survives restarts; a claim is a lease, so two instances sharing
 * PostgreSQL never send the same delivery at once. It never throws: errors are logged and the
 * delivery is retried.
 */
export class WebhookWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly ctx: ServerContext,
    private readonly options: WebhookWorkerOptions,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops polling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /** Starts a pass now, or right after the one in flight. */
  kick(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    void this.pass();
  }

  /** One pass (tests call it directly); resolves to the number of attempts made. Passes never overlap. */
  pass(): Promise<number> {
    if (this.running !== null) return this.running;
    this.running = this.run()
      .catch((err: unknown) => {
        this.ctx.logger.error({ err }, 'webhook delivery pass failed');
        return 0;
      })
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.pass();
        }
      });
    return this.running;
  }

  private async run(): Promise<number> {
    const claimed = await this.ctx.store.claimWebhookDeliveries(this.ctx.now(), this.options.leaseMs, BATCH);
    const byWebhook = new Map<string, WebhookDeliveryRow[]>();
    for (const d of claimed) byWebhook.set(d.webhookId, [...(byWebhook.get(d.webhookId) ?? []), d]);
    await Promise.all(
      [...byWebhook.values()].map(async (list) => {
        for (const d of list)
          await this.deliver(d).catch((err: unknown) => this.ctx.logger.error({ err, delivery: d.id }, 'webhook delivery failed'));
      }),
    );
    if (claimed.length === BATCH) this.again = true;
    return claimed.length;
  }

  private async deliver(d: WebhookDeliveryRow): Promise<void> {
    const hook = await this.ctx.store.getWebhook(d.webhookId);
    // Deleted or disabled since the claim: a disabled webhook's deliveries wait for it to be enabled.
    if (hook === null || !hook.enabled) return;
    const result = await sendAttempt({
      url: hook.url,
      secret: hook.secret,
      messageId: d.messageId,
      payload: d.payload,
      nowMs: this.ctx.now(),
      timeoutMs: this.options.timeoutMs,
      allowPrivate: this.options.allowPrivate,
    });
    await this.record(hook, d, result);
  }

  private async record(hook: WebhookRow, d: WebhookDeliveryRow, r: AttemptResult): Promise<void> {
    const now = this.ctx.now();
    const at = new Date(now).toISOString();
    const attempts = d.attempts + 1;
    const windowOver = now - Date.parse(d.createdAt) >= this.options.retryWindowMs;
    const next: WebhookDeliveryRow = {
      ...d,
      attempts,
      lastAttemptAt: at,
      responseStatus: r.status,
      responseExcerpt: r.excerpt,
      lastError: r.error,
      status: r.ok ? 'succeeded' : windowOver ? 'failed' : 'pending',
      nextAttemptAt: r.ok || windowOver ? null : now + retryDelay(attempts, this.options, this.random),
    };
    await this.ctx.store.commit({
      writes: [
        { table: 'webhook_deliveries', action: 'update', row: next },
        { table: 'webhooks', action: 'record-attempt', id: hook.id, ok: r.ok, at },
      ],
    });
    if (r.ok) return;
    this.ctx.logger.warn(
      { webhook: hook.id, delivery: d.id, attempts, error: r.error, next_attempt_at: next.nextAttemptAt },
      next.status === 'failed' ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
    );
    const streak = hook.failureStreak + 1;
    const since = hook.failingSince ?? at;
    if (streak < this.options.disableAfterFailures || now - Date.parse(since) < this.options.disableAfterMs) return;
    const reason = `${streak} failed attempts in a row since ${since}; last: ${r.error ?? 'unknown error'}`;
    await commitMutation(this.ctx, WORKER_ORIGIN, {
      writes: [{ table: 'webhooks', action: 'auto-disable', id: hook.id, reason, at }],
      audit: {
        action: 'webhook.auto_disable',
        resourceType: 'webhook',
        resourceId: hook.id,
        resourceKey: null,
        before: { enabled: true },
        after: { enabled: false, disabled_reason: reason, failure_streak: streak, failing_since: since },
      },
    });
    this.ctx.logger.warn({ webhook: hook.id, url: hook.url, reason }, 'webhook disabled after a long failure streak');
  }
}
