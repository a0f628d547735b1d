/**
 * The results benchmark's data: the same 1,000,000 exposed units and ~2,000,000 metric events every
 * run (seeded PRNG), written through a build's own store, and the store's result queries timed
 * alone. Works with the round-1 store too (no `environment` argument, summaries keyed by the
 * experiment's key), so the same data can be measured on a baseline build in the same run.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { fmt, nowNs, repoRoot } from './lib.mjs';

export const EXPERIMENT = 'results-bench';
export const CHUNK_UNITS = 20_000;

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n) => String(n).padStart(8, '0');

/** The variant the experiment (50/50, salt = its key, all traffic) assigns a unit, by the built core. */
async function assigner() {
  const { compileConfig, evaluate } = await import(path.join(repoRoot, 'packages/core/dist/index.js'));
  const compiled = compileConfig({
    schema_version: 1,
    version: 1,
    flags: {},
    segments: {},
    experiments: {
      [EXPERIMENT]: {
        status: 'RUNNING',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ],
      },
    },
  });
  return (unit) => evaluate(compiled, EXPERIMENT, { key: unit }, null).variant;
}

/**
 * When the simulated traffic begins: a week ago, so that the retention job (90 days by default)
 * deletes nothing when the server starts. The experiment's run is backdated to it (results count
 * exposures from `started_at` on).
 */
export const buildBase = () => Math.floor((Date.now() - 7 * 86_400_000) / 1000) * 1000;

/**
 * Fills the store: `units` exposed units (variant by PRNG, 50/50) and about `2 * units` metric
 * events: `purchase` for ~40 % of control / ~42 % of treatment units (1-4 each, mean 2.5) and
 * `revenue` for ~50 % of units (1-3 each, with a value); 2 % of the metric events are
 * timestamped before the unit's exposure (they must not count).
 * @param {import('../../../packages/server/dist/index.js').Store} store
 * @param {number} units
 * @param {(s: string) => void} log
 */
export async function build(store, units, log, base = buildBase()) {
  const rand = prng(42);
  const assign = await assigner();
  const counts = { exposures: 0, purchase: 0, revenue: 0, before: 0 };
  /** Independent tallies to check the server's answer: converters and revenue units per variant. */
  const expected = {
    converters: { control: 0, treatment: 0 },
    revenueUnits: { control: 0, treatment: 0 },
    revenueSum: { control: 0, treatment: 0 },
  };
  const t0 = nowNs();
  for (let start = 0; start < units; start += CHUNK_UNITS) {
    const exposures = [];
    const purchases = [];
    const revenues = [];
    const end = Math.min(units, start + CHUNK_UNITS);
    for (let i = start; i < end; i++) {
      const unit = `u${pad(i)}`;
      // The variant core assigns the unit (the server leaves out exposures that contradict it);
      // the PRNG draw stays so that the rest of the data is what it always was.
      rand();
      const variant = assign(unit);
      const ts = base + i * 50;
      exposures.push({
        id: `x${pad(i)}`,
        type: 'exposure',
        key: EXPERIMENT,
        unitId: unit,
        experiment: EXPERIMENT,
        variant,
        value: null,
        properties: null,
        timestamp: ts,
        receivedAt: ts,
        environment: 'production',
      });
      let after = false;
      const metricTs = () => {
        if (rand() < 0.02) {
          counts.before++;
          after = false;
          return ts - 1000 - Math.floor(rand() * 60_000);
        }
        after = true;
        return ts + 1000 + Math.floor(rand() * 86_400_000);
      };
      if (rand() < (variant === 'control' ? 0.4 : 0.42)) {
        const k = 1 + Math.floor(rand() * 4);
        let converted = false;
        for (let j = 0; j < k; j++) {
          const t = metricTs();
          converted ||= after;
          purchases.push({
            id: `p${pad(i)}-${j}`,
            type: 'track',
            key: 'purchase',
            unitId: unit,
            experiment: null,
            variant: null,
            value: null,
            properties: null,
            timestamp: t,
            receivedAt: t,
            environment: 'production',
          });
        }
        if (converted) expected.converters[variant]++;
      }
      if (rand() < 0.5) {
        const k = 1 + Math.floor(rand() * 3);
        let sum = 0;
        let any = false;
        for (let j = 0; j < k; j++) {
          const t = metricTs();
          const value = Math.round((5 + rand() * 95 * (variant === 'control' ? 1 : 1.03)) * 100) / 100;
          revenues.push({
            id: `r${pad(i)}-${j}`,
            type: 'track',
            key: 'revenue',
            unitId: unit,
            experiment: null,
            variant: null,
            value,
            properties: null,
            timestamp: t,
            receivedAt: t,
            environment: 'production',
          });
          if (after) {
            sum += value;
            any = true;
          }
        }
        if (any) {
          expected.revenueUnits[variant]++;
          expected.revenueSum[variant] += sum;
        }
      }
    }
    counts.exposures += exposures.length;
    counts.purchase += purchases.length;
    counts.revenue += revenues.length;
    // Batches of 500 as a server would receive them, many per transaction.
    const all = [...exposures, ...purchases, ...revenues];
    const batches = [];
    for (let k = 0; k < all.length; k += 500) batches.push(all.slice(k, k + 500));
    const res = await store.insertEventBatches(batches);
    const accepted = res.reduce((a, r) => a + r.accepted, 0);
    if (accepted !== all.length) throw new Error(`only ${accepted} of ${all.length} events were stored`);
    if ((start / CHUNK_UNITS) % 10 === 9) log(`[results] built ${end.toLocaleString('en-US')} units (${fmt((nowNs() - t0) / 1e9, 0)} s)`);
  }
  const stored = nowNs();
  // SQLite summarizes behind ingestion (the writer thread's aggregator): wait until the summaries
  // count everything, so that the timed requests below measure results, not the catch-up.
  // Before environments (round 1) the call had no environment argument.
  await (store.experimentAggregates.length >= 3
    ? store.experimentAggregates('production', EXPERIMENT, [])
    : store.experimentAggregates(EXPERIMENT, []));
  // Metric events are stamped up to a day after the last exposure: the experiment is still running.
  return { ...counts, expected, ms: (nowNs() - t0) / 1e6, summarizeMs: (nowNs() - stored) / 1e6 };
}

