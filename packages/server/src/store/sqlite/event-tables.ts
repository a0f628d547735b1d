import type Database from 'better-sqlite3';
import { appendEvents, type PackedBatches } from './event-append';
import { summarySlices, type SliceBudget } from './summary-slice';

/** Retention's unit of time ranges: runs of 2^16 seqs (see migration 5's event_chunks). */
const CHUNK = 65_536;

/**
 * The event tables of one SQLite connection: appending batches (what a `202` waits for) and the
 * aggregator that brings the results' summaries (`experiment_units`, `experiment_unit_counts`,
 * `unit_metrics`, `unit_tracks`) up to date with the events past its cursor. Used on the writer
 * thread, or inline for an in-memory database.
 *
 * @example
 * ```ts
 * const tables = eventTables(db);
 * tables.insert([packBatches([events])]);
 * while (tables.backlog() > 0) tables.aggregate({ maxEvents: 20_000, maxMs: 50 });
 * ```
 */
export function eventTables(db: Database.Database, now: () => number = () => performance.now()) {
  const append = appendEvents(db);
  const slices = summarySlices(db, now);
  const s = {
    maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck(),
    cursor: db.prepare('SELECT seq FROM event_aggregation WHERE id = 1').pluck(),
    setCursor: db.prepare('UPDATE event_aggregation SET seq = ? WHERE id = 1'),
    oldChunk: db.prepare('SELECT chunk FROM event_chunks WHERE min_ts < ? ORDER BY chunk LIMIT 1').pluck(),
    // The aggregator's copies of the chunk's old tracks go with them (one primary-key probe each).
    deleteOldTracks: db.prepare(`DELETE FROM unit_tracks WHERE (unit_no, key, timestamp, seq) IN
      (SELECT n.no, e.key, e.timestamp, e.seq FROM events e JOIN units n ON n.unit_id = e.environment || ':' || e.unit_id
        WHERE e.seq >= ? AND e.seq < ? AND e.type = 'track' AND e.timestamp < ?)`),
    // The numbers (`units`, migration 14) of the step's units that no summary row names any more:
    // else every unit ever seen, track-only visitors included, would stay for good. A number
    // goes only with no row naming it, so a number reused later names nothing from before.
    deleteOldUnits: db.prepare(`DELETE FROM units WHERE unit_id IN
      (SELECT environment || ':' || unit_id FROM events WHERE seq >= ? AND seq < ? AND timestamp < ?)
      AND NOT EXISTS (SELECT 1 FROM unit_tracks t WHERE t.unit_no = units.no)
      AND NOT EXISTS (SELECT 1 FROM experiment_units a WHERE a.unit_no = units.no)`),
    deleteOldEvents: db.prepare('DELETE FROM events WHERE seq >= ? AND seq < ? AND timestamp < ?'),
    chunkRange: db.prepare('SELECT MIN(timestamp) AS lo, MAX(timestamp) AS hi FROM events WHERE seq >= ? AND seq < ?'),
    setChunk: db.prepare('UPDATE event_chunks SET min_ts = ?, max_ts = ? WHERE chunk = ?'),
    dropChunk: db.prepare('DELETE FROM event_chunks WHERE chunk = ?'),
  };

  /** Highest stored seq and the aggregator's cursor, kept in memory: this connection is their only writer. */
  let stored = s.maxSeq.get() as number;
  let aggregated = s.cursor.get() as number;

  /** Where retention stopped inside the oldest chunk, so that a chunk takes several short transactions. */
  let retention: { epochMs: number; chunk: number; next: number } | null = null;

  const deleteStepTx = db.transaction(function deleteOldEvents(
    epochMs: number,
    step: number,
  ): {
    deleted: number;
    done: boolean;
    stored: number;
    aggregated: number;
  } {
    const chunk = s.oldChunk.get(epochMs) as number | undefined;
    if (chunk === undefined) return { deleted: 0, done: true, stored, aggregated };
    const lo = chunk * CHUNK;
    // Events past the cursor are not summarized yet: they stay, and widen the chunk when they are.
    const end = Math.min((chunk + 1) * CHUNK, aggregated + 1);
    const from = retention !== null && retention.epochMs === epochMs && retention.chunk === chunk ? retention.next : lo;
    const to = Math.min(from + step, end);
    s.deleteOldTracks.run(from, to, epochMs);
    s.deleteOldUnits.run(from, to, epochMs);
    const deleted = s.deleteOldEvents.run(from, to, epochMs).changes;
    retention = { epochMs, chunk, next: to };
    if (to === end) {
      // The chunk is done: its range becomes what is left of it and summarized (past the cutoff).
      retention = null;
      const left = s.chunkRange.get(lo, end) as { lo: number | null; hi: number | null };
      if (left.lo === null || left.hi === null) s.dropChunk.run(chunk);
      else s.setChunk.run(left.lo, left.hi, chunk);
    }
    // A new row takes MAX(seq) + 1: had the newest events gone, it would land at or below the
    // cursor and never be summarized. What is left up to the new maximum is summarized.
    const max = s.maxSeq.get() as number;
    const cursor = Math.min(aggregated, max);
    if (cursor !== aggregated) s.setCursor.run(cursor);
    return { deleted, done: false, stored: max, aggregated: cursor };
  });

  return {
    /** Appends every message's batches in one transaction; per message and batch, new events and resent ids. */
    insert: (list: readonly PackedBatches[]): { accepted: number; duplicates: number }[][] => {
      // In-memory positions move only once the transaction has committed.
      const r = append(list);
      stored = r.stored;
      return r.results;
    },
    /** Events stored but not yet in the summaries. */
    backlog: (): number => stored - aggregated,
    /** Highest seq stored so far: a drain target. */
    storedSeq: (): number => stored,
    /** Highest seq in the summaries. */
    aggregatedSeq: (): number => aggregated,
    /** One transaction of aggregation within `budget`; resolves to the events it summarized. */
    aggregate: (budget: SliceBudget): number => {
      if (stored <= aggregated) return 0;
      const from = aggregated;
      const to = Math.min(stored, from + slices.size(budget));
      slices.slice(from, to);
      aggregated = to;
      return to - from;
    },
    /**
     * Retention, one step of at most `step` seqs per call (one transaction, so at most that many
     * events): events with a timestamp before `epochMs`, and the aggregator's copies of those
     * tracks. Only summarized events are deleted (summaries keep counting what it deletes);
     * `done` once no summarized chunk holds any.
     */
    deleteBefore: (epochMs: number, step: number): { deleted: number; done: boolean } => {
      const r = deleteStepTx(epochMs, step);
      stored = r.stored;
      aggregated = r.aggregated;
      return { deleted: r.deleted, done: r.done };
    },
  };
}

/** The aggregator and appender of one connection. */
export type EventTables = ReturnType<typeof eventTables>;
