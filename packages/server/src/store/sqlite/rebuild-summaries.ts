import type Database from 'better-sqlite3';
import { experimentRun } from '../run-attribution';
import { rebuildRunSummaries, type RebuildEvent } from '../summary-rebuild';
import type { SummaryRebuild } from '../types';

type EventRow = [string, string, string, string | null, number | null, number, string | null];

/**
 * Rebuilds the results' summaries of the experiment `key` of `environment` (its current run) from
 * the stored events, in one transaction: that run's rows of `experiment_units`,
 * `experiment_unit_counts`, `unit_metrics` and `experiment_exclusions` are replaced. Must run on
 * the writer connection after the aggregator has caught up (else events past its cursor would
 * be counted twice). `null` when there is no such experiment.
 */
export function rebuildSummariesSqlite(db: Database.Database, environment: string, key: string, maxValue: number): SummaryRebuild | null {
  const runRow = db
    .prepare("SELECT id, data FROM resources WHERE kind = 'experiment' AND environment = ? AND key = ?")
    .get(environment, key) as { id: string; data: string } | undefined;
  if (runRow === undefined) return null;
  const run = experimentRun(runRow.id, JSON.parse(runRow.data) as Record<string, unknown>);
  const select = 'SELECT type, key, unit_id, variant, value, timestamp, sent_by FROM events WHERE environment = ? AND ';
  const read = (sql: string, ...params: unknown[]): RebuildEvent[] =>
    (
      db
        .prepare(select + sql)
        .raw()
        .all(...params) as EventRow[]
    ).map(([type, k, unitId, variant, value, timestamp, sentBy]) => ({
      type: type as RebuildEvent['type'],
      key: k,
      unitId,
      variant,
      value,
      timestamp,
      sentBy,
    }));
  const tx = db.transaction((): SummaryRebuild => {
    const exposures = read("type = 'exposure' AND experiment = ? ORDER BY seq", environment, key);
    const tracks = read("type = 'track'", environment);
    const rows = rebuildRunSummaries(run, environment, exposures, tracks, maxValue);
    for (const table of ['experiment_units', 'experiment_unit_counts', 'unit_metrics', 'experiment_exclusions'])
      db.prepare(`DELETE FROM ${table} WHERE experiment = ?`).run(run.id);
    // Units are keyed by their number (migration 14): every summarized unit has one already, but
    // numbering here too keeps a rebuild right whatever `units` holds.
    const numberUnit = db.prepare('INSERT INTO units (unit_id) VALUES (?) ON CONFLICT (unit_id) DO NOTHING');
    const unitNo = db.prepare('SELECT no FROM units WHERE unit_id = ?').pluck();
    const numbers = new Map<string, number>();
    const numberOf = (unitId: string): number => {
      let no = numbers.get(unitId);
      if (no === undefined) {
        numberUnit.run(unitId);
        no = unitNo.get(unitId) as number;
        numbers.set(unitId, no);
      }
      return no;
    };
    const unit = db.prepare('INSERT INTO experiment_units (experiment, unit_no, variant, first_ts, conflicted) VALUES (?, ?, ?, ?, ?)');
    for (const u of rows.units) unit.run(run.id, numberOf(u.unitId), u.variant, u.firstTs, u.conflicted);
    const count = db.prepare('INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units) VALUES (?, ?, ?, ?)');
    for (const c of rows.counts) count.run(run.id, c.conflicted, c.variant, c.units);
    const metric = db.prepare('INSERT INTO unit_metrics (experiment, metric, variant, unit_no, value) VALUES (?, ?, ?, ?, ?)');
    for (const m of rows.metrics) metric.run(run.id, m.metric, m.variant, numberOf(m.unitId), m.value);
    const exclusion = db.prepare('INSERT INTO experiment_exclusions (experiment, reason, sent_by, events) VALUES (?, ?, ?, ?)');
    for (const x of rows.exclusions) exclusion.run(run.id, x.reason, x.sentBy, x.events);
    return {
      experimentId: run.id,
      exposuresRead: exposures.length,
      tracksRead: tracks.length,
      units: rows.units.length,
      excludedExposures: rows.exclusions.reduce((n, x) => n + x.events, 0),
      skippedValues: rows.skippedValues,
    };
  });
  return tx();
}