/**
 * The store's result queries (copied from packages/server/src/store/sqlite/sqlite-store.ts), timed
 * alone. The summaries name the experiment's run by its id.
 * @param {string} run
 */
export const queriesOf = (run) => ({
  'units per variant and excluded units': [
    'SELECT conflicted, variant, units FROM experiment_unit_counts WHERE experiment = ? AND units > 0',
    [run],
  ],
  'exclusions by reason and sender': [
    'SELECT reason, sent_by, events FROM experiment_exclusions WHERE experiment = ? AND events > 0',
    [run],
  ],
  'conversion sums (purchase)': [
    `SELECT variant, COUNT(*) AS k, SUM(value) AS sum, SUM(value * value) AS sq FROM unit_metrics
        WHERE experiment = ? AND metric = ? GROUP BY variant`,
    [run, 'purchase'],
  ],
  'mean sums (revenue)': [
    `SELECT variant, COUNT(*) AS k, SUM(value) AS sum, SUM(value * value) AS sq FROM unit_metrics
        WHERE experiment = ? AND metric = ? GROUP BY variant`,
    [run, 'revenue'],
  ],
});

/**
 * Each result query of the store timed alone (3 runs) on a read-only connection, with its plan; a
 * query of a table the build does not have (round 1 kept no exclusions by reason) is left out.
 * @param {string} dbPath
 * @param {string} id the experiment's id
 */
export function timeQueries(dbPath, id) {
  const Database = createRequire(path.join(repoRoot, 'packages/server/package.json'))('better-sqlite3');
  const db = new Database(dbPath, { readonly: true });
  try {
    // The summaries name the experiment's run by its id; round 1's named the experiment by key.
    const byId = db.prepare('SELECT 1 FROM experiment_unit_counts WHERE experiment = ? LIMIT 1').get(id) !== undefined;
    const run = byId ? id : EXPERIMENT;
    /** @type {{ name: string, ms: number[], plan: string }[]} */
    const out = [];
    for (const [name, [sql, args]] of Object.entries(queriesOf(run))) {
      const table = /FROM (\w+)/.exec(sql)?.[1];
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) === undefined) continue;
      const stmt = db.prepare(sql);
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...args)
        .map((r) => r.detail)
        .join('; ');
      const ms = [];
      for (let i = 0; i < 3; i++) {
        const t0 = nowNs();
        stmt.all(...args);
        ms.push((nowNs() - t0) / 1e6);
      }
      out.push({ name, ms, plan });
    }
    return out;
  } finally {
    db.close();
  }
}
