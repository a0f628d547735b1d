import type Database from 'better-sqlite3';
import { scoped } from '../rows';
import { classifyExposure, experimentRun, summaryKey, type ExclusionReason, type ExperimentRun } from '../run-attribution';

/** How much one aggregation slice may do before it commits and lets ingestion back in. */
export interface SliceBudget {
  maxEvents: number;
  maxMs: number;
}

/** One exposure as the aggregator reads it (raw row: unit number, unit_id, experiment, variant, timestamp, environment, sent_by). */
type ExposureRow = [number, string, string | null, string | null, number, string, string | null];

/** What a slice's exposures say about one (run, unit): the first variant in seq order, the earliest time, a second variant. */
interface UnitExposures {
  experiment: string;
  /** The unit's number in `units` (see migration 14). */
  unitNo: number;
  variant: string;
  firstTs: number;
  conflicted: boolean;
}

/** Adds `units` to the count of (experiment, conflicted, variant). */
type UnitCounter = (experiment: string, conflicted: number, variant: string, units: number) => void;

/** Seqs a slice takes at least, whatever its time budget: a commit per few events would cost more than it saves. */
const MIN_SLICE = 2048;

/**
 * The aggregator's slices over one connection: `slice(from, to)` brings the results' summaries
 * (`experiment_units`, `experiment_unit_counts`, `unit_metrics`, `unit_tracks`,
 * `experiment_exclusions`, `event_chunks`) up to date with the events in seqs (from, to] and
 * moves the cursor to `to`, in one transaction: a crash before the commit leaves both as they
 * were, and the next run reads the same range again.
 *
 * Set-wise rather than event by event, because each row written at random dirties a page of
 * its own: the slice first numbers the units it meets for the first time (`units`, the one
 * table keyed by the unit id text, usually random), so that the summaries, keyed by those
 * numbers, take new units at their right edge; then its exposures are folded per (run, unit)
 * in memory and applied in primary-key order, its track events summed per (run, metric, unit)
 * and upserted in primary-key order, and copied to `unit_tracks` in key order. Sorted writes
 * touch each page once per slice and walk the B-trees in order.
 * Applying exposures before tracks gives the same sums as one event at a time: a unit exposed
 * in the slice takes in the tracks stored before it from `unit_tracks` and the slice's own
 * tracks through the join, and the summaries do not depend on the order events arrive in
 * (except which variant came first, which follows seq order).
 *
 * @example
 * ```ts
 * const slices = summarySlices(db);
 * slices.slice(cursor, Math.min(cursor + slices.size({ maxEvents: 100_000, maxMs: 40 }), stored));
 * ```
 */
