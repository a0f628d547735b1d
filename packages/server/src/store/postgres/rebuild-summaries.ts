import { experimentRun } from '../run-attribution';
import { rebuildRunSummaries, type RebuildEvent } from '../summary-rebuild';
import type { SummaryRebuild } from '../types';
import type { Queryable } from './migrations';

/** Rows per multi-row INSERT (PostgreSQL takes at most 65,535 parameters). */
const CHUNK = 2000;

async function insertRows(c: Queryable, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const values = chunk.map((_, r) => `(${columns.map((_, k) => `$${r * columns.length + k + 1}`).join(', ')})`).join(', ');
    await c.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
  }
}

const toEvent = (r: Record<string, unknown>): RebuildEvent => ({
  type: r.type as RebuildEvent['type'],
  key: r.key as string,
  unitId: r.unit_id as string,
  variant: (r.variant as string | null) ?? null,
  value: r.value === null || r.value === undefined ? null : Number(r.value),
  timestamp: Number(r.timestamp),
  sentBy: (r.sent_by as string | null) ?? null,
});

/**
 * The PostgreSQL side of {@link Store.rebuildExperimentSummaries}: inside a transaction that holds
 * the aggregator's lock (so no slice moves the summaries meanwhile), the run's summary rows are
 * replaced by ones recomputed from its events that the aggregator has passed (`xid` below its
 * cursor's and not among the transactions it left out); later events are summarized on top by
 * the aggregator, as if they arrived after.
 */
export async function rebuildSummariesPostgres(
  c: Queryable,
  aggregatorLock: [number, number],
  environment: string,
  key: string,
  maxValue: number,
): Promise<SummaryRebuild | null> {
  await c.query('SELECT pg_advisory_xact_lock($1, $2)', aggregatorLock);
  const cursor = (await c.query('SELECT xid::text AS xmax, xip::text[] AS xip FROM event_aggregation WHERE id = 1')).rows[0] as {
    xmax: string;
    xip: string[];
  };
  // The cursor's bounds as parameters $n and $n+1.
  const passed = (n: number) => `xid < $${n}::xid8 AND xid <> ALL($${n + 1}::xid8[])`;
  const found = await c.query("SELECT id, data FROM resources WHERE kind = 'experiment' AND environment = $1 AND key = $2", [
    environment,
    key,
  ]);
  const row = found.rows[0] as { id: string; data: unknown } | undefined;
  if (row === undefined) return null;
  const data = typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, unknown>) : (row.data as Record<string, unknown>);
  const run = experimentRun(row.id, data);
  const columns = 'type, key, unit_id, variant, value, timestamp, sent_by';
  const exposures = // Arrival order (events have no sequence number here): it decides only which variant a unit
    // exposed to two is counted under among the excluded, never what results count.
    (
      await c.query(
        `SELECT ${columns} FROM events WHERE environment = $1 AND type = 'exposure' AND experiment = $2 AND ${passed(3)}
        ORDER BY received_at, id`,
        [environment, key, cursor.xmax, cursor.xip],
      )
    ).rows.map(toEvent);
  const tracks = (
    await c.query(`SELECT ${columns} FROM events WHERE environment = $1 AND type = 'track' AND ${passed(2)}`, [
      environment,
      cursor.xmax,
      cursor.xip,
    ])
  ).rows.map(toEvent);
  const rows = rebuildRunSummaries(run, environment, exposures, tracks, maxValue);
  for (const table of ['experiment_units', 'experiment_unit_counts', 'unit_metrics', 'experiment_exclusions'])
    await c.query(`DELETE FROM ${table} WHERE experiment = $1`, [run.id]);
  const id = run.id;
  await insertRows(
    c,
    'experiment_units',
    ['experiment', 'unit_id', 'variant', 'first_ts', 'conflicted'],
    rows.units.map((u) => [id, u.unitId, u.variant, u.firstTs, u.conflicted]),
  );
  await insertRows(
    c,
    'experiment_unit_counts',
    ['experiment', 'conflicted', 'variant', 'units'],
    rows.counts.map((n) => [id, n.conflicted, n.variant, n.units]),
  );
  await insertRows(
    c,
    'unit_metrics',
    ['experiment', 'metric', 'variant', 'unit_id', 'value'],
    rows.metrics.map((m) => [id, m.metric, m.variant, m.unitId, m.value]),
  );
  await insertRows(
    c,
    'experiment_exclusions',
    ['experiment', 'reason', 'sent_by', 'events'],
    rows.exclusions.map((x) => [id, x.reason, x.sentBy, x.events]),
  );
  return {
    experimentId: id,
    exposuresRead: exposures.length,
    tracksRead: tracks.length,
    units: rows.units.length,
    excludedExposures: rows.exclusions.reduce((n, x) => n + x.events, 0),
    skippedValues: rows.skippedValues,
  };
}
