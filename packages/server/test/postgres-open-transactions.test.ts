import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openPostgresStore } from '../src/store/postgres/postgres-store';
import { assignedVariant } from './assignment';
import { startTestServer } from './helpers';
import { storedEvent as event, storedExposure as exposure } from './stored-events';
import { connectClient, startPostgres, type TestPostgres } from './services';

/**
 * The PostgreSQL aggregator's cursor and transactions left open on the server: an unrelated one
 * holds nothing back, an ingesting one that commits late is counted once, and a pass killed
 * midway loses and double-counts nothing. Real PostgreSQL, transactions held open by raw clients.
 */

let postgres: TestPostgres;

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

const METRICS = [{ key: 'purchase', type: 'mean' as const }];

/** A raw client with a write transaction left open (it has a transaction id); resolves to that id. */
async function openWriter(c: pg.Client, sql: string): Promise<string> {
  await c.query('BEGIN');
  await c.query(sql);
  return (await c.query('SELECT pg_current_xact_id()::text AS x')).rows[0].x as string;
}

const cursorOf = async (c: pg.Client): Promise<{ xmax: string; xip: string[] }> =>
  (await c.query('SELECT xid::text AS xmax, xip::text[] AS xip FROM event_aggregation WHERE id = 1')).rows[0] as {
    xmax: string;
    xip: string[];
  };