export function summarySlices(db: Database.Database, now: () => number = () => performance.now()) {
  const s = {
    setCursor: db.prepare('UPDATE event_aggregation SET seq = ? WHERE id = 1'),
    lastUnitNo: db.prepare('SELECT COALESCE(MAX(no), 0) FROM units').pluck(),
    // Numbers for the range's units met for the first time, given in text order so that the
    // inserts walk the text index in order.
    numberUnits: db.prepare(`INSERT INTO units (unit_id)
      SELECT u FROM (SELECT DISTINCT environment || ':' || unit_id AS u FROM events WHERE seq > ? AND seq <= ?) WHERE true ORDER BY u
      ON CONFLICT (unit_id) DO NOTHING`),
    exposures: db
      .prepare(
        `SELECT n.no, e.unit_id, e.experiment, e.variant, e.timestamp, e.environment, e.sent_by
        FROM events e JOIN units n ON n.unit_id = e.environment || ':' || e.unit_id
        WHERE e.seq > ? AND e.seq <= ? AND e.type = 'exposure' ORDER BY e.seq`,
      )
      .raw(),
    // The range's tracks, summed per (run, metric, unit) after the range's exposures are applied;
    // grouped in unit_metrics' key order, so the upserts walk its B-tree in order.
    tracksAdd: db.prepare(`INSERT INTO unit_metrics (experiment, metric, variant, unit_no, value)
      SELECT u.experiment, e.key, u.variant, u.unit_no, SUM(COALESCE(e.value, 1))
      FROM events e JOIN units n ON n.unit_id = e.environment || ':' || e.unit_id JOIN experiment_units u ON u.unit_no = n.no
      WHERE e.seq > ? AND e.seq <= ? AND e.type = 'track' AND u.conflicted = 0 AND u.first_ts <= e.timestamp
      GROUP BY u.experiment, e.key, u.variant, u.unit_no
      ON CONFLICT (experiment, metric, variant, unit_no) DO UPDATE SET value = value + excluded.value`),
    tracksCopy: db.prepare(`INSERT INTO unit_tracks (unit_no, key, timestamp, seq, value)
      SELECT n.no, e.key, e.timestamp, e.seq, COALESCE(e.value, 1)
      FROM events e JOIN units n ON n.unit_id = e.environment || ':' || e.unit_id
      WHERE e.seq > ? AND e.seq <= ? AND e.type = 'track' ORDER BY n.no, e.key, e.timestamp, e.seq`),
    // Time range of each chunk of seqs met in a range (chunks are 2^16 seqs: see event-tables.ts).
    widenChunks: db.prepare(`INSERT INTO event_chunks (chunk, min_ts, max_ts)
      SELECT seq / 65536, MIN(timestamp), MAX(timestamp) FROM events WHERE seq > ? AND seq <= ? GROUP BY seq / 65536
      ON CONFLICT (chunk) DO UPDATE SET min_ts = MIN(min_ts, excluded.min_ts), max_ts = MAX(max_ts, excluded.max_ts)`),
    // The experiment that exists now for a key: the run its exposures are attributed to.
    run: db.prepare("SELECT id, data FROM resources WHERE kind = 'experiment' AND environment = ? AND key = ?"),
    addExclusions: db.prepare(`INSERT INTO experiment_exclusions (experiment, reason, sent_by, events) VALUES (?, ?, ?, ?)
      ON CONFLICT (experiment, reason, sent_by) DO UPDATE SET events = events + excluded.events`),
    insertUnit: db.prepare('INSERT INTO experiment_units (experiment, unit_no, variant, first_ts, conflicted) VALUES (?, ?, ?, ?, ?)'),
    updateUnit: db.prepare('UPDATE experiment_units SET conflicted = ?, first_ts = ? WHERE unit_no = ? AND experiment = ?'),
    unitState: db.prepare('SELECT variant, first_ts, conflicted FROM experiment_units WHERE unit_no = ? AND experiment = ?'),
    addUnitCount: db.prepare(`INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units) VALUES (?, ?, ?, ?)
      ON CONFLICT (experiment, conflicted, variant) DO UPDATE SET units = units + excluded.units`),
    hasTracks: db.prepare('SELECT 1 FROM unit_tracks WHERE unit_no = ? AND timestamp >= ? LIMIT 1').pluck(),
    // A new or earlier first exposure: the unit's stored track events in [lo, hi) join its sums.
    rangeAdd: db.prepare(`INSERT INTO unit_metrics (experiment, metric, variant, unit_no, value)
      SELECT ?, key, ?, unit_no, SUM(value) FROM unit_tracks WHERE unit_no = ? AND timestamp >= ? AND timestamp < ? GROUP BY key
      ON CONFLICT (experiment, metric, variant, unit_no) DO UPDATE SET value = value + excluded.value`),
    // The metric keys of an experiment, one index seek each (a loose index scan).
    firstMetric: db.prepare('SELECT metric FROM unit_metrics WHERE experiment = ? ORDER BY metric LIMIT 1').pluck(),
    nextMetric: db.prepare('SELECT metric FROM unit_metrics WHERE experiment = ? AND metric > ? ORDER BY metric LIMIT 1').pluck(),
    deleteUnitMetric: db.prepare('DELETE FROM unit_metrics WHERE experiment = ? AND metric = ? AND variant = ? AND unit_no = ?'),
  };

  /** Deletes an (experiment, unit)'s metric rows, written under `variant`: the unit became conflicted. */
  const dropUnitMetrics = (experiment: string, variant: string, unitNo: number): void => {
    for (
      let m = s.firstMetric.get(experiment) as string | undefined;
      m !== undefined;
      m = s.nextMetric.get(experiment, m) as string | undefined
    ) {
      s.deleteUnitMetric.run(experiment, m, variant, unitNo);
    }
  };

  /**
   * Applies what the slice's exposures say about one (run, unit) to `experiment_units`, its
   * counts and `unit_metrics` (tracks stored before the slice only; the slice's own come after):
   * a new unit is counted and takes in its stored tracks from its first exposure on; an earlier
   * first exposure takes in those between the new and the old time; a second variant moves the
   * unit to the excluded count and deletes its rows (a conflicted unit never counts again).
   * A unit numbered by this slice (`unitNo > known`) has no stored rows at all: no probe.
   */
  const applyUnit = (u: UnitExposures, known: number, count: UnitCounter): void => {
    const old =
      u.unitNo > known
        ? undefined
        : (s.unitState.get(u.unitNo, u.experiment) as { variant: string; first_ts: number; conflicted: number } | undefined);
    if (old === undefined) {
      s.insertUnit.run(u.experiment, u.unitNo, u.variant, u.firstTs, u.conflicted ? 1 : 0);
      count(u.experiment, u.conflicted ? 1 : 0, u.variant, 1);
      // Usually the unit has no stored track events yet: one probe, no write.
      if (!u.conflicted && u.unitNo <= known && s.hasTracks.get(u.unitNo, u.firstTs) !== undefined)
        s.rangeAdd.run(u.experiment, u.variant, u.unitNo, u.firstTs, Number.MAX_SAFE_INTEGER);
      return;
    }
    // The stored variant came first; a second one makes the unit conflicted for good; the earliest time wins.
    const wasConflicted = old.conflicted !== 0;
    const conflicted = wasConflicted || u.conflicted || old.variant !== u.variant;
    if (conflicted === wasConflicted && u.firstTs >= old.first_ts) return; // the common repeat exposure: nothing to write
    s.updateUnit.run(conflicted ? 1 : 0, Math.min(u.firstTs, old.first_ts), u.unitNo, u.experiment);
    if (wasConflicted) return;
    if (conflicted) {
      count(u.experiment, 0, old.variant, -1);
      count(u.experiment, 1, old.variant, 1);
      dropUnitMetrics(u.experiment, old.variant, u.unitNo);
    } else {
      s.rangeAdd.run(u.experiment, u.variant, u.unitNo, u.firstTs, old.first_ts);
    }
  };

  const sliceTx = db.transaction(function aggregateSlice(from: number, to: number): void {
    // Unit count deltas and excluded exposures, written once per slice (a few rows).
    const deltas = new Map<string, { experiment: string; conflicted: number; variant: string; units: number }>();
    const count: UnitCounter = (experiment, conflicted, variant, units) => {
      const k = JSON.stringify([experiment, conflicted, variant]);
      const d = deltas.get(k);
      if (d === undefined) deltas.set(k, { experiment, conflicted, variant, units });
      else d.units += units;
    };
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
    // Units met for the first time get the next numbers; those up to `known` were met before.
    const known = s.lastUnitNo.get() as number;
    s.numberUnits.run(from, to);
    // The slice's exposures folded per (unit, run), in seq order so the first variant is the first sent.
    const units = new Map<string, UnitExposures>();
    for (const [unitNo, rawUnit, experiment, variant, ts, environment, sentBy] of s.exposures.all(from, to) as ExposureRow[]) {
      if (experiment === null || variant === null) continue;
      const run = runOf(environment, experiment);
      const reason = run === null ? null : classifyExposure(run, variant, ts, rawUnit);
      if (reason !== null) {
        const k = JSON.stringify([run!.id, reason, sentBy ?? '']);
        const x = excluded.get(k);
        if (x === undefined) excluded.set(k, { experiment: run!.id, reason, sentBy: sentBy ?? '', events: 1 });
        else x.events++;
        continue;
      }
      // The summaries keep environments apart: units are numbered by their scoped id (see scoped()).
      const key = summaryKey(run, environment, experiment);
      const k = `${unitNo}\u0000${key}`;
      const u = units.get(k);
      if (u === undefined) units.set(k, { experiment: key, unitNo, variant, firstTs: ts, conflicted: false });
      else {
        if (variant !== u.variant) u.conflicted = true;
        if (ts < u.firstTs) u.firstTs = ts;
      }
    }
    // experiment_units' key order: (unit_no, experiment).
    const ordered = [...units.values()].sort((a, b) =>
      a.unitNo !== b.unitNo ? a.unitNo - b.unitNo : a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : 0,
    );
    for (const u of ordered) applyUnit(u, known, count);
    s.tracksAdd.run(from, to);
    s.tracksCopy.run(from, to);
    s.widenChunks.run(from, to);
    for (const d of deltas.values()) if (d.units !== 0) s.addUnitCount.run(d.experiment, d.conflicted, d.variant, d.units);
    for (const x of excluded.values()) s.addExclusions.run(x.experiment, x.reason, x.sentBy, x.events);
    s.setCursor.run(to);
  });

  /**
   * Events per millisecond the last slices summarized: sizes the next slice to its time budget
   * (one statement per slice part cannot stop half-way, so the budget is met by the size).
   * Starts low; larger slices cost less per event, so the estimate only errs towards short slices.
   */
  let perMs = 20;

  return {
    /** Seqs the next slice may take within `budget`. */
    size: (budget: SliceBudget): number =>
      Math.min(budget.maxEvents, Math.max(MIN_SLICE, Number.isFinite(budget.maxMs) ? Math.floor(perMs * budget.maxMs) : budget.maxEvents)),
    /** Summarizes seqs (from, to] and moves the cursor to `to`, in one transaction. */
    slice: (from: number, to: number): void => {
      const started = now();
      sliceTx(from, to);
      const ms = now() - started;
      if (ms > 0 && to - from >= MIN_SLICE) perMs = (perMs + (to - from) / ms) / 2;
    },
  };
}
