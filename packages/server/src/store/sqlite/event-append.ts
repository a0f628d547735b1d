import type Database from 'better-sqlite3';
import type { StoredEvent } from '../types';

/** Columns of one event in a packed batch, in the order the insert statements bind them. */
export const EVENT_FIELDS = 10;

/**
 * Batches flattened for the trip to the writer thread: a flat array of primitives clones far
 * faster than one object per event, and binds straight into the multi-row inserts. What a
 * request's events share (the sending key's environment and its name) travels once per run of
 * events, not once per event: it is bound once per insert statement.
 */
export interface PackedBatches {
  /** Events per batch. */
  sizes: number[];
  /**
   * Runs of consecutive events that share environment and sender, three entries each: length,
   * environment, sent_by. A run never crosses a batch boundary.
   */
  runs: (string | number | null)[];
  /** `EVENT_FIELDS` values per event: id, type, key, unit_id, experiment, variant, value, properties (JSON), timestamp, received_at. */
  values: (string | number | null)[];
}

/**
 * Flattens batches of validated events into {@link PackedBatches}.
 *
 * @example
 * ```ts
 * const packed = packBatches([events]); // posted to the writer thread, then appendEvents(db)(packed)
 * ```
 */
export function packBatches(batches: readonly StoredEvent[][]): PackedBatches {
  const sizes: number[] = [];
  const runs: (string | number | null)[] = [];
  const values: (string | number | null)[] = [];
  for (const batch of batches) {
    sizes.push(batch.length);
    let run = -1;
    for (const e of batch) {
      const sentBy = e.sentBy ?? null;
      if (run >= 0 && runs[run + 1] === e.environment && runs[run + 2] === sentBy) (runs[run] as number)++;
      else run = runs.push(1, e.environment, sentBy) - 3;
      values.push(
        e.id,
        e.type,
        e.key,
        e.unitId,
        e.experiment,
        e.variant,
        e.value,
        e.properties === null ? null : JSON.stringify(e.properties),
        e.timestamp,
        e.receivedAt,
      );
    }
  }
  return { sizes, runs, values };
}

/** Rows per multi-row INSERT, largest first: one statement per chunk instead of one per event. */
const CHUNKS = [64, 16, 4, 1] as const;

/**
 * The append statements of one connection: `append(list)` inserts every batch of every packed
 * message in one transaction (the writer thread's group commit) and answers, per message, each
 * batch's new events and resent ids (`INSERT OR IGNORE` on the unique id), with the highest seq
 * stored afterwards.
 *
 * @example
 * ```ts
 * const append = appendEvents(db);
 * const { results, stored } = append([packBatches([events])]);
 * ```
 */
export function appendEvents(
  db: Database.Database,
): (list: readonly PackedBatches[]) => { results: { accepted: number; duplicates: number }[][]; stored: number } {
  const inserts = new Map(
    CHUNKS.map((n) => [
      n,
      db.prepare(`INSERT OR IGNORE INTO events
    (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment, sent_by)
    VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, @environment, @sent_by)').join(', ')}`),
    ]),
  );
  const maxSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck();
  return db.transaction(function appendBatches(list: readonly PackedBatches[]) {
    const results = list.map(({ sizes, runs, values }) => {
      let at = 0;
      let r = 0;
      return sizes.map((size) => {
        let accepted = 0;
        for (let left = size; left > 0; r += 3) {
          const shared = { environment: runs[r + 1], sent_by: runs[r + 2] };
          let inRun = runs[r] as number;
          left -= inRun;
          for (const n of CHUNKS) {
            const stmt = inserts.get(n)!;
            for (; inRun >= n; inRun -= n) {
              accepted += stmt.run(values.slice(at, at + n * EVENT_FIELDS), shared).changes;
              at += n * EVENT_FIELDS;
            }
          }
        }
        return { accepted, duplicates: size - accepted };
      });
    });
    return { results, stored: maxSeq.get() as number };
  });
}
