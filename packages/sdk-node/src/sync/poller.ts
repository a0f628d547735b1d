import type { ConfigFetcher, FetchConfigResult } from './config-fetcher';

/**
 * Polls `GET /sdk/v1/config` with the last `ETag`, so an unchanged config costs a `304`.
 * `onResult` returns the delay before the next poll: `0` for the normal interval, a number to
 * honour a `Retry-After`, `null` to stop.
 */
export class Poller {
  private timer: NodeJS.Timeout | null = null;
  private etag: string | null = null;
  private running = false;

  constructor(
    private readonly fetcher: ConfigFetcher,
    private readonly intervalMs: number,
    private readonly onResult: (r: FetchConfigResult) => number | null,
    private readonly signal: AbortSignal,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.poll();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    this.timer = null;
    if (!this.running) return;
    const r = await this.fetcher.fetch(this.etag, this.signal);
    if (!this.running) return;
    if (r.kind === 'document') this.etag = r.etag;
    let next: number | null;
    try {
      next = this.onResult(r);
    } catch {
      next = 0;
    }
    if (next === null || !this.running) {
      this.running = false;
      return;
    }
    this.timer = setTimeout(() => void this.poll(), next > 0 ? Math.max(next, this.intervalMs) : this.intervalMs);
    this.timer.unref();
  }
}
