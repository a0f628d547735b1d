import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPostgresStore } from '../src/store/postgres/postgres-store';
import { AGGREGATOR_LOCK, LOCK_SPACE } from '../src/store/postgres/locks';
import { experimentRun } from '../src/store/run-attribution';
import type { ResourceRow, StoredEvent } from '../src/store/types';
import { storedEvent as event, storedExposure as exposure } from './stored-events';
import { connectClient, startPostgres, type TestPostgres } from './services';

/**
 * The PostgreSQL aggregator keeps the results' summaries behind ingestion: these tests hold
 * transactions open, run two instances at once and inject a failure into a slice, on a real
 * PostgreSQL.
 */

let postgres: TestPostgres;

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const METRICS = [{ key: 'purchase', type: 'mean' as const }];

describe('PostgreSQL aggregator', () => {
  it('two instances ingesting and reading at once count every event exactly once (a rebuild from the events agrees)', async () => {
    const url = await postgres.createDatabase();
    const a = await openPostgresStore(url);
    const b = await openPostgresStore(url);
    try {
      // A running experiment: exposures are checked against its window and assignment.
      const data = {
        key: 'exp',
        variants: [
          { key: 'a', weight: 50 },
          { key: 'b', weight: 50 },
        ],
        traffic_allocation: 100,
        started_at: '1970-01-01T00:00:00.000Z',
      };
      const row: ResourceRow = {
        seq: 0,
        id: 'run-1',
        kind: 'experiment',
        environment: 'production',
        key: 'exp',
        ownerId: null,
        status: 'RUNNING',
        data,
        version: 1,
        createdAt: '2025-01-01T00:00:00.000Z',
        updatedAt: '2025-01-01T00:00:00.000Z',
      };
      await a.commit({ writes: [{ table: 'resources', action: 'insert', row }] });
      const assign = experimentRun('run-1', data).assign;
      const variantOf = (unit: string): string => assign?.(unit) ?? (Number(unit.slice(1)) % 2 === 0 ? 'a' : 'b');
      const units = 400;
      const batches: StoredEvent[][] = [];
      for (let i = 0; i < units; i += 20) {
        const batch: StoredEvent[] = [];
        for (let u = i; u < i + 20; u++) {
          // Tracks before and after their unit's exposure in arrival order; each counts once.
          batch.push(event(`t1-${u}`, { unitId: `u${u}`, value: 2, timestamp: 2000 }));
          batch.push(exposure(`x-${u}`, `u${u}`, variantOf(`u${u}`), 1000));
          batch.push(event(`t0-${u}`, { unitId: `u${u}`, value: 7, timestamp: 500 }));
        }
        batches.push(batch);
      }
      const reads: Promise<unknown>[] = [];
      await Promise.all(
        batches.map(async (batch, i) => {
          // Every batch reaches both instances (a retried request landing elsewhere): stored once.
          await (i % 2 === 0 ? a : b).insertEventBatches([batch]);
          await (i % 2 === 0 ? b : a).insertEventBatches([batch.slice().reverse()]);
          if (i % 4 === 0) reads.push((i % 8 === 0 ? a : b).experimentAggregates('production', 'exp', METRICS));
        }),
      );
      await Promise.all(reads);
      const inA = Array.from({ length: units }, (_, u) => variantOf(`u${u}`)).filter((v) => v === 'a').length;
      const inB = units - inA;
      expect(Math.min(inA, inB)).toBeGreaterThan(units / 4);
      const expected = {
        units: { a: inA, b: inB },
        // The track at 500 is before the exposure at 1000: only the one at 2000 (value 2) counts.
        purchase: {
          a: { sum: 2 * inA, sumSquares: 4 * inA, unitsWithEvents: inA },
          b: { sum: 2 * inB, sumSquares: 4 * inB, unitsWithEvents: inB },
        },
      };
      for (const s of [a, b]) {
        const got = await s.experimentAggregates('production', 'exp', METRICS);
        expect(got.units).toEqual(expected.units);
        expect(got.metrics.purchase).toEqual(expected.purchase);
      }
      expect(await a.countEvents()).toBe(units * 3);
      const rebuilt = await a.rebuildExperimentSummaries('production', 'exp', Number.MAX_SAFE_INTEGER);
      expect(rebuilt).toMatchObject({ exposuresRead: units, tracksRead: units * 2, units });
      const after = await b.experimentAggregates('production', 'exp', METRICS);
      expect(after.units).toEqual(expected.units);
      expect(after.metrics.purchase).toEqual(expected.purchase);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a slice that fails rolls back with its cursor: the events are summarized once when it runs again', async () => {
    const url = await postgres.createDatabase();
    const errors: Error[] = [];
    const store = await openPostgresStore(url, { onError: (e) => errors.push(e) });
    const admin = await connectClient(url);
    try {
      // The cursor's update fails after the slice has written its summaries.
      await admin.query(`CREATE FUNCTION fail_slice() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected slice failure'; END $$`);
      await admin.query('CREATE TRIGGER fail_slice BEFORE UPDATE ON event_aggregation FOR EACH ROW EXECUTE FUNCTION fail_slice()');
      await store.insertEventBatches([[exposure('x1', 'u1', 'a'), event('t1', { unitId: 'u1', value: 3, timestamp: 1200 })]]);
      await expect(store.experimentAggregates('production', 'exp', METRICS)).rejects.toThrow(/injected slice failure/);
      // The background loop failed too and reported it; nothing of the slice stayed.
      await vi.waitFor(() => expect(errors.some((e) => /injected slice failure/.test(e.message))).toBe(true), { timeout: 10_000 });
      expect((await admin.query('SELECT COUNT(*)::int AS n FROM experiment_units')).rows[0].n).toBe(0);
      expect((await admin.query('SELECT COUNT(*)::int AS n FROM unit_metrics')).rows[0].n).toBe(0);
      expect(await store.aggregatorBacklog()).toBe(2);
      await admin.query('DROP TRIGGER fail_slice ON event_aggregation');
      const seen = await store.experimentAggregates('production', 'exp', METRICS);
      expect(seen.units).toEqual({ a: 1 });
      expect(seen.metrics.purchase).toEqual({ a: { sum: 3, sumSquares: 9, unitsWithEvents: 1 } });
      expect(await store.aggregatorBacklog()).toBe(0);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it('an instance older than migration 14 (summaries at ingestion) cannot store events: its transaction fails whole, so nothing is counted twice', async () => {
    const url = await postgres.createDatabase();
    const store = await openPostgresStore(url);
    const old = await connectClient(url);
    try {
      // What that code did in one transaction: insert the events, take the ingestion lock (3),
      // then move the summaries (a statement that changes no row included).
      const oldIngest = async (sql: string) => {
        await old.query('BEGIN');
        try {
          await old.query(
            `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment)
            VALUES ('old-x', 'exposure', 'exp', 'u1', 'exp', 'a', NULL, NULL, 1000, 2000, 'production'),
              ('old-t', 'track', 'purchase', 'u1', NULL, NULL, 3, NULL, 1500, 2000, 'production')`,
          );
          await old.query('SELECT pg_advisory_xact_lock($1, 3)', [LOCK_SPACE]);
          await old.query(sql);
          await old.query('COMMIT');
        } finally {
          await old.query('ROLLBACK');
        }
      };
      await expect(
        oldIngest(
          "INSERT INTO experiment_units (experiment, unit_id, variant, first_ts, conflicted) VALUES ('production:exp', 'production:u1', 'a', 1000, 0)",
        ),
      ).rejects.toThrow(/older than migration 14/);
      await expect(oldIngest("UPDATE unit_metrics SET value = value + 3 WHERE unit_id = 'production:u1'")).rejects.toThrow(
        /older than migration 14/,
      );
      expect(await store.countEvents()).toBe(0);
      // The batch resent to an instance of this version is counted once.
      await store.insertEventBatches([[exposure('old-x', 'u1', 'a'), event('old-t', { unitId: 'u1', value: 3, timestamp: 1500 })]]);
      const seen = await store.experimentAggregates('production', 'exp', METRICS);
      expect(seen.units).toEqual({ a: 1 });
      expect(seen.metrics.purchase).toEqual({ a: { sum: 3, sumSquares: 9, unitsWithEvents: 1 } });
    } finally {
      await old.end();
      await store.close();
    }
  });

  it('summarizes in the background (the backlog is reported until then), also what an instance closed before summarizing left', async () => {
    const url = await postgres.createDatabase();
    const first = await openPostgresStore(url);
    const holder = await connectClient(url);
    let second: Awaited<ReturnType<typeof openPostgresStore>> | null = null;
    try {
      // Another aggregator busy: no slice can run.
      await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_SPACE, AGGREGATOR_LOCK]);
      const batch = Array.from({ length: 30 }, (_, i) => exposure(`x${i}`, `u${i}`, i % 3 === 0 ? 'b' : 'a'));
      await first.insertEventBatches([batch]);
      expect(await first.aggregatorBacklog()).toBe(30);
      await first.close();
      second = await openPostgresStore(url);
      expect(await second.aggregatorBacklog()).toBe(30);
      await holder.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, AGGREGATOR_LOCK]);
      // No read asks for it: the background loop catches up on its own.
      const s = second;
      await vi.waitFor(async () => expect(await s.aggregatorBacklog()).toBe(0), { timeout: 15_000, interval: 50 });
      const units = (await holder.query('SELECT variant, units::int AS n FROM experiment_unit_counts ORDER BY variant')).rows;
      expect(units).toEqual([
        { variant: 'a', n: 20 },
        { variant: 'b', n: 10 },
      ]);
    } finally {
      await holder.end();
      await second?.close();
    }
  });
});