describe('PostgreSQL aggregator and open transactions', () => {
  it('an unrelated write transaction left open does not hold results back: events sent after it count and results answer 200', async () => {
    const url = await postgres.createDatabase();
    const t = await startTestServer({ databaseUrl: url, apiRateBurst: 1e9, apiRatePerSecond: 1e9 });
    const other = await connectClient(url);
    const watcher = await connectClient(url);
    try {
      const key = 'open-tx';
      const admin = { token: t.adminToken };
      const body = {
        key,
        name: key,
        variants: [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ],
        metrics: [{ key: 'purchase', type: 'mean' }],
        primary_metric: 'purchase',
      };
      expect((await t.request('POST', '/api/v1/experiments', { ...admin, body })).status).toBe(201);
      expect((await t.request('POST', `/api/v1/experiments/${key}/start`, admin)).status).toBe(200);
      const start = Date.parse((await t.request('GET', `/api/v1/experiments/${key}`, admin)).body.data.attributes.started_at as string);
      // Another application's transaction (as a psql session or a long migration would), never committed here.
      const xid = await openWriter(other, 'CREATE TABLE other_app (v int); INSERT INTO other_app VALUES (1)');
      const sent: unknown[] = [];
      const expected: Record<string, number> = { control: 0, treatment: 0 };
      for (let i = 0; i < 40; i++) {
        const unit = `u${i}`;
        const variant = assignedVariant(key, unit);
        expected[variant]!++;
        sent.push({ id: randomUUID(), type: 'exposure', key, experiment: key, variant, unit_id: unit, timestamp: start + 1 });
        sent.push({ id: randomUUID(), type: 'track', key: 'purchase', unit_id: unit, value: 4, timestamp: start + 2 });
      }
      expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: sent } })).status).toBe(202);
      const r = await t.request('GET', `/api/v1/experiments/${key}/results`, admin);
      expect(r.status).toBe(200);
      const units = Object.fromEntries((r.body.data.variants as { key: string; units: number }[]).map((v) => [v.key, v.units]));
      expect(units).toEqual(expected);
      // The transaction was open throughout, and the cursor went past it, leaving it among the running ones.
      expect((await other.query('SELECT pg_current_xact_id()::text AS x')).rows[0].x).toBe(xid);
      const cursor = await cursorOf(watcher);
      expect(BigInt(cursor.xmax)).toBeGreaterThan(BigInt(xid));
      expect(cursor.xip).toContain(xid);
      await other.query('ROLLBACK');
    } finally {
      await other.end().catch(() => {});
      await watcher.end();
      await t.stop();
    }
  });

  it('an event transaction that commits after a later one is counted once, when it commits, also by another instance after a restart', async () => {
    const url = await postgres.createDatabase();
    const first = await openPostgresStore(url);
    const early = await connectClient(url);
    const watcher = await connectClient(url);
    let second: Awaited<ReturnType<typeof openPostgresStore>> | null = null;
    try {
      // An ingesting transaction that takes its id first and commits last.
      const earlyXid = await openWriter(
        early,
        `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment)
        VALUES ('early', 'exposure', 'exp', 'u1', 'exp', 'a', NULL, NULL, 1000, 2000, 'production'),
          ('early-track', 'track', 'purchase', 'u1', NULL, NULL, 3, NULL, 1500, 2000, 'production')`,
      );
      await first.insertEventBatches([[exposure('late', 'u2', 'b'), event('late-track', { unitId: 'u2', value: 5, timestamp: 1500 })]]);
      // The read answers at once with what has committed; the open transaction is left for later.
      const before = await first.experimentAggregates('production', 'exp', METRICS);
      expect(before.units).toEqual({ b: 1 });
      expect(before.metrics.purchase).toEqual({ b: { sum: 5, sumSquares: 25, unitsWithEvents: 1 } });
      const cursor = await cursorOf(watcher);
      expect(BigInt(cursor.xmax)).toBeGreaterThan(BigInt(earlyXid));
      expect(cursor.xip).toContain(earlyXid);
      expect(await first.aggregatorBacklog()).toBe(0);
      // The instance that read stops; the open transaction commits; another instance reads.
      await first.close();
      await early.query('COMMIT');
      second = await openPostgresStore(url);
      const after = await second.experimentAggregates('production', 'exp', METRICS);
      expect(after.units).toEqual({ a: 1, b: 1 });
      expect(after.metrics.purchase).toEqual({
        a: { sum: 3, sumSquares: 9, unitsWithEvents: 1 },
        b: { sum: 5, sumSquares: 25, unitsWithEvents: 1 },
      });
      expect((await cursorOf(watcher)).xip).not.toContain(earlyXid);
      expect(await second.aggregatorBacklog()).toBe(0);
      // Once: later passes leave it as it is.
      await second.insertEventBatches([[event('later', { unitId: 'u9', value: 1, timestamp: 1600 })]]);
      expect(await second.experimentAggregates('production', 'exp', METRICS)).toEqual(after);
    } finally {
      await early.end().catch(() => {});
      await watcher.end();
      await first.close();
      await second?.close();
    }
  });

  it('crossed commits of two ingesting transactions, each seen by a pass while the other is open: each event counted once', async () => {
    const url = await postgres.createDatabase();
    const store = await openPostgresStore(url);
    const one = await connectClient(url);
    const two = await connectClient(url);
    const insert = (id: string, unit: string, variant: string) =>
      `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment)
      VALUES ('${id}', 'exposure', 'exp', '${unit}', 'exp', '${variant}', NULL, NULL, 1000, 2000, 'production'),
        ('${id}-t', 'track', 'purchase', '${unit}', NULL, NULL, 2, NULL, 1500, 2000, 'production')`;
    try {
      // One takes its id first, two second; two commits first, one last.
      await openWriter(one, insert('one', 'u1', 'a'));
      await openWriter(two, insert('two', 'u2', 'b'));
      const read = () => store.experimentAggregates('production', 'exp', METRICS);
      expect((await read()).units).toEqual({});
      await two.query('COMMIT');
      expect((await read()).units).toEqual({ b: 1 });
      // A track of u2 stored while one is still open joins u2's row once.
      await store.insertEventBatches([[event('two-more', { unitId: 'u2', value: 1, timestamp: 1700 })]]);
      expect((await read()).metrics.purchase).toEqual({ b: { sum: 3, sumSquares: 9, unitsWithEvents: 1 } });
      await one.query('COMMIT');
      const all = await read();
      expect(all.units).toEqual({ a: 1, b: 1 });
      expect(all.metrics.purchase).toEqual({
        a: { sum: 2, sumSquares: 4, unitsWithEvents: 1 },
        b: { sum: 3, sumSquares: 9, unitsWithEvents: 1 },
      });
      expect(await read()).toEqual(all);
      expect(await store.aggregatorBacklog()).toBe(0);
    } finally {
      await one.end().catch(() => {});
      await two.end().catch(() => {});
      await store.close();
    }
  });

  it('a pass killed midway (its connection dropped) leaves nothing behind: the next pass counts every event once', async () => {
    const url = await postgres.createDatabase();
    const errors: Error[] = [];
    const store = await openPostgresStore(url, { onError: (e) => errors.push(e) });
    const locker = await connectClient(url);
    const admin = await connectClient(url);
    try {
      const batch = [
        exposure('x1', 'u1', 'a'),
        exposure('x2', 'u2', 'b'),
        event('t1', { unitId: 'u1', value: 3, timestamp: 1200 }),
        event('t2', { unitId: 'u2', value: 4, timestamp: 1200 }),
      ];
      const cursor = await cursorOf(admin);
      // The pass stops at its unit counts, after it has written experiment_units and unit_metrics.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE experiment_unit_counts IN EXCLUSIVE MODE');
      await store.insertEventBatches([batch]);
      const blocked = async () =>
        (
          await admin.query(
            `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO experiment_unit_counts%'`,
          )
        ).rows as { pid: number }[];
      await vi.waitFor(async () => expect(await blocked()).toHaveLength(1), { timeout: 15_000, interval: 20 });
      const pid = (await blocked())[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 15_000, interval: 20 });
      // Nothing of the killed pass stayed; the cursor is where it was (a retried pass waits at the lock again).
      for (const table of ['experiment_units', 'unit_metrics', 'experiment_unit_counts'])
        expect((await admin.query(`SELECT COUNT(*)::int AS n FROM ${table}`)).rows[0].n).toBe(0);
      expect(await cursorOf(admin)).toEqual(cursor);
      expect(await store.aggregatorBacklog()).toBe(4);
      await locker.query('COMMIT');
      const seen = await store.experimentAggregates('production', 'exp', METRICS);
      expect(seen.units).toEqual({ a: 1, b: 1 });
      expect(seen.metrics.purchase).toEqual({
        a: { sum: 3, sumSquares: 9, unitsWithEvents: 1 },
        b: { sum: 4, sumSquares: 16, unitsWithEvents: 1 },
      });
      expect(await store.experimentAggregates('production', 'exp', METRICS)).toEqual(seen);
      expect(await store.aggregatorBacklog()).toBe(0);
    } finally {
      await locker.end().catch(() => {});
      await admin.end();
      await store.close();
    }
  });
});
