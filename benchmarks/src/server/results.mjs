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
 *
 * `BENCH_BASELINE_ROOT=<built checkout>`: the same data is also written through the baseline
 * build's own store into a second file, and its server is timed in the same rounds, the two builds
 * alternating which goes first; the section then compares them (ratios, same run).
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { baselineBuild } from './baseline.mjs';
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
import { CHUNK_UNITS, EXPERIMENT, build, buildBase, timeQueries } from './results-data.mjs';
import { machine, machineLine } from '../lib/machine.mjs';

export const NAME = 'results';
/** Issue target: results of 1M units / 2M metric events in under this many ms. */
export const TARGET_MS = 2000;

const ADMIN_PASSWORD = 'bench-admin-password-1';

/**
 * Creates and starts the experiment through the API of a first server process (which also
 * creates the admin and keys, saved to `keysFile`), then backdates its `started_at` in the file to
 * `base`, when the simulated traffic begins: the API stamps the real time. Returns the
 * experiment's id.
 * @param {string} dbPath
 * @param {string} keysFile
 * @param {number} base
 * @param {http.Agent} agent
 * @param {Record<string, string>} env the child's environment (`BENCH_SERVER_DIST` for a baseline)
 */
async function setUpExperiment(dbPath, keysFile, base, agent, env) {
  const server = startChild(path.join(here, 'child-switchyard.mjs'), {
    args: [JSON.stringify({ dbPath, adminPassword: ADMIN_PASSWORD, apiRateBurst: 1e9, apiRatePerSecond: 1e9 })],
    env,
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
 * One build's measurements: its own file (written through its own store) and server processes.
 * @typedef {{
 *   name: string, dist: string, env: Record<string, string>, dbPath: string, keysFile: string, id?: string,
 *   built?: any, dbBytes: number, sample: any, queries: { name: string, ms: number[], plan: string }[],
 *   t: Record<'cold' | 'coldSql' | 'coldCpu' | 'recompute' | 'recomputeSql' | 'recomputeCpu' | 'cached' | 'stall', number[]>,
 * }} Build
 */

/**
 * @param {string} name @param {string} dist @param {Record<string, string>} env @param {string} dir
 * @returns {Build}
 */
const newBuild = (name, dist, env, dir) => ({
  name,
  dist,
  env,
  dbPath: path.join(dir, 'results.db'),
  keysFile: path.join(dir, 'keys.json'),
  dbBytes: 0,
  sample: null,
  queries: [],
  t: { cold: [], coldSql: [], coldCpu: [], recompute: [], recomputeSql: [], recomputeCpu: [], cached: [], stall: [] },
});

/**
 * Creates the experiment and writes the data through the build's own store.
 * @param {Build} b @param {number} units @param {http.Agent} agent @param {(s: string) => void} log
 */
async function prepare(b, units, agent, log) {
  fs.mkdirSync(path.dirname(b.dbPath), { recursive: true });
  const trafficBase = buildBase();
  b.id = await setUpExperiment(b.dbPath, b.keysFile, trafficBase, agent, b.env);
  const { openSqliteStore } = await import(pathToFileURL(b.dist).href);
  const store = openSqliteStore(b.dbPath);
  try {
    b.built = await build(store, units, log, trafficBase);
  } finally {
    await store.close();
  }
  b.dbBytes = ['', '-wal'].reduce((a, s) => a + (fs.existsSync(b.dbPath + s) ? fs.statSync(b.dbPath + s).size : 0), 0);
  log(
    `[results] ${b.name}: built ${b.built.exposures.toLocaleString('en-US')} exposures + ${(b.built.purchase + b.built.revenue).toLocaleString('en-US')} metric events in ${fmt(b.built.ms / 1000, 1)} s, of which ${fmt(b.built.summarizeMs / 1000, 1)} s waiting for the aggregator after the last batch (${fmt(b.dbBytes / 2 ** 20, 0)} MiB)`,
  );
}

/**
 * One round on a fresh server process of the build: cold GET, `invalidations` x (new event, GET),
 * one cached GET.
 * @param {Build} b @param {number} r @param {number} invalidations
 * @param {{ agent: http.Agent, probeAgent: http.Agent, log: (s: string) => void }} o
 */
async function round(b, r, invalidations, { agent, probeAgent, log }) {
  const { t } = b;
  const server = startChild(path.join(here, 'child-switchyard.mjs'), {
    args: [
      JSON.stringify({
        dbPath: b.dbPath,
        adminPassword: ADMIN_PASSWORD,
        apiRateBurst: 1e9,
        apiRatePerSecond: 1e9,
        instrumentAggregates: true,
      }),
    ],
    env: b.env,
  });
  try {
    const ready = await server.next('ready', 120_000);
    const base = ready.url;
    // The set-up created the admin and keys, and the experiment.
    const creds = JSON.parse(fs.readFileSync(b.keysFile, 'utf8'));
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
    b.sample ??= cold.body;
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
    if ((await sqlTimes()).length > 0) throw new Error(`${b.name}: a GET without new events recomputed the results`);
    log(
      `[results] ${b.name} round ${r + 1}: cold ${fmt(cold.ms, 0)} ms, recomputed ${t.recompute
        .slice(-invalidations)
        .map((x) => fmt(x, 0))
        .join(' / ')} ms, cached ${fmt(c.ms, 1)} ms`,
    );
  } finally {
    await server.stop(60_000);
  }
}

/**
 * Whether the build's answer agrees with the tallies made while generating the data: converters
 * and revenue per unit of each variant.
 * @param {Build} b
 */
function answerIsCorrect(b) {
  const v = b.sample?.variants ?? [];
  const pm = b.sample?.metrics?.purchase;
  const rm = b.sample?.metrics?.revenue;
  return ['control', 'treatment'].every((k) => {
    const pv = (pm?.variants ?? []).find((/** @type {any} */ x) => x.key === k);
    const units = v.find((/** @type {any} */ x) => x.key === k)?.units;
    const rv = (rm?.variants ?? []).find((/** @type {any} */ x) => x.key === k);
    const revenueMean = units > 0 ? b.built.expected.revenueSum[k] / units : NaN;
    return (
      pv?.count === b.built.expected.converters[k] && rv !== undefined && Math.abs(rv.mean - revenueMean) < 1e-6 * Math.max(1, revenueMean)
    );
  });
}

/**
 * The same-run comparison with the baseline build.
 * @param {string} label @param {Build} base @param {Build} current
 */
function baselineLines(label, base, current) {
  const row = (/** @type {Build} */ b) =>
    `| ${b.name} | ${fmt(median(b.t.cold), 0)} | ${fmt(median(b.t.recompute), 0)} | ${fmt(median(b.t.cached), 1)} | ${fmt(median([...b.t.coldSql, ...b.t.recomputeSql]), 0)} | ${fmt(median([...b.t.coldCpu, ...b.t.recomputeCpu]), 0)} | ${fmt(median(b.t.stall), 0)} | ${fmt(b.built.ms / 1000, 1)} s, ${fmt(b.dbBytes / 2 ** 20, 0)} MiB | ${answerIsCorrect(b) ? '✅' : '❌'} |`;
  const ratio = (/** @type {'cold' | 'recompute'} */ k) => median(base.t[k]) / median(current.t[k]);
  const cpu = (/** @type {Build} */ b) => median([...b.t.coldCpu, ...b.t.recomputeCpu]);
  return [
    `### Same run: this build against the baseline (${label})`,
    '',
    `\`BENCH_BASELINE_ROOT=<built checkout of ${label}> node --expose-gc src/run-all.mjs results\`: the same data written through the baseline's own store into its own file, and its server timed in the same rounds, the two builds alternating which goes first. Medians over rounds.`,
    '',
    '| build | cold ms | recomputed ms | cached ms | SQL ms (cold and recomputed) | server CPU ms (cold and recomputed) | event-loop stall ms | build the data | answer = tallies |',
    '|---|--:|--:|--:|--:|--:|--:|--:|---|',
    row(base),
    row(current),
    '',
    `Baseline / this build: cold **${fmt(ratio('cold'), 2)}×**, recomputed **${fmt(ratio('recompute'), 2)}×**, server CPU per request ${fmt(cpu(base) / cpu(current), 2)}× (above 1: this build is faster).`,
  ];
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
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const baseline = baselineBuild();
  const current = newBuild('this build', SERVER_DIST, {}, path.join(tmp.dir, 'current'));
  const base =
    baseline === null
      ? null
      : newBuild(`baseline (${baseline.label})`, baseline.dist, { BENCH_SERVER_DIST: baseline.dist }, path.join(tmp.dir, 'baseline'));
  try {
    await prepare(current, units, agent, log);
    if (base !== null) await prepare(base, units, agent, log);
    for (let r = 0; r < rounds; r++) {
      // With a baseline the two builds alternate which goes first.
      const order = base === null ? [current] : r % 2 === 0 ? [base, current] : [current, base];
      for (const b of order) await round(b, r, invalidations, { agent, probeAgent, log });
    }
    for (const b of base === null ? [current] : [current, base]) {
      if (b.id === undefined) continue;
      b.queries = timeQueries(b.dbPath, b.id);
      for (const q of b.queries) log(`[results] ${b.name}: ${q.name}: ${q.ms.map((x) => fmt(x, 0)).join(' / ')} ms; plan: ${q.plan}`);
    }
  } finally {
    agent.destroy();
    probeAgent.destroy();
    if (process.env.BENCH_KEEP_DB === '1') log(`[results] kept ${tmp.dir} (BENCH_KEEP_DB=1)`);
    else tmp.remove();
  }
  const loadAfter = load1();
  const wallS = (Date.now() - started) / 1000;

  const { t, built, dbBytes, sample, queries } = current;
  const cold = median(t.cold);
  const recompute = median(t.recompute);
  const ok = cold < TARGET_MS && recompute < TARGET_MS;
  const v = sample?.variants ?? [];
  const pm = sample?.metrics?.purchase;
  const rm = sample?.metrics?.revenue;
  const correct = answerIsCorrect(current);
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
  if (base !== null && baseline !== null) lines.push('', ...baselineLines(baseline.label, base, current));
  const file = writeSection(resultsDir, NAME, lines.join('\n'));
  log(`[results] wrote ${file}`);
  return { t, built, queries };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ resultsDir: path.resolve(here, '../../results'), quick: process.env.BENCH_QUICK === '1' });
  process.exit(0);
}
