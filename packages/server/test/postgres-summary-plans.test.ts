import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { openPostgresStore } from '../src/store/postgres/postgres-store';
import { applySummaries } from '../src/store/postgres/summary-upkeep';
import { storedExposure as exposure } from './stored-events';
import { connectClient, startPostgres, type TestPostgres } from './services';

/**
 * What one aggregator slice reads on a real PostgreSQL: its work must follow the slice, not the
 * size of the tables it joins against. Read from the transaction's own statistics counters
 * (`pg_stat_get_xact_*`: sequential scans of a table, entries read from each of its indexes).
 */

let postgres: TestPostgres;

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

/** Sequential scans of `table` and index entries read from all of its indexes, in this transaction so far. */
async function reads(c: pg.Client, table: string): Promise<{ seqScans: number; indexEntries: number }> {
  const { rows } = await c.query(
    `SELECT pg_stat_get_xact_numscans($1::regclass) AS seq,
      (SELECT COALESCE(SUM(pg_stat_get_xact_tuples_returned(indexrelid)), 0) FROM pg_index WHERE indrelid = $1::regclass) AS entries`,
    [table],
  );
  return { seqScans: Number(rows[0].seq), indexEntries: Number(rows[0].entries) };
}

const OTHERS = 100_000;
const UNITS = 1000;

describe('PostgreSQL aggregator slice plans', () => {
  it('a slice of 1,000 new units probes the tables by those units, however many other events and units are stored (statistics never gathered)', async () => {
    const url = await postgres.createDatabase();
    await (await openPostgresStore(url)).close();
    const c = await connectClient(url);
    try {
      // Many tracks of other units, and other units already exposed: what a busy store holds, with
      // the statistics of tables that were just filled (autovacuum has not analyzed them yet).
      await c.query(`INSERT INTO events (id, type, key, unit_id, value, timestamp, received_at, environment, xid)
        SELECT 'old-' || i, 'track', 'purchase', 'other-' || i, 1, 1000 + i, 2000, 'production', '1'::xid8 FROM generate_series(1, ${OTHERS}) AS i`);
      await c.query(`INSERT INTO experiment_units (experiment, unit_id, variant, first_ts, conflicted)
        SELECT 'production:exp', 'production:other-' || i, 'a', 500, 0 FROM generate_series(1, ${OTHERS}) AS i`);
      // The slice (transaction 2): the first exposure of each of 1,000 new units and a track of
      // each; each unit also has a track stored before the slice (transaction 1), taken in when
      // its exposure is summarized.
      await c.query(`INSERT INTO events (id, type, key, unit_id, value, timestamp, received_at, environment, xid)
        SELECT 'before-' || i, 'track', 'purchase', 'u' || i, 5, 1500, 2000, 'production', '1'::xid8 FROM generate_series(1, ${UNITS}) AS i`);
      await c.query(`INSERT INTO events (id, type, key, unit_id, value, timestamp, received_at, environment, xid)
        SELECT 'now-' || i, 'track', 'purchase', 'u' || i, 7, 2500, 2000, 'production', '2'::xid8 FROM generate_series(1, ${UNITS}) AS i`);
      const exposures = Array.from({ length: UNITS }, (_, i) => exposure(`x${i}`, `u${i + 1}`, 'a', 1200));
      const slice = { where: 'xid >= $1::xid8 AND xid < $2::xid8', params: ['2', '3'] };
      await c.query('BEGIN');
      const before = { events: await reads(c, 'events'), units: await reads(c, 'experiment_units') };
      await applySummaries(c, slice, exposures, { xmax: '3', xip: [] });
      const after = { events: await reads(c, 'events'), units: await reads(c, 'experiment_units') };
      await c.query('COMMIT');
      expect(after.events.seqScans - before.events.seqScans).toBe(0);
      expect(after.units.seqScans - before.units.seqScans).toBe(0);
      // A few entries per unit of the slice (its own), none of the other units'.
      expect(after.events.indexEntries - before.events.indexEntries).toBeLessThanOrEqual(4 * UNITS);
      expect(after.units.indexEntries - before.units.indexEntries).toBeLessThanOrEqual(4 * UNITS);
      // And the summaries are right: both tracks of each unit are after its first exposure.
      const { rows } = await c.query(
        `SELECT COUNT(*)::int AS n, SUM(value)::float8 AS total FROM unit_metrics WHERE experiment = 'production:exp' AND metric = 'purchase'`,
      );
      expect(rows[0]).toEqual({ n: UNITS, total: 12 * UNITS });
      const counted = await c.query(
        `SELECT units::int AS n FROM experiment_unit_counts WHERE experiment = 'production:exp' AND conflicted = 0`,
      );
      expect(counted.rows).toEqual([{ n: UNITS }]);
    } finally {
      await c.end();
    }
  }, 60_000);
});
