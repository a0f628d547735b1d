/**
 * SSE propagation with environments: how long a flag change in `production` takes to reach N
 * SSE clients of production while five other environments change the same flag at the same
 * time, against the same change with the other environments quiet, in the same run and the
 * same processes.
 *
 * Processes: Switchyard (built dist, SQLite temp file) in a child, WORKERS client children
 * (`child-sse-clients.mjs`) holding N production streams (the first start's server key), and this
 * coordinator. Measured changes alternate between the two modes: **quiet** (only the production
 * `PATCH /api/v1/feature-flags/<key>`) and **busy** (the same, sent right after five
 * `PATCH /api/v1/feature-flags/<key>/environments/env-<k>` that are not awaited first, so the
 * server works on all six at once). Latency = a client's arrival of the production `patch` frame
 * minus the coordinator's timestamp just before it sends the production change. After the run the
 * production config version must have moved by exactly one per production change: the other
 * environments' changes made no production version (no patch, no wake-up for its streams).
 */
import http from 'node:http';
import path from 'node:path';
import {
  assertBuilt,
  expectStatus,
  fdLimit,
  fmt,
  here,
  load1,
  loadNote,
  login,
  median,
  request,
  sleep,
  startChild,
  summarize,
  tempDir,
  writeSection,
} from './lib.mjs';
import { machine, machineLine } from '../lib/machine.mjs';

export const NAME = 'sse-environments';
/** Issue target: p99 at 500 clients of one environment while 5 others change, under 100 ms. */
export const TARGET_P99_MS = 100;

const ADMIN_PASSWORD = 'bench-admin-password-1';
const FLAG = 'bench-env-flag';
const OTHERS = ['env-1', 'env-2', 'env-3', 'env-4', 'env-5'];
const WORKERS = 2;
const MODES = /** @type {const} */ (['quiet', 'busy']);

/**
 * One round: fresh processes, N production streams, `changes` measured changes per mode.
 * @param {number} clients
 * @param {{ warmup: number, changes: number, dbDir: string }} o
 */
async function round(clients, o) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const server = startChild(path.join(here, 'child-switchyard.mjs'), {
    args: [
      JSON.stringify({
        dbPath: path.join(o.dbDir, `env-${clients}-${Date.now()}.db`),
        adminPassword: ADMIN_PASSWORD,
        apiRateBurst: 1e9,
        apiRatePerSecond: 1e9,
        heartbeatMs: 600_000,
      }),
    ],
    fds: Math.max(8192, clients + 512),
  });
  /** @type {ReturnType<typeof startChild>[]} */
  const workers = [];
  try {
    const sw = await server.next('ready', 60_000);
    const auth = await login(agent, sw.url, sw.credentials.adminEmail, ADMIN_PASSWORD);
    const api = (method, p, body) => request(agent, sw.url, method, p, { headers: { authorization: auth }, ...(body ? { body } : {}) });
    for (const key of OTHERS) expectStatus(await api('POST', '/api/v1/environments', { key }), 201);
    expectStatus(await api('POST', '/api/v1/feature-flags', { key: FLAG, type: 'boolean', enabled: false }), 201);
    let version = expectStatus(await request(agent, sw.url, 'GET', '/ready'), 200).json.data.config_version;
    const startVersion = version;

    for (let w = 0; w < WORKERS; w++)
      workers.push(startChild(path.join(here, 'child-sse-clients.mjs'), { fds: Math.max(8192, clients + 512) }));
    await Promise.all(workers.map((w) => w.next('ready')));
    const per = workers.map((_, w) => Math.floor(clients / WORKERS) + (w < clients % WORKERS ? 1 : 0));
    workers.forEach((w, i) =>
      w.send({
        type: 'connect',
        set: 'production',
        url: sw.url,
        path: '/sdk/v1/stream',
        headers: { 'x-api-key': sw.credentials.serverKey },
        count: per[i],
        concurrency: 25,
      }),
    );
    await Promise.all(workers.map((w) => w.next((m) => m?.type === 'error' || m?.type === 'connected', 180_000)));
    await sleep(500);

    const acc = Object.fromEntries(MODES.map((m) => [m, { latencies: /** @type {number[]} */ ([]), missing: 0 }]));
    const total = o.warmup + o.changes;
    let others = 0;
    for (let i = 0; i < total; i++) {
      for (const mode of i % 2 === 0 ? MODES : [...MODES].reverse()) {
        const v = version + 1;
        workers.forEach((w) => w.send({ type: 'expect', set: 'production', version: v, timeoutMs: 10_000 }));
        await Promise.all(workers.map((w) => w.next((m) => m?.type === 'error' || (m?.type === 'armed' && m.version === v))));
        const enabled = v % 2 === 0;
        const t0 = Number(process.hrtime.bigint());
        const side =
          mode === 'busy'
            ? OTHERS.map((env) => api('PATCH', `/api/v1/feature-flags/${FLAG}/environments/${env}`, { enabled: !enabled }))
            : [];
        const main = api('PATCH', `/api/v1/feature-flags/${FLAG}`, { enabled });
        const reports = await Promise.all(
          workers.map((w) => w.next((m) => m?.type === 'error' || (m?.type === 'arrivals' && m.version === v), 20_000)),
        );
        expectStatus(await main, 200);
        for (const r of await Promise.all(side)) expectStatus(r, 200);
        others += side.length;
        version = v;
        if (i >= o.warmup) {
          const a = acc[mode];
          for (const r of reports)
            for (const x of r.arrivals) {
              if (x === null) a.missing++;
              else a.latencies.push((x - t0) / 1e6);
            }
        }
        await sleep(40 + Math.random() * 40);
      }
    }
    const after = expectStatus(await request(agent, sw.url, 'GET', '/ready'), 200).json.data.config_version;
    if (after !== version || after - startVersion !== 2 * total)
      throw new Error(`production is at version ${after}, expected ${version}: another environment's change made a production version`);
    return {
      quiet: { ...summarize(acc.quiet.latencies), missing: acc.quiet.missing },
      busy: { ...summarize(acc.busy.latencies), missing: acc.busy.missing },
      others,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    agent.destroy();
  }
}

