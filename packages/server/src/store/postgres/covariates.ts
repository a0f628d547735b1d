import type { CovariateMetric, ExperimentCovariates } from '../types';

type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/**
 * As the SQLite query (see sqlite/covariates.ts), over `events` through its per-unit track index.
 * `experiment_units` names units `<environment>:<unit>`: the events' raw unit id follows the prefix.
 */
const sql = (conversion: boolean) => `
SELECT variant, SUM(x) AS sx, SUM(x * x) AS sxx, SUM(x * y) AS sxy FROM (
  SELECT a.variant AS variant,
    (SELECT ${conversion ? '1' : 'SUM(COALESCE(t.value, 1))'} FROM events t
      WHERE t.type = 'track' AND t.unit_id = substr(a.unit_id, length($4) + 2) AND t.environment = $4 AND t.key = $2 AND t.timestamp >= a.first_ts - $3 AND t.timestamp < a.first_ts
      ${conversion ? 'LIMIT 1' : ''}) AS x,
    COALESCE((SELECT ${conversion ? '1' : 'm.value'} FROM unit_metrics m
      WHERE m.experiment = a.experiment AND m.metric = $2 AND m.variant = a.variant AND m.unit_id = a.unit_id), 0) AS y
  FROM experiment_units a WHERE a.experiment = $1 AND a.conflicted = 0
) u WHERE x IS NOT NULL GROUP BY variant`;

/**
 * The CUPED covariate sums of a PostgreSQL store for the experiment the summaries name
 * `summaryKey` (its run), one statement per metric. Computed from the
 * stored events on each call (a scan of the experiment's units with an index probe each), not
 * kept at ingestion, so ingestion pays nothing for it.
 */
export async function postgresCovariates(
  q: Query,
  environment: string,
  summaryKey: string,
  metrics: readonly CovariateMetric[],
): Promise<ExperimentCovariates> {
  const out: ExperimentCovariates = {};
  for (const m of metrics) {
    const rows = await q(sql(m.type === 'conversion'), [summaryKey, m.key, m.windowMs, environment]);
    const per: ExperimentCovariates[string] = {};
    for (const r of rows) per[r.variant as string] = { sum: Number(r.sx), sumSquares: Number(r.sxx), sumProducts: Number(r.sxy) };
    out[m.key] = per;
  }
  return out;
}
