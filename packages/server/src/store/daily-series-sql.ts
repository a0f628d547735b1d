/**
 * SQL for an experiment's daily series, shared by SQLite and PostgreSQL (the same statements;
 * `$n` placeholders, which better-sqlite3 also accepts as numbered parameters). Reads the stored
 * events, not the results' summaries: a unit counts from the UTC day of its first exposure
 * inside the window, a unit exposed to more than one variant not at all, and a metric event only
 * at or after the unit's first exposure. Parameters: $1 environment, $2 experiment key, $3 window
 * start (epoch ms), $4 window end, and for the metric statements $5 the metric's event key.
 */
const UNITS = `
  SELECT unit_id, MIN(variant) AS variant, MIN(timestamp) AS first_ts FROM events
  WHERE environment = $1 AND type = 'exposure' AND experiment = $2 AND timestamp >= $3 AND timestamp <= $4
  GROUP BY unit_id HAVING COUNT(DISTINCT variant) = 1`;

/** New units per variant and UTC day (day = epoch ms / 86,400,000, rounded down). */
export const DAILY_UNITS_SQL = `
SELECT u.variant AS variant, u.first_ts / 86400000 AS day, COUNT(*) AS n
FROM (${UNITS}) u GROUP BY u.variant, u.first_ts / 86400000`;

/** Per variant and day: the metric's summed values (an event without a value counts 1). */
export const DAILY_SUMS_SQL = `
SELECT u.variant AS variant, t.timestamp / 86400000 AS day, SUM(COALESCE(t.value, 1)) AS n
FROM events t JOIN (${UNITS}) u ON t.unit_id = u.unit_id AND t.timestamp >= u.first_ts
WHERE t.environment = $1 AND t.type = 'track' AND t.key = $5 AND t.timestamp <= $4
GROUP BY u.variant, t.timestamp / 86400000`;

/** Per variant and day: units whose first counted event of the metric fell on that day. */
export const DAILY_CONVERTERS_SQL = `
SELECT c.variant AS variant, c.day AS day, COUNT(*) AS n FROM (
  SELECT u.variant AS variant, MIN(t.timestamp) / 86400000 AS day
  FROM events t JOIN (${UNITS}) u ON t.unit_id = u.unit_id AND t.timestamp >= u.first_ts
  WHERE t.environment = $1 AND t.type = 'track' AND t.key = $5 AND t.timestamp <= $4
  GROUP BY u.unit_id, u.variant) c
GROUP BY c.variant, c.day`;

/** One row of a daily statement: a variant, a UTC day number and a count or sum. */
export interface DayRow {
  variant: string;
  day: number;
  n: number;
}

/** A metric of the series: its event key, and its type, which names the one statement it needs. */
export interface DailySeriesMetric {
  key: string;
  type: 'conversion' | 'mean';
}

/**
 * What {@link readDailySeries} returns: new units per day, and per metric key its daily figure:
 * new converters for a conversion metric, summed values for a mean metric.
 */
export interface DailySeriesRows {
  units: DayRow[];
  metrics: Record<string, DayRow[]>;
}

/** Runs one statement with positional values for `$1..$n`. */
export type RunDailyStatement = (sql: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

const toRows = (rows: Record<string, unknown>[]): DayRow[] =>
  rows.map((r) => ({ variant: String(r.variant), day: Number(r.day), n: Number(r.n) }));

/**
 * Reads an experiment's daily series with the store's own statement runner: one statement for
 * the units, and one per metric (the one its type needs).
 *
 * @example
 * ```ts
 * const rows = await readDailySeries(run, 'production', 'checkout-test', { from: 0, to: Date.now() }, [{ key: 'purchase', type: 'conversion' }]);
 * ```
 */
export async function readDailySeries(
  run: RunDailyStatement,
  environment: string,
  experiment: string,
  window: { from: number; to: number },
  metrics: readonly DailySeriesMetric[],
): Promise<DailySeriesRows> {
  const base = [environment, experiment, window.from, window.to];
  const units = toRows(await run(DAILY_UNITS_SQL, base));
  const out: DailySeriesRows['metrics'] = {};
  for (const m of metrics)
    out[m.key] = toRows(await run(m.type === 'conversion' ? DAILY_CONVERTERS_SQL : DAILY_SUMS_SQL, [...base, m.key]));
  return { units, metrics: out };
}