/** @param {{ resultsDir: string, quick?: boolean, log?: (s: string) => void }} opts */
export async function run({ resultsDir, quick = false, log = (s) => console.log(s) }) {
  assertBuilt();
  const clients = 500;
  const rounds = quick ? 1 : 3;
  const warmup = 3;
  const changes = quick ? 10 : 30;
  const m = machine();
  const loadBefore = load1();
  const started = Date.now();
  const tmp = tempDir('sse-env');
  /** @type {Awaited<ReturnType<typeof round>>[]} */
  const results = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const x = await round(clients, { warmup, changes, dbDir: tmp.dir });
      results.push(x);
      log(
        `[sse-environments] round ${r + 1}: quiet p50 ${fmt(x.quiet.p50)} p99 ${fmt(x.quiet.p99)} ms; busy p50 ${fmt(x.busy.p50)} p99 ${fmt(x.busy.p99)} ms; other-environment changes ${x.others}; missing ${x.quiet.missing + x.busy.missing}`,
      );
    }
  } finally {
    tmp.remove();
  }
  const wallS = (Date.now() - started) / 1000;
  const agg = (mode, k) => median(results.map((x) => x[mode][k]));
  const busyP99 = agg('busy', 'p99');
  const lines = [
    '## SSE propagation with environments: one environment changes while five others do too',
    '',
    `Measured ${m.date.slice(0, 10)} on ${machineLine(m)}. ${loadNote(loadBefore, load1())}. Wall time ${fmt(wallS, 0)} s.${quick ? ' **Quick mode** (shorter runs, not for publishing).' : ''}`,
    '',
    `Command: \`cd benchmarks && node --expose-gc src/run-all.mjs sse-environments\`. Each round starts fresh processes: Switchyard (from \`packages/server/dist\`, SQLite temp file, rate limits off) with \`production\`, \`development\` and five more environments, ${WORKERS} client processes holding ${clients} production streams (\`GET /sdk/v1/stream\`, the first start's production server key) and this coordinator. Measured changes alternate between **quiet** (\`PATCH /api/v1/feature-flags/${FLAG}\` in production only) and **busy** (the same, sent right behind five \`PATCH .../environments/env-<k>\` of the same flag that are in flight together with it); ${warmup} warm-up and ${changes} measured changes per mode and round. Latency = arrival of the production \`patch\` frame minus the coordinator's timestamp just before it sends the production change. After each round the production config version has moved by exactly one per production change (checked): the other environments' changes made no production version. fd soft limit: ${fdLimit()}.`,
    '',
    `| mode | p50 ms | p95 ms | p99 ms | max ms | p99 per round (ms) | lost |`,
    '|---|--:|--:|--:|--:|---|--:|',
    ...MODES.map(
      (mode) =>
        `| ${mode === 'busy' ? '**busy: 5 other environments change too**' : 'quiet: production only (baseline)'} | ${fmt(agg(mode, 'p50'))} | ${fmt(agg(mode, 'p95'))} | ${fmt(agg(mode, 'p99'))} | ${fmt(agg(mode, 'max'))} | ${results.map((x) => fmt(x[mode].p99)).join(', ')} | ${results.reduce((a, x) => a + x[mode].missing, 0)} |`,
    ),
    '',
    `Busy / quiet: p50 x${fmt(agg('busy', 'p50') / agg('quiet', 'p50'), 2)}, p99 x${fmt(busyP99 / agg('quiet', 'p99'), 2)}. Target: busy p99 under ${TARGET_P99_MS} ms at ${clients} clients: **${busyP99 < TARGET_P99_MS ? 'met' : 'not met'}** (median p99 over rounds ${fmt(busyP99)} ms).`,
    '',
    "Evaluation speed: each environment's config document has the unchanged `schema_version: 1` shape and is compiled by the same core code, so the `evaluation` section applies to every environment as it is.",
  ];
  writeSection(resultsDir, NAME, lines.join('\n'));
  return { busyP99 };
}
