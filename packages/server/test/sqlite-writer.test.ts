import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import { noExclusions } from '../src/store/run-attribution';
import type { StoredEvent } from '../src/store/types';
import { storedEvent, storedExposure } from './stored-events';

/**
 * What only the SQLite store has: events appended by a writer thread and summarized behind it
 * by an aggregator that reads past a cursor, and retention through per-chunk time ranges.
 */

const event = (id: string, extra: Partial<StoredEvent> = {}): StoredEvent => storedEvent(id, { key: 'buy', ...extra });
const exposure = (id: string, unitId: string, variant: string, timestamp: number): StoredEvent =>
  storedExposure(id, unitId, variant, timestamp);
const BUY = [{ key: 'buy', type: 'mean' as const }];

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-writer-'));
  path = join(dir, 'store.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Reads the database behind the store's back. */
function peek<T>(sql: string): T {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).get() as T;
  } finally {
    db.close();
  }
}

describe('SQLite writer thread', () => {
  it('results wait for the aggregator: 40,000 events sent at once are all counted by the next aggregates call', async () => {
    const store = openSqliteStore(path);
    try {
      const batches: StoredEvent[][] = [];
      for (let b = 0; b < 40; b++) {
        const batch: StoredEvent[] = [];
        for (let i = 0; i < 500; i++) {
          const n = b * 500 + i;
          batch.push(
            exposure(`x${n}`, `u${n}`, n % 2 === 0 ? 'A' : 'B', 100),
            event(`t${n}`, { unitId: `u${n}`, timestamp: 200, value: 1 }),
          );
        }
        batches.push(batch);
      }
      await Promise.all(batches.map((b) => store.insertEventBatches([b])));
      const agg = await store.experimentAggregates('production', 'exp', BUY);
      expect(agg.units).toEqual({ A: 10_000, B: 10_000 });
      expect(agg.metrics.buy).toEqual({
        A: { sum: 10_000, sumSquares: 10_000, unitsWithEvents: 10_000 },
        B: { sum: 10_000, sumSquares: 10_000, unitsWithEvents: 10_000 },
      });
      expect(peek<{ seq: number }>('SELECT seq FROM event_aggregation').seq).toBe(
        peek<{ m: number }>('SELECT MAX(seq) AS m FROM events').m,
      );
    } finally {
      await store.close();
    }
  });

  it('a backlog left by a process that died before summarizing is summarized after the restart', async () => {
    let store = openSqliteStore(path);
    await store.insertEventBatches([[exposure('x1', 'u1', 'A', 100)]]);
    expect((await store.experimentAggregates('production', 'exp', BUY)).units).toEqual({ A: 1 });
    await store.close();
    // Stored and acknowledged, not yet summarized: what a kill -9 between the two leaves behind.
    const db = new Database(path);
    const insert = db.prepare(`INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, 0)`);
    insert.run('x2', 'exposure', 'exp', 'u2', 'exp', 'B', null, 100);
    insert.run('t1', 'track', 'buy', 'u1', null, null, 4, 300);
    insert.run('t2', 'track', 'buy', 'u2', null, null, 5, 300);
    db.close();
    store = openSqliteStore(path);
    try {
      expect(await store.experimentAggregates('production', 'exp', BUY)).toEqual({
        units: { A: 1, B: 1 },
        excludedUnits: 0,
        exclusions: { ...noExclusions(), multiple_variants: 0 },
        exclusionsBySender: [],
        metrics: { buy: { A: { sum: 4, sumSquares: 16, unitsWithEvents: 1 }, B: { sum: 5, sumSquares: 25, unitsWithEvents: 1 } } },
      });
    } finally {
      await store.close();
    }
  });

  it('retention scans the chunks that hold old events, wherever they arrived, and keeps the time ranges right', async () => {
    const store = openSqliteStore(path);
    try {
      // 70,000 recent events fill chunk 0 (seqs 1-65,535) and start chunk 1; then two old ones arrive late.
      const now = 10_000_000;
      for (let b = 0; b < 14; b++) {
        await store.insertEventBatches([
          Array.from({ length: 5000 }, (_, i) => event(`r${b * 5000 + i}`, { timestamp: now + b * 5000 + i })),
        ]);
      }
      await store.insertEventBatches([[event('late-old', { timestamp: 5 }), event('late-new', { timestamp: now })]]);
      await store.experimentAggregates('production', 'exp', []);
      const chunks = () => {
        const db = new Database(path, { readonly: true });
        try {
          return db.prepare('SELECT chunk, min_ts, max_ts FROM event_chunks ORDER BY chunk').all();
        } finally {
          db.close();
        }
      };
      expect(chunks()).toEqual([
        { chunk: 0, min_ts: now, max_ts: now + 65_534 },
        { chunk: 1, min_ts: 5, max_ts: now + 69_999 },
      ]);
      // r0-r9, late-old and late-new.
      expect(await store.deleteEventsBefore(now + 10)).toBe(12);
      expect(await store.countEvents()).toBe(70_002 - 12);
      expect(chunks()).toEqual([
        { chunk: 0, min_ts: now + 10, max_ts: now + 65_534 },
        { chunk: 1, min_ts: now + 65_535, max_ts: now + 69_999 },
      ]);
      expect(await store.deleteEventsBefore(now + 70_000)).toBe(70_002 - 12);
      expect(chunks()).toEqual([]);
      expect(await store.deleteEventsBefore(now + 70_000)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('units of work commit, and the event loop keeps turning, while the aggregator catches up back to back', async () => {
    const store = openSqliteStore(path);
    try {
      const batches = Array.from({ length: 60 }, (_, b) =>
        Array.from({ length: 1000 }, (_, i) => {
          const n = b * 1000 + i;
          return i % 2 === 0 ? exposure(`x${n}`, `u${n}`, 'A', 100) : event(`t${n}`, { unitId: `u${n - 1}`, timestamp: 200, value: 1 });
        }),
      );
      await store.insertEventBatches(batches);
      // Before the writer thread did every write, this connection's commits waited synchronously
      // for the writer's lock, which back-to-back slices almost never release (seconds, then SQLITE_BUSY).
      let last = performance.now();
      let worstGapMs = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        worstGapMs = Math.max(worstGapMs, now - last);
        last = now;
      }, 5);
      try {
        const drained = store.experimentAggregates('production', 'exp', BUY);
        const versions: (number | undefined)[] = [];
        for (let i = 0; i < 20; i++)
          versions.push((await store.commit({ writes: [], configPatches: { production: { flags: {} } } })).versions.production);
        expect((await drained).units).toEqual({ A: 30_000 });
        expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      } finally {
        clearInterval(ticker);
      }
      expect(worstGapMs).toBeLessThan(1000);
    } finally {
      await store.close();
    }
  });

  it('an in-memory database does the same work inline', async () => {
    const store = openSqliteStore(':memory:');
    try {
      expect(
        await store.insertEventBatches([[exposure('x1', 'u1', 'A', 100), event('t1', { value: 2, timestamp: 150 }), event('t1')]]),
      ).toEqual([{ accepted: 2, duplicates: 1 }]);
      expect(await store.experimentAggregates('production', 'exp', BUY)).toEqual({
        units: { A: 1 },
        excludedUnits: 0,
        exclusions: { ...noExclusions(), multiple_variants: 0 },
        exclusionsBySender: [],
        metrics: { buy: { A: { sum: 2, sumSquares: 4, unitsWithEvents: 1 } } },
      });
      expect(await store.deleteEventsBefore(120)).toBe(1);
      expect(await store.countEvents()).toBe(1);
    } finally {
      await store.close();
    }
  });
});
