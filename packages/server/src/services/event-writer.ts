import type { Store, StoredEvent } from '../store/types';

interface Pending {
  events: StoredEvent[];
  resolve: (r: { accepted: number; duplicates: number }) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: batches that arrive while a transaction is being prepared share it, so
 * acknowledging only after the commit costs one fsync-free WAL transaction per turn of the
 * event loop rather than one per request. Each caller's promise settles after its batch is
 * durable (or failed: nothing is acknowledged that was not committed).
 */
export class EventWriter {
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();
  /** Bumped after every commit that stored events: lets caches of results notice new data. */
  version = 0;

  constructor(
    private readonly store: Store,
    private readonly onStored?: (events: StoredEvent[]) => void,
  ) {}

  write(events: StoredEvent[]): Promise<{ accepted: number; duplicates: number }> {
    if (events.length === 0) return Promise.resolve({ accepted: 0, duplicates: 0 });
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves when everything queued so far is committed (shutdown). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.scheduled) {
      if (this.pending.length > 0 && !this.scheduled) this.flush();
      await this.inFlight;
      await new Promise((r) => setImmediate(r));
    }
    await this.inFlight;
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.pending;
    this.pending = [];
    if (group.length === 0) return;
    this.inFlight = this.inFlight.then(async () => {
      try {
        const results = await this.store.insertEventBatches(group.map((p) => p.events));
        this.version++;
        group.forEach((p, i) => p.resolve(results[i]!));
        if (this.onStored !== undefined) for (const p of group) this.onStored(p.events);
      } catch (e) {
        for (const p of group) p.reject(e);
      }
    });
  }
}
