import type { Store, StoredEvent } from '../../store/types';

/** What one commit stored of one environment, by event type: new events and resent ids that were not stored again. */
export type IngestCounts = Record<StoredEvent['type'], { accepted: number; duplicates: number }>;

interface Pending {
  events: StoredEvent[];
  resolve: (r: { accepted: number; duplicates: number }) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: at most {@link Store.eventTransactions} transactions at a time (one unless the
 * store allows more), and every batch that arrived while they were all committing goes into the
 * next, so under load a transaction carries as many requests' batches as arrived during one
 * commit (not one per request). Each caller's promise settles after its batch is durable (or
 * failed: nothing is acknowledged that was not committed).
 */
export class EventWriter {
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();
  /** Transactions running now, and how many may (see {@link Store.eventTransactions}). */
  private running = 0;
  private readonly slots: number;
  /** Bumped after every commit that stored events: lets caches of results notice new data. */
  version = 0;
  /** Transactions begun and the batches they carried (their ratio is the grouping achieved). */
  groups = 0;
  batches = 0;

  constructor(
    private readonly store: Store,
    private readonly onStored?: (environment: string, counts: IngestCounts) => void,
  ) {
    // A store that groups the batches queued behind a commit itself takes each turn's batches at
    // once, so that they are ready the moment the previous transaction ends: no slot limit here.
    this.slots = store.groupsEventBatches === true ? Infinity : Math.max(1, Math.floor(store.eventTransactions ?? 1));
  }

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
    // With every slot busy the group is cut when a commit ends, not now: batches arriving meanwhile join it.
    if (this.running >= this.slots || this.pending.length === 0) return;
    const group = this.pending;
    this.pending = [];
    this.running++;
    const done = this.commit(group).finally(() => {
      this.running--;
      this.flush();
    });
    const before = this.inFlight;
    this.inFlight = Promise.all([before, done]).then(() => undefined);
  }

  private async commit(group: Pending[]): Promise<void> {
    if (group.length === 0) return;
    this.groups++;
    this.batches += group.length;
    try {
      // Each batch goes to the store as its tracks and its exposures (same transaction): the
      // store counts new events per batch, so this is what tells stored events from resent
      // ones by type. Tracks first; the summaries do not depend on the order within a commit.
      const parts: StoredEvent[][] = [];
      const shape: { track: number; exposure: number }[] = [];
      for (const p of group) {
        // One pass over the batch rather than a filter per type.
        const track: StoredEvent[] = [];
        const exposure: StoredEvent[] = [];
        for (const e of p.events) (e.type === 'track' ? track : exposure).push(e);
        shape.push({
          track: track.length > 0 ? parts.push(track) - 1 : -1,
          exposure: exposure.length > 0 ? parts.push(exposure) - 1 : -1,
        });
      }
      const results = await this.store.insertEventBatches(parts);
      this.version++;
      const byEnvironment = new Map<string, IngestCounts>();
      const none = { accepted: 0, duplicates: 0 };
      group.forEach((p, i) => {
        const t = shape[i]!.track >= 0 ? results[shape[i]!.track]! : none;
        const x = shape[i]!.exposure >= 0 ? results[shape[i]!.exposure]! : none;
        // A batch is one request's, sent with one key: all its events share the key's environment.
        const environment = p.events[0]!.environment;
        let counts = byEnvironment.get(environment);
        if (counts === undefined) {
          counts = { track: { accepted: 0, duplicates: 0 }, exposure: { accepted: 0, duplicates: 0 } };
          byEnvironment.set(environment, counts);
        }
        counts.track.accepted += t.accepted;
        counts.track.duplicates += t.duplicates;
        counts.exposure.accepted += x.accepted;
        counts.exposure.duplicates += x.duplicates;
        p.resolve({ accepted: t.accepted + x.accepted, duplicates: t.duplicates + x.duplicates });
      });
      for (const [environment, counts] of byEnvironment) this.onStored?.(environment, counts);
    } catch (e) {
      for (const p of group) p.reject(e);
    }
  }
}
