/**
 * Results at scale: `GET /api/v1/experiments/<key>/results` over 1,000,000 exposed units and
 * 2,000,000 metric events in SQLite.
 *
 * 1. Set-up: a Switchyard child creates the file; the experiment (control/treatment 50/50,
 *    `purchase` conversion = primary, `revenue` mean) is created and started through the API,
 *    and its `started_at` backdated to the start of the simulated traffic.
 * 2. Build: the file is filled through the store (`openSqliteStore(path)` +
 *    `store.insertEventBatches`, whose aggregator maintains `experiment_units`, its counts and `unit_metrics`), in chunks of 20,000
 *    units with their events, from a seeded PRNG (the same data every run). Ids are zero-padded
 *    counters, so inserts append to the B-trees (fast to build; the trees end up denser than ones
 *    grown from random ids, which makes scans slightly cheaper than in production).
 * 3. Timing, ROUNDS times, each with a fresh server process: the first GET (cold: new SQLite
 *    connection and empty page cache; the OS file cache is warm, the file was just written),
 *    then INVALIDATE x (POST one new event -> GET: recomputed), then one GET without new events
 *    (served from the results cache). The server child wraps `store.experimentAggregates` to time
 *    the SQL part (harness-side wrapper; no server source changed).
 * 4. Each of the store's result queries is also timed on its own, on a read-only connection.
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  SERVER_DIST,
  assertBuilt,
  expectStatus,
  fmt,
  here,
  load1,
  loadNote,
  login,
  median,
  nowNs,
  otherBusyProcesses,
  repoRoot,
  request,
  sleep,
  startChild,
  tempDir,
  writeSection,
} from './lib.mjs';
import { machine, machineLine } from '../lib/machine.mjs';

export const NAME = 'results';
/** Issue target: results of 1M units / 2M metric events in under this many ms. */
export const TARGET_MS = 2000;

const EXPERIMENT = 'results-bench';
const ADMIN_PASSWORD = 'bench-admin-password-1';
const CHUNK_UNITS = 20_000;

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
  await store.experimentAggregates('production', EXPERIMENT, []);
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
 * Creates and starts the experiment through the API of a first server process (which also
 * creates the admin and keys, saved to `keysFile`), then backdates its `started_at` in the file to
 * `base`, when the simulated traffic begins: the API stamps the real time. Returns the run's id.
 * @param {string} dbPath
 * @param {string} keysFile
 * @param {number} base
 * @param {http.Agent} agent
 */
async function setUpExperiment(dbPath, keysFile, base, agent) {
  const server = startChild(path.join(here, 'child-switchyard.mjs'), {
    args: [JSON.stringify({ dbPath, adminPassword: ADMIN_PASSWORD, apiRateBurst: 1e9, apiRatePerSecond: 1e9 })],
  });
  try {
    const ready = await server.next('ready', 120_000);
    fs.writeFileSync(keysFile, JSON.stringify(ready.credentials));
    const auth = await login(agent, ready.url, ready.credentials.adminEmail, ADMIN_PASSWORD);
    expectStatus(
      await request(agent, ready.url, 'POST', '/api/v1/experiments', {
        headers: { authorization: auth },
        body: {
          key: EXPERIMENT,
          name: 'Results at scale',
          hypothesis: 'treatment converts better',
          variants: [
            { key: 'control', weight: 50 },
            { key: 'treatment', weight: 50 },
          ],
          metrics: [
            { key: 'purchase', type: 'conversion' },
            { key: 'revenue', type: 'mean' },
          ],
          primary_metric: 'purchase',
        },
      }),
      201,
    );
    expectStatus(
      await request(agent, ready.url, 'POST', `/api/v1/experiments/${EXPERIMENT}/start`, { headers: { authorization: auth } }),
      200,
    );
  } finally {
    await server.stop(60_000);
  }
  const Database = createRequire(path.join(repoRoot, 'packages/server/package.json'))('better-sqlite3');
  const db = new Database(dbPath);
  try {
    const startedAt = new Date(base - 60_000).toISOString();
    db.prepare("UPDATE resources SET data = json_set(data, '$.started_at', ?) WHERE kind = 'experiment' AND key = ?").run(
      startedAt,
      EXPERIMENT,
    );
    return db.prepare("SELECT id FROM resources WHERE kind = 'experiment' AND key = ?").pluck().get(EXPERIMENT);
  } finally {
    db.close();
  }
}

