import type Database from 'better-sqlite3';
import type { CovariateMetric, ExperimentCovariates } from '../types';

/**
 * Per unit: x, its value of the metric in [first exposure - window, first exposure), from the
 * aggregator's per-unit copy of the track events (`unit_tracks`, keyed by unit, key and time),
 * and y, its counted value after the first exposure (`unit_metrics`). Units without any event
 * in the window have x = 0 and add nothing to the sums, so they are left out. A conversion's x
 * and y are 0/1 (any event), a mean's their sums.
 */
const sql = (conversion: boolean) => `
SELECT variant, SUM(x) AS sx, SUM(x * x) AS sxx, SUM(x * y) AS sxy FROM (
  SELECT a.variant AS variant,
    (SELECT ${conversion ? '1' : 'SUM(t.value)'} FROM unit_tracks t
      WHERE t.unit_no = a.unit_no AND t.key = @metric AND t.timestamp >= a.first_ts - @window AND t.timestamp < a.first_ts
      ${conversion ? 'LIMIT 1' : ''}) AS x,
    COALESCE((SELECT ${conversion ? '1' : 'm.value'} FROM unit_metrics m
      WHERE m.experiment = a.experiment AND m.metric = @metric AND m.variant = a.variant AND m.unit_no = a.unit_no), 0) AS y
  FROM experiment_units a WHERE a.experiment = @experiment AND a.conflicted = 0
) WHERE x IS NOT NULL GROUP BY variant`;

/**
 * The CUPED covariate sums of a SQLite store, read in one transaction. Computed from the
 * stored events on each call (a scan of the experiment's units with an index probe each), not
 * kept at ingestion, so ingestion pays nothing for it. The caller waits for the aggregator first.
 */
export function sqliteCovariates(db: Database.Database): (experiment: string, metrics: readonly CovariateMetric[]) => ExperimentCovariates {
  const stmts = { conversion: db.prepare(sql(true)), mean: db.prepare(sql(false)) };
  return db.transaction((experiment: string, metrics: readonly CovariateMetric[]): ExperimentCovariates => {
    const out: ExperimentCovariates = {};
    for (const m of metrics) {
      const per: ExperimentCovariates[string] = {};
      const rows = stmts[m.type].all({ experiment, metric: m.key, window: m.windowMs }) as {
        variant: string;
        sx: number;
        sxx: number;
        sxy: number;
      }[];
      for (const r of rows) per[r.variant] = { sum: r.sx, sumSquares: r.sxx, sumProducts: r.sxy };
      out[m.key] = per;
    }
    return out;
  });
}
