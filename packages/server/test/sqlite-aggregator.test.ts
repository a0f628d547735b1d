import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openConnection } from '../src/store/sqlite/connection';
import { appendEvents, packBatches } from '../src/store/sqlite/event-append';
import { eventTables } from '../src/store/sqlite/event-tables';
import { MIGRATIONS } from '../src/store/sqlite/migrations';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import type { StoredEvent } from '../src/store/types';
import { prng } from '../src/services/infra/prng';

/**
 * The SQLite aggregator summarizes events set-wise, a slice at a time (summary-slice.ts): these
 * check that whatever the slicing, the summaries equal the ones defined event by event, and that
 * a process killed while it works neither loses nor double-counts an event.
 */

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-aggregator-'));
  path = join(dir, 'store.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Events that exercise every rule: conflicts, earlier first exposures, tracks before exposures, two environments and experiments. */
function randomEvents(count: number, seed: number): StoredEvent[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: count }, (_, n): StoredEvent => {
    const exposure = r() < 0.4;
    const unit = Math.floor(r() * 40);
    const unitId = `u${unit}`;
    return {
      environment: pick(['production', 'staging']),
      id: `e${n}`,
      type: exposure ? 'exposure' : 'track',
      key: exposure ? 'k' : pick(['buy', 'view']),
      unitId,
      experiment: exposure ? pick(['exp-a', 'exp-b']) : null,
      // Mostly one variant per unit, sometimes the other: some units become conflicted.
      variant: exposure ? ((unit + (r() < 0.08 ? 1 : 0)) % 2 === 0 ? 'A' : 'B') : null,
      value: exposure || r() < 0.3 ? null : Math.floor(r() * 10),
      properties: null,
      timestamp: Math.floor(r() * 1000),
      receivedAt: 0,
    };
  });
}

/** The summaries defined one event at a time, in seq order (no experiment exists, so every exposure counts). */
function expectedSummaries(events: readonly StoredEvent[]) {
  const units = new Map<string, { experiment: string; unit_id: string; variant: string; first_ts: number; conflicted: number }>();
  for (const e of events) {
    if (e.type !== 'exposure') continue;
    const k = `${e.environment}:${e.unitId}|${e.environment}:${e.experiment}`;
    const u = units.get(k);
    if (u === undefined)
      units.set(k, {
        experiment: `${e.environment}:${e.experiment}`,
        unit_id: `${e.environment}:${e.unitId}`,
        variant: e.variant!,
        first_ts: e.timestamp,
        conflicted: 0,
      });
    else {
      if (e.variant !== u.variant) u.conflicted = 1;
      u.first_ts = Math.min(u.first_ts, e.timestamp);
    }
  }
  const metrics = new Map<string, { experiment: string; metric: string; variant: string; unit_id: string; value: number }>();
  for (const u of units.values()) {
    if (u.conflicted === 1) continue;
    for (const e of events) {
      if (e.type !== 'track' || `${e.environment}:${e.unitId}` !== u.unit_id || e.timestamp < u.first_ts) continue;
      const k = `${u.experiment}|${e.key}|${u.unit_id}`;
      const m = metrics.get(k) ?? { experiment: u.experiment, metric: e.key, variant: u.variant, unit_id: u.unit_id, value: 0 };
      m.value += e.value ?? 1;
      metrics.set(k, m);
    }
  }
  const counts = new Map<string, { experiment: string; conflicted: number; variant: string; units: number }>();
  for (const u of units.values()) {
    const k = `${u.experiment}|${u.conflicted}|${u.variant}`;
    const c = counts.get(k) ?? { experiment: u.experiment, conflicted: u.conflicted, variant: u.variant, units: 0 };
    c.units++;
    counts.set(k, c);
  }
  const sorted = <T>(xs: Iterable<T>) => [...xs].map((x) => JSON.stringify(x)).sort();
  return { units: sorted(units.values()), metrics: sorted(metrics.values()), counts: sorted(counts.values()) };
}

function storedSummaries(db: Database.Database) {
  const sorted = (sql: string) => (db.prepare(sql).all() as object[]).map((x) => JSON.stringify(x)).sort();
  return {
    // Units are stored by number (migration 14): compared by their ids.
    units: sorted(
      'SELECT a.experiment, n.unit_id, a.variant, a.first_ts, a.conflicted FROM experiment_units a JOIN units n ON n.no = a.unit_no',
    ),
    metrics: sorted('SELECT m.experiment, m.metric, m.variant, n.unit_id, m.value FROM unit_metrics m JOIN units n ON n.no = m.unit_no'),
    counts: sorted('SELECT experiment, conflicted, variant, units FROM experiment_unit_counts WHERE units <> 0'),
  };
}

