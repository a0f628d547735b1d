import type Database from 'better-sqlite3';
import { scoped } from '../rows';
import { classifyExposure, experimentRun, summaryKey, type ExclusionReason, type ExperimentRun } from '../run-attribution';
import { appendEvents, type PackedBatches } from './event-append';

/** Retention's unit of time ranges: runs of 2^16 seqs (see migration 5's event_chunks). */
const CHUNK = 65_536;

/** How much one aggregation slice may do before it commits and lets ingestion back in. */
export interface SliceBudget {
  maxEvents: number;
  maxMs: number;
}

/** Adds `units` to the count of (experiment, conflicted, variant). */
type UnitCounter = (experiment: string, conflicted: number, variant: string, units: number) => void;

/** One exposure as the aggregator reads it (raw row: unit_id, experiment, variant, timestamp, environment, sent_by). */
type ExposureRow = [string, string | null, string | null, number, string, string | null];

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
  const s = {
    maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM events').pluck(),
    cursor: db.prepare('SELECT seq FROM event_aggregation WHERE id = 1').pluck(),
    setCursor: db.prepare('UPDATE event_aggregation SET seq = ? WHERE id = 1'),
    // The exposures of a range of seqs, in order (tracks are summarized by the statements below).
    exposures: db
      .prepare(
        "SELECT unit_id, experiment, variant, timestamp, environment, sent_by FROM events WHERE seq > ? AND seq <= ? AND type = 'exposure'",
      )
      .raw(),
    // The track events of a range, added to the rows of the units exposed before the range's
    // exposures are applied (those then take in the range's tracks from unit_tracks, below).
    tracksAdd: db.prepare(`INSERT INTO unit_metrics (experiment, metric, variant, unit_id, value)
      SELECT u.experiment, e.key, u.variant, u.unit_id, COALESCE(e.value, 1)
      FROM events e JOIN experiment_units u ON u.unit_id = e.environment || ':' || e.unit_id
      WHERE e.seq > ? AND e.seq <= ? AND e.type = 'track' AND u.conflicted = 0 AND u.first_ts <= e.timestamp
      ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = value + excluded.value`),
    tracksCopy: db.prepare(`INSERT INTO unit_tracks (unit_id, key, timestamp, seq, value)
      SELECT environment || ':' || unit_id, key, timestamp, seq, COALESCE(value, 1) FROM events
      WHERE seq > ? AND seq <= ? AND type = 'track'`),
    // Time range of each chunk of seqs met in a range (chunks are 2^16 seqs: see CHUNK).
    widenChunks: db.prepare(`INSERT INTO event_chunks (chunk, min_ts, max_ts)
      SELECT seq / 65536, MIN(timestamp), MAX(timestamp) FROM events WHERE seq > ? AND seq <= ? GROUP BY seq / 65536
      ON CONFLICT (chunk) DO UPDATE SET min_ts = MIN(min_ts, excluded.min_ts), max_ts = MAX(max_ts, excluded.max_ts)`),
    // The experiment that exists now for a key: the run its exposures are attributed to.
    run: db.prepare("SELECT id, data FROM resources WHERE kind = 'experiment' AND environment = ? AND key = ?"),
    addExclusions: db.prepare(`INSERT INTO experiment_exclusions (experiment, reason, sent_by, events) VALUES (?, ?, ?, ?)
      ON CONFLICT (experiment, reason, sent_by) DO UPDATE SET events = events + excluded.events`),
    insertUnit: db.prepare('INSERT INTO experiment_units (experiment, unit_id, variant, first_ts) VALUES (?, ?, ?, ?)'),
    updateUnit: db.prepare('UPDATE experiment_units SET conflicted = ?, first_ts = ? WHERE unit_id = ? AND experiment = ?'),
    unitState: db.prepare('SELECT variant, first_ts, conflicted FROM experiment_units WHERE unit_id = ? AND experiment = ?'),
    addUnitCount: db.prepare(`INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units) VALUES (?, ?, ?, ?)
      ON CONFLICT (experiment, conflicted, variant) DO UPDATE SET units = units + excluded.units`),
    hasTracks: db.prepare('SELECT 1 FROM unit_tracks WHERE unit_id = ? AND timestamp >= ? LIMIT 1').pluck(),
    // A new or earlier first exposure: the unit's track events in [lo, hi) join its sums.
    rangeAdd: db.prepare(`INSERT INTO unit_metrics (experiment, metric, variant, unit_id, value)
      SELECT ?, key, ?, unit_id, SUM(value) FROM unit_tracks WHERE unit_id = ? AND timestamp >= ? AND timestamp < ? GROUP BY key
      ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = value + excluded.value`),
    // The metric keys of an experiment, one index seek each (a loose index scan).
    firstMetric: db.prepare('SELECT metric FROM unit_metrics WHERE experiment = ? ORDER BY metric LIMIT 1').pluck(),
    nextMetric: db.prepare('SELECT metric FROM unit_metrics WHERE experiment = ? AND metric > ? ORDER BY metric LIMIT 1').pluck(),
    deleteUnitMetric: db.prepare('DELETE FROM unit_metrics WHERE experiment = ? AND metric = ? AND variant = ? AND unit_id = ?'),
    oldChunk: db.prepare('SELECT chunk FROM event_chunks WHERE min_ts < ? ORDER BY chunk LIMIT 1').pluck(),
    // The aggregator's copies of the chunk's old tracks go with them (one primary-key probe each).
    deleteOldTracks: db.prepare(`DELETE FROM unit_tracks WHERE (unit_id, key, timestamp, seq) IN
      (SELECT environment || ':' || unit_id, key, timestamp, seq FROM events WHERE seq >= ? AND seq < ? AND type = 'track' AND timestamp < ?)`),
    deleteOldEvents: db.prepare('DELETE FROM events WHERE seq >= ? AND seq < ? AND timestamp < ?'),
    chunkRange: db.prepare('SELECT MIN(timestamp) AS lo, MAX(timestamp) AS hi FROM events WHERE seq >= ? AND seq < ?'),
    setChunk: db.prepare('UPDATE event_chunks SET min_ts = ?, max_ts = ? WHERE chunk = ?'),
    dropChunk: db.prepare('DELETE FROM event_chunks WHERE chunk = ?'),
  };

  /** Highest stored seq and the aggregator's cursor, kept in memory: this connection is their only writer. */
  let stored = s.maxSeq.get() as number;
  let aggregated = s.cursor.get() as number;

  /** Deletes an (experiment, unit)'s metric rows, written under `variant`: the unit became conflicted. */
  const dropUnitMetrics = (experiment: string, variant: string, unitId: string): void => {
    for (
      let m = s.firstMetric.get(experiment) as string | undefined;
      m !== undefined;
      m = s.nextMetric.get(experiment, m) as string | undefined
    ) {
      s.deleteUnitMetric.run(experiment, m, variant, unitId);
    }
  };

  /**
   * A new exposure (never a resent one: those were not stored) moves `experiment_units`, its
   * counts and `unit_metrics`: a new unit is counted and takes in its track events from the
   * exposure on (they may have arrived first); an earlier first exposure takes in those between
   * the new and the old time; a second variant moves the unit to the excluded count and deletes
   * its rows (a conflicted unit never counts again). A repeat exposure only reads.
   */
  const applyExposure = (experiment: string, unitId: string, variant: string, ts: number, count: UnitCounter): void => {
    const old = s.unitState.get(unitId, experiment) as { variant: string; first_ts: number; conflicted: number } | undefined;
    if (old === undefined) {
      s.insertUnit.run(experiment, unitId, variant, ts);
      count(experiment, 0, variant, 1);
      // Usually the unit has no track events yet: one probe, no write.
      if (s.hasTracks.get(unitId, ts) !== undefined) s.rangeAdd.run(experiment, variant, unitId, ts, Number.MAX_SAFE_INTEGER);
      return;
    }
    // The first variant stays; a second one makes the unit conflicted for good; the earliest time wins.
    const wasConflicted = old.conflicted !== 0;
    const conflicted = wasConflicted || old.variant !== variant;
    if (conflicted === wasConflicted && ts >= old.first_ts) return; // the common repeat exposure: nothing to write
    s.updateUnit.run(conflicted ? 1 : 0, Math.min(ts, old.first_ts), unitId, experiment);
    if (wasConflicted) return;
    if (conflicted) {
      count(experiment, 0, old.variant, -1);
      count(experiment, 1, old.variant, 1);
      dropUnitMetrics(experiment, old.variant, unitId);
    } else {
      s.rangeAdd.run(experiment, variant, unitId, ts, old.first_ts);
    }
  };

  /**
   * Seqs per step of a slice (the budget is checked between steps). Each step summarizes its
   * tracks with two statements and walks its exposures in order; summarizing a range's tracks
   * first, against the units exposed before the range, and then its exposures (which take in
   * the range's tracks from unit_tracks) gives the same sums as one event at a time, since the
   * summaries do not depend on the order events arrive in.
   */
  const STEP = 2048;

  const aggregateTx = db.transaction(function aggregateSlice(budget: SliceBudget): { done: number; cursor: number } {
    const started = now();
    // Unit count deltas, written once per slice (a few rows) rather than once per unit.
    const deltas = new Map<string, { experiment: string; conflicted: number; variant: string; units: number }>();
    const count: UnitCounter = (experiment, conflicted, variant, units) => {
      const k = JSON.stringify([experiment, conflicted, variant]);
      const d = deltas.get(k);
      if (d === undefined) deltas.set(k, { experiment, conflicted, variant, units });
      else d.units += units;
    };
    // Excluded exposures per (run, reason, sender), written once per slice like the unit counts.
    const excluded = new Map<string, { experiment: string; reason: ExclusionReason; sentBy: string; events: number }>();
    // The run of each (environment, experiment key) met in this slice: one lookup per key per slice.
    const runs = new Map<string, ExperimentRun | null>();
    const runOf = (environment: string, key: string): ExperimentRun | null => {
      const k = scoped(environment, key);
      let run = runs.get(k);
      if (run === undefined) {
        const row = s.run.get(environment, key) as { id: string; data: string } | undefined;
        run = row === undefined ? null : experimentRun(row.id, JSON.parse(row.data) as Record<string, unknown>);
        runs.set(k, run);
      }
      return run;
    };
    let cursor = aggregated;
    while (cursor < stored && cursor - aggregated < budget.maxEvents && now() - started < budget.maxMs) {
      const from = cursor;
      cursor = Math.min(from + STEP, stored, aggregated + budget.maxEvents);
      s.tracksAdd.run(from, cursor);
      s.tracksCopy.run(from, cursor);
      s.widenChunks.run(from, cursor);
      for (const [rawUnit, experiment, variant, ts, environment, sentBy] of s.exposures.all(from, cursor) as ExposureRow[]) {
        if (experiment === null || variant === null) continue;
        const run = runOf(environment, experiment);
        const reason = run === null ? null : classifyExposure(run, variant, ts, rawUnit);
        // The summaries keep environments apart (see scoped()).
        if (reason === null) applyExposure(summaryKey(run, environment, experiment), scoped(environment, rawUnit), variant, ts, count);
        else {
          const k = JSON.stringify([run!.id, reason, sentBy ?? '']);
          const x = excluded.get(k);
          if (x === undefined) excluded.set(k, { experiment: run!.id, reason, sentBy: sentBy ?? '', events: 1 });
          else x.events++;
        }
      }
    }
    for (const d of deltas.values()) if (d.units !== 0) s.addUnitCount.run(d.experiment, d.conflicted, d.variant, d.units);
    for (const x of excluded.values()) s.addExclusions.run(x.experiment, x.reason, x.sentBy, x.events);
    s.setCursor.run(cursor);
    return { done: cursor - aggregated, cursor };
  });

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
      const r = aggregateTx(budget);
      aggregated = r.cursor;
      return r.done;
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
