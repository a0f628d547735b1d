/** Reconnect/retry delays. */
export interface BackoffOptions {
  /** Ceiling of the first delay (ms). */
  initialDelayMs: number;
  /** No delay ever exceeds this (ms). */
  maxDelayMs: number;
  /** Injectable for tests; defaults to `Math.random`. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: attempt `n` (from 1) waits a uniformly random time in
 * `[0, min(max, initial * 2^(n-1))]`. Full jitter spreads the reconnects of a fleet of services
 * after a server restart instead of having them arrive in synchronized waves.
 *
 * @example
 * ```ts
 * const b = new Backoff({ initialDelayMs: 1000, maxDelayMs: 30_000 });
 * setTimeout(reconnect, b.next());
 * b.reset(); // after a connection that worked
 * ```
 */
export class Backoff {
  private attempt = 0;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The ceiling for attempt `n` (from 1). */
  ceiling(n: number): number {
    const { initialDelayMs, maxDelayMs } = this.options;
    // 2^n overflows to Infinity long after it passes any sane cap; min() keeps it finite.
    return Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(n - 1, 52));
  }

  /** The next delay in ms. */
  next(): number {
    this.attempt++;
    return Math.floor(this.random() * this.ceiling(this.attempt));
  }

  reset(): void {
    this.attempt = 0;
  }
}