describe('SQLite aggregator', () => {
  it.each([
    ['one slice for everything', 1, () => 100_000],
    ['slices of 1 to 60 events, interleaved with ingestion', 2, (r: () => number) => 1 + Math.floor(r() * 60)],
    ['single-event slices', 3, () => 1],
  ])('gives the event-by-event summaries whatever the slicing: %s', async (_name, seed, sliceSize) => {
    const created = openSqliteStore(path);
    await created.close();
    const db = openConnection(path, { autocheckpointPages: 1000 });
    try {
      const tables = eventTables(db);
      const events = randomEvents(3000, seed);
      const r = prng(seed + 100);
      // Batches arrive while earlier ones are only partly summarized.
      for (let at = 0; at < events.length;) {
        const n = 1 + Math.floor(r() * 200);
        tables.insert([packBatches([events.slice(at, at + n)])]);
        at += n;
        tables.aggregate({ maxEvents: sliceSize(r), maxMs: Number.POSITIVE_INFINITY });
      }
      while (tables.backlog() > 0) tables.aggregate({ maxEvents: sliceSize(r), maxMs: Number.POSITIVE_INFINITY });
      const expected = expectedSummaries(events);
      // The mix must exercise conflicts, or this proves less than it claims.
      expect(expected.units.filter((u) => u.includes('"conflicted":1')).length).toBeGreaterThan(5);
      expect(storedSummaries(db)).toEqual(expected);
      // Every track was copied once for later exposures and CUPED.
      expect(db.prepare('SELECT COUNT(*) FROM unit_tracks').pluck().get()).toBe(events.filter((e) => e.type === 'track').length);
    } finally {
      db.close();
    }
  });

  it('migration 14 numbers the units of summaries kept by unit id; the aggregator carries on from them', async () => {
    const events = randomEvents(3000, 4);
    const before = events.slice(0, 2000);
    // A database at migration 13 whose summaries (keyed by the unit id text) count the first 2,000 events.
    const old = new Database(path);
    try {
      old.exec('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      for (const m of MIGRATIONS.filter((x) => x.id <= 13)) {
        old.exec(m.sql);
        m.up?.(old);
        old.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, '2026-01-01T00:00:00Z');
      }
      appendEvents(old)([packBatches([before])]);
      const summaries = expectedSummaries(before);
      const rows = (table: string, list: string[]) => {
        for (const json of list) {
          const row = JSON.parse(json) as Record<string, unknown>;
          const columns = Object.keys(row);
          old
            .prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
            .run(...Object.values(row));
        }
      };
      rows('experiment_units', summaries.units);
      rows('unit_metrics', summaries.metrics);
      rows('experiment_unit_counts', summaries.counts);
      old.exec(`INSERT INTO unit_tracks (unit_id, key, timestamp, seq, value)
        SELECT environment || ':' || unit_id, key, timestamp, seq, COALESCE(value, 1) FROM events WHERE type = 'track'`);
      old.exec('UPDATE event_aggregation SET seq = (SELECT MAX(seq) FROM events)');
    } finally {
      old.close();
    }
    const migrated = openSqliteStore(path);
    await migrated.close();
    const db = openConnection(path, { autocheckpointPages: 1000 });
    try {
      expect(storedSummaries(db)).toEqual(expectedSummaries(before));
      // The rest arrives after the upgrade: later and earlier first exposures, conflicts and tracks of the migrated units.
      const tables = eventTables(db);
      tables.insert([packBatches([events.slice(2000)])]);
      while (tables.backlog() > 0) tables.aggregate({ maxEvents: 300, maxMs: Number.POSITIVE_INFINITY });
      expect(storedSummaries(db)).toEqual(expectedSummaries(events));
      expect(db.prepare('SELECT COUNT(*) FROM unit_tracks').pluck().get()).toBe(events.filter((e) => e.type === 'track').length);
      // One number per unit, whichever release met it first.
      expect(db.prepare('SELECT COUNT(*) FROM units').pluck().get()).toBe(new Set(events.map((e) => `${e.environment}:${e.unitId}`)).size);
    } finally {
      db.close();
    }
  });

  it('retention drops the numbers of units no summary names any more; units met again count once', async () => {
    const created = openSqliteStore(path);
    await created.close();
    const db = openConnection(path, { autocheckpointPages: 1000 });
    try {
      const tables = eventTables(db);
      const drain = () => {
        while (tables.backlog() > 0) tables.aggregate({ maxEvents: 500, maxMs: Number.POSITIVE_INFINITY });
      };
      // Exposed units and their tracks at 0-999, then visitors that only send tracks (at 100):
      // numbered last, so the highest numbers go and are handed out again below.
      const first = randomEvents(2000, 5);
      const visitors = Array.from({ length: 300 }, (_, n): StoredEvent => ({
        ...first[0]!,
        id: `v${n}`,
        type: 'track',
        key: 'view',
        unitId: `visitor-${n % 100}`,
        experiment: null,
        variant: null,
        value: null,
        timestamp: 100,
      }));
      tables.insert([packBatches([first])]);
      drain();
      tables.insert([packBatches([visitors])]);
      drain();
      const numbered = (like: string) => db.prepare('SELECT COUNT(*) FROM units WHERE unit_id LIKE ?').pluck().get(like) as number;
      expect(numbered('%:visitor-%')).toBe(100);
      const exposedUnits = numbered('%:u%');
      while (!tables.deleteBefore(500, 700).done);
      // The visitors' numbers went with their tracks; every exposed unit keeps its number.
      expect(numbered('%:visitor-%')).toBe(0);
      expect(numbered('%:u%')).toBe(exposedUnits);
      // Later: the visitors exposed after their deleted tracks, new units, more of the old ones.
      const later = randomEvents(1000, 6).map((e, n) => ({ ...e, id: `l${n}`, timestamp: 1000 + e.timestamp }));
      const returning = Array.from({ length: 100 }, (_, n): StoredEvent[] => [
        {
          ...later[0]!,
          id: `rx${n}`,
          type: 'exposure',
          key: 'k',
          unitId: `visitor-${n}`,
          experiment: 'exp-a',
          variant: n % 2 === 0 ? 'A' : 'B',
          value: null,
          timestamp: 1500,
        },
        {
          ...later[0]!,
          id: `rt${n}`,
          type: 'track',
          key: 'buy',
          unitId: `visitor-${n}`,
          experiment: null,
          variant: null,
          value: n,
          timestamp: 1600,
        },
      ]).flat();
      const fresh = later.map((e, n) => (n % 3 === 0 ? { ...e, id: `f${n}`, unitId: `new-${e.unitId}` } : e));
      tables.insert([packBatches([returning, fresh])]);
      drain();
      // Deleted tracks were all before the later first exposures, so the definition holds over every event.
      expect(storedSummaries(db)).toEqual(expectedSummaries([...first, ...visitors, ...returning, ...fresh]));
      expect(numbered('%:visitor-%')).toBe(100);
    } finally {
      db.close();
    }
  });

  it('counts every event exactly once after the process is killed while the aggregator works through a backlog', async () => {
    const UNITS = 100_000;
    const child = spawn(process.execPath, [join(__dirname, 'fixtures/child-aggregator.mjs'), path, String(UNITS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('stored')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });
      // Killed once some slices have committed and some are left: the cursor stands mid-backlog.
      const progress = () => {
        const db = new Database(path, { readonly: true });
        try {
          return db.prepare('SELECT (SELECT seq FROM event_aggregation) AS cursor, (SELECT MAX(seq) FROM events) AS max').get() as {
            cursor: number;
            max: number;
          };
        } finally {
          db.close();
        }
      };
      await vi.waitFor(() => expect(progress().cursor).toBeGreaterThan(0), { timeout: 120_000, interval: 5 });
      child.kill('SIGKILL');
      await exited;
      const left = progress();
      expect(left.max).toBe(2 * UNITS);
      expect(left.cursor).toBeLessThan(left.max);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const store = openSqliteStore(path);
    try {
      const agg = await store.experimentAggregates('production', 'exp', [{ key: 'buy', type: 'mean' }]);
      expect(agg.units).toEqual({ A: UNITS / 2, B: UNITS / 2 });
      // Values (n % 7) + 1 per unit n, summed per variant: each counted once.
      const sums = { A: 0, B: 0 };
      const squares = { A: 0, B: 0 };
      for (let n = 0; n < UNITS; n++) {
        const v = n % 2 === 0 ? 'A' : 'B';
        sums[v] += (n % 7) + 1;
        squares[v] += ((n % 7) + 1) ** 2;
      }
      expect(agg.metrics.buy).toEqual({
        A: { sum: sums.A, sumSquares: squares.A, unitsWithEvents: UNITS / 2 },
        B: { sum: sums.B, sumSquares: squares.B, unitsWithEvents: UNITS / 2 },
      });
    } finally {
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) FROM unit_tracks').pluck().get()).toBe(UNITS);
    } finally {
      db.close();
    }
  }, 180_000);
});