/**
 * @param {string} dbPath
 * @param {string} run
 */
function timeQueries(dbPath, run) {
  const Database = createRequire(path.join(repoRoot, 'packages/server/package.json'))('better-sqlite3');
  const db = new Database(dbPath, { readonly: true });
  try {
    /** @type {{ name: string, ms: number[], plan: string }[]} */
    const out = [];
    for (const [name, [sql, args]] of Object.entries(queriesOf(run))) {
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

/** @param {{ resultsDir: string, quick?: boolean, log?: (s: string) => void }} opts */
export async function run({ resultsDir, quick = false, log = (s) => console.log(s) }) {
  assertBuilt();
  const units = Number(process.env.BENCH_RESULTS_UNITS ?? '') || (quick ? 100_000 : 1_000_000);
  const rounds = quick ? 2 : 3;
  const invalidations = 2;
  const m = machine();
  const loadBefore = load1();
  const busy = otherBusyProcesses();
  const started = Date.now();
  const tmp = tempDir('results');
  const dbPath = path.join(tmp.dir, 'results.db');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  /** Wall ms of each GET, ms inside `experimentAggregates`, and the server process's CPU ms during the GET. */
  const t = { cold: [], coldSql: [], coldCpu: [], recompute: [], recomputeSql: [], recomputeCpu: [], cached: [], stall: [] };
  let built;
  let dbBytes = 0;
  let sample = null;
  let queries = [];
  try {
    const trafficBase = buildBase();
    const run = await setUpExperiment(dbPath, path.join(tmp.dir, 'keys.json'), trafficBase, agent);
    const { openSqliteStore } = await import(SERVER_DIST);
    const store = openSqliteStore(dbPath);
    try {
      built = await build(store, units, log, trafficBase);
    } finally {
      await store.close();
    }
    dbBytes = ['', '-wal'].reduce((a, s) => a + (fs.existsSync(dbPath + s) ? fs.statSync(dbPath + s).size : 0), 0);
    log(
      `[results] built ${built.exposures.toLocaleString('en-US')} exposures + ${(built.purchase + built.revenue).toLocaleString('en-US')} metric events in ${fmt(built.ms / 1000, 1)} s, of which ${fmt(built.summarizeMs / 1000, 1)} s waiting for the aggregator after the last batch (${fmt(dbBytes / 2 ** 20, 0)} MiB)`,
    );

    for (let r = 0; r < rounds; r++) {
      const server = startChild(path.join(here, 'child-switchyard.mjs'), {
        args: [
          JSON.stringify({ dbPath, adminPassword: ADMIN_PASSWORD, apiRateBurst: 1e9, apiRatePerSecond: 1e9, instrumentAggregates: true }),
        ],
      });
      try {
        const ready = await server.next('ready', 120_000);
        const base = ready.url;
        // The set-up created the admin and keys, and the experiment.
        const creds = JSON.parse(fs.readFileSync(path.join(tmp.dir, 'keys.json'), 'utf8'));
        const auth = await login(agent, base, creds.adminEmail, ADMIN_PASSWORD);
        const cpu = async () => {
          server.send({ type: 'cpu' });
          const c = await server.next('cpu');
          return (c.user + c.system) / 1000;
        };
        // While a results request runs, `GET /health` is polled every 20 ms on another connection:
        // its slowest answer shows how long the server's event loop was blocked for everyone else.
        const get = async (probe = false) => {
          const c0 = await cpu();
          let polling = probe;
          let worst = 0;
          const poller = (async () => {
            while (polling) {
              const p0 = nowNs();
              expectStatus(await request(probeAgent, base, 'GET', '/health'), 200);
              worst = Math.max(worst, (nowNs() - p0) / 1e6);
              await sleep(20);
            }
          })();
          const t0 = nowNs();
          const res = expectStatus(
            await request(agent, base, 'GET', `/api/v1/experiments/${EXPERIMENT}/results`, { headers: { authorization: auth } }),
            200,
          );
          const ms = (nowNs() - t0) / 1e6;
          polling = false;
          await poller;
          return { ms, cpuMs: (await cpu()) - c0, body: res.json.data, stallMs: worst };
        };
        const sqlTimes = async () => {
          server.send({ type: 'timings' });
          return (await server.next('timings')).aggregatesMs;
        };
        await sqlTimes();
        const cold = await get(true);
        t.stall.push(cold.stallMs);
        t.cold.push(cold.ms);
        t.coldCpu.push(cold.cpuMs);
        t.coldSql.push(...(await sqlTimes()));
        sample ??= cold.body;
        for (let i = 0; i < invalidations; i++) {
          const ts = Date.now();
          expectStatus(
            await request(agent, base, 'POST', '/sdk/v1/events', {
              headers: { 'x-api-key': creds.serverKey },
              body: { events: [{ id: `inv-${r}-${i}-${ts}`, type: 'track', key: 'page_view', unit_id: 'nobody', timestamp: ts }] },
            }),
            202,
          );
          const x = await get(true);
          t.stall.push(x.stallMs);
          t.recompute.push(x.ms);
          t.recomputeCpu.push(x.cpuMs);
          t.recomputeSql.push(...(await sqlTimes()));
        }
        const c = await get();
        t.cached.push(c.ms);
        if ((await sqlTimes()).length > 0) throw new Error('a GET without new events recomputed the results');
        log(
          `[results] round ${r + 1}: cold ${fmt(cold.ms, 0)} ms, recomputed ${t.recompute
            .slice(-invalidations)
            .map((x) => fmt(x, 0))
            .join(' / ')} ms, cached ${fmt(c.ms, 1)} ms`,
        );
      } finally {
        await server.stop(60_000);
      }
    }
    queries = timeQueries(dbPath, run);
    for (const q of queries) log(`[results] ${q.name}: ${q.ms.map((x) => fmt(x, 0)).join(' / ')} ms; plan: ${q.plan}`);
  } finally {
    agent.destroy();
    probeAgent.destroy();
    if (process.env.BENCH_KEEP_DB === '1') log(`[results] kept ${dbPath} (BENCH_KEEP_DB=1)`);
    else tmp.remove();
  }
  const loadAfter = load1();
  const wallS = (Date.now() - started) / 1000;

  const cold = median(t.cold);
  const recompute = median(t.recompute);
  const ok = cold < TARGET_MS && recompute < TARGET_MS;
  const v = sample?.variants ?? [];
  const pm = sample?.metrics?.purchase;
  const rm = sample?.metrics?.revenue;
  // The server's counts against the tallies made while generating the data.
  const checks = ['control', 'treatment'].map((k) => {
    const pv = (pm?.variants ?? []).find((x) => x.key === k);
    const units = v.find((x) => x.key === k)?.units;
    const rv = (rm?.variants ?? []).find((x) => x.key === k);
    const revenueMean = units > 0 ? built.expected.revenueSum[k] / units : NaN;
    return (
      pv?.count === built.expected.converters[k] && rv !== undefined && Math.abs(rv.mean - revenueMean) < 1e-6 * Math.max(1, revenueMean)
    );
  });
  const correct = checks.every(Boolean);
  const lines = [
    '## Results at scale: 1M exposed units, 2M metric events',
    '',
    `Measured ${m.date.slice(0, 10)} on ${machineLine(m)}. ${loadNote(loadBefore, loadAfter)}.${busy.length > 0 ? ` Busy processes at the start: ${busy.slice(0, 6).join(', ')}.` : ''} Wall time ${fmt(wallS, 0)} s.${quick ? ` **Quick mode** (${units.toLocaleString('en-US')} units only; not for publishing).` : ''}`,
    '',
    `Command: \`cd benchmarks && node --expose-gc src/run-all.mjs results\`. The data is written through the store (\`openSqliteStore\` + \`insertEventBatches\`, batches of 500, ${CHUNK_UNITS.toLocaleString('en-US')} units with their events per call) into a temp SQLite file, from a seeded PRNG: ${built.exposures.toLocaleString('en-US')} exposures (one per unit, in the variant core assigns it: 50/50), ${built.purchase.toLocaleString('en-US')} \`purchase\` + ${built.revenue.toLocaleString('en-US')} \`revenue\` events = ${(built.purchase + built.revenue).toLocaleString('en-US')} metric events (${built.before.toLocaleString('en-US')} of them before the unit's exposure, which must not count). Zero-padded sequential ids make the build append-only; the resulting B-trees are denser than ones grown from random ids. The experiment (\`purchase\` conversion, primary; \`revenue\` mean) is created and started through the API before the data is written (its \`started_at\` then backdated in the file to the start of the simulated week: results count exposures from the start on, and the aggregator attributes each exposure to the experiment's run). Each of ${rounds} rounds starts a fresh server process on the file: **cold** = its first \`GET /api/v1/experiments/${EXPERIMENT}/results\` (new SQLite connection, empty page cache; the OS file cache is warm since the file was just written), **recomputed** = ${invalidations}x per round (POST one new event, which invalidates the results cache, then GET), **cached** = one more GET without new events. "SQL" is the time inside \`store.experimentAggregates\`, measured by a wrapper the benchmark installs in the server process; the rest is the statistics, JSON and HTTP.`,
    '',
    '| | median ms | all (ms) | of which SQL (median ms) | server CPU ms (median) |',
    '|---|--:|---|--:|--:|',
    `| build the data (${(built.exposures + built.purchase + built.revenue).toLocaleString('en-US')} events, ${fmt(dbBytes / 2 ** 20, 0)} MiB file; ${fmt(built.summarizeMs, 0)} ms of it waiting for the aggregator after the last batch) | ${fmt(built.ms, 0)} | | | |`,
    `| **cold** first request | **${fmt(cold, 0)}** | ${t.cold.map((x) => fmt(x, 0)).join(', ')} | ${fmt(median(t.coldSql), 0)} | ${fmt(median(t.coldCpu), 0)} |`,
    `| **recomputed** after one new event | **${fmt(recompute, 0)}** | ${t.recompute.map((x) => fmt(x, 0)).join(', ')} | ${fmt(median(t.recomputeSql), 0)} | ${fmt(median(t.recomputeCpu), 0)} |`,
    `| cached (no new events) | ${fmt(median(t.cached), 1)} | ${t.cached.map((x) => fmt(x, 1)).join(', ')} | - | - |`,
    '',
    "Server CPU ms is the server process's user + system CPU time over the request; when it is well below the wall time, the process was waiting for the CPU (other load) or for I/O.",
    '',
    `Event-loop stall: while each cold and recomputed request ran, \`GET /health\` was polled every 20 ms on another connection; its slowest answer was ${fmt(median(t.stall), 0)} ms (median over requests; max ${fmt(Math.max(...t.stall), 0)} ms). better-sqlite3 is synchronous, so for that long the server answers nothing else: no SSE writes, no event acknowledgements, no evaluations.`,
    '',
    `The answer: ${v.map((x) => `${x.key} ${Number(x.units).toLocaleString('en-US')} units`).join(', ')}; excluded ${sample?.excluded_units ?? '-'}; purchase conversion ${(pm?.variants ?? []).map((x) => `${x.key} ${fmt(100 * x.mean, 2)} %`).join(' vs ')}; revenue per unit ${(rm?.variants ?? []).map((x) => `${x.key} ${fmt(x.mean, 3)}`).join(' vs ')}. Converters and revenue per unit agree with tallies made while generating the data: ${correct ? 'yes ✅' : 'NO ❌'}.`,
    '',
    `Target: results for 1M units / 2M metric events in under ${fmt(TARGET_MS / 1000, 0)} s — **${quick ? 'not judged (quick mode)' : ok ? 'met' : 'not met'}** (cold ${fmt(cold, 0)} ms ${cold < TARGET_MS ? '✅' : '❌'}, recomputed ${fmt(recompute, 0)} ms ${recompute < TARGET_MS ? '✅' : '❌'}).`,
    '',
    "The store's queries timed one by one on a read-only connection (3 runs each, after the rounds above):",
    '',
    '| query | ms (3 runs) | SQLite plan |',
    '|---|---|---|',
    ...queries.map((q) => `| ${q.name} | ${q.ms.map((x) => fmt(x, 0)).join(', ')} | ${q.plan.replace(/\|/g, '\\|')} |`),
  ];
  const file = writeSection(resultsDir, NAME, lines.join('\n'));
  log(`[results] wrote ${file}`);
  return { t, built, queries };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ resultsDir: path.resolve(here, '../../results'), quick: process.env.BENCH_QUICK === '1' });
  process.exit(0);
}
