/**
 * SSE fan-out: how long a flag change made through the management API takes to reach N
 * connected SSE clients, against a bare `node:http` SSE broadcaster measured by the same harness
 * in the same run.
 *
 * Processes: Switchyard (built dist) and the floor each in a child, the clients in WORKERS other
 * children (`child-sse-clients.mjs`, light `node:http` streams, N/WORKERS to each server per
 * child), and this coordinator, which only sends the changes and collects timestamps. Changes
 * alternate between the two servers so that both see the same background load. For each change:
 * the workers are told which `id:` to look for, the coordinator takes t0 (monotonic clock, shared
 * by all processes) just before sending `PATCH /api/v1/feature-flags/<key>` (Switchyard: login
 * first, JWT) or `POST /broadcast` (floor, a frame of the same size as Switchyard's patch frame),
 * and each client's latency is its arrival timestamp minus t0. A round = fresh processes, N
 * connected clients per server, WARMUP discarded changes each, CHANGES measured ones each; per round the percentiles
 * are over all N x CHANGES deliveries, and the table shows the median over rounds.
 *
 * On 2 cores the clients' own parsing is part of the floor; that is why the floor exists.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  COMMON_RULES,
  assertBuilt,
  fdLimit,
  fmt,
  frameIs,
  here,
  load1,
  loadNote,
  login,
  median,
  newestProfile,
  nowNs,
  otherBusyProcesses,
  profileTable,
  request,
  expectStatus,
  sleep,
  startChild,
  summarize,
  summarizeProfile,
  tempDir,
  topSelfTable,
  writeSection,
} from './lib.mjs';
import { machine, machineLine } from '../lib/machine.mjs';

export const NAME = 'sse-fanout';
/** Issue target: p99 at 500 clients, and Switchyard / floor at 500 and 2,000 clients. */
export const TARGET_P99_MS = 100;
export const TARGET_RATIO = 1.5;

const ADMIN_PASSWORD = 'bench-admin-password-1';
const FLAG = 'bench-fanout-flag';
const WORKERS = 2;

/**
 * One paired round: both servers run at once, every client process holds N streams to each, and
 * the measured changes alternate between them (who goes first alternates too), so both see the
 * same background load on a shared machine.
 * @param {number} clients
 * @param {{ warmup: number, changes: number, dbDir: string, profileDir?: string, windows?: [number, number][], preWindows?: [number, number][],
 *   whatIf?: Record<string, unknown>, log: (s: string) => void }} o
 *   `windows` / `preWindows` collect Switchyard's [t0, last delivery] / [t0, broadcast start] in µs
 *   (for the profile); `whatIf` passes experiment options to child-switchyard.mjs (not used by `run`).
 */
export async function pairedRound(clients, o) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const dbPath = path.join(o.dbDir, `sse-${clients}-${Date.now()}.db`);
  const servers = {
    switchyard: startChild(path.join(here, 'child-switchyard.mjs'), {
      execArgv: o.profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`, '--cpu-prof-interval=100'] : [],
      args: [
        JSON.stringify({
          dbPath,
          adminPassword: ADMIN_PASSWORD,
          apiRateBurst: 1e9,
          apiRatePerSecond: 1e9,
          heartbeatMs: 600_000,
          traceConfig: true,
          ...(o.whatIf ?? {}),
        }),
      ],
      fds: Math.max(8192, clients + 512),
    }),
    floor: startChild(path.join(here, 'child-floor-sse.mjs'), { fds: Math.max(8192, clients + 512) }),
  };
  /** @type {ReturnType<typeof startChild>[]} */
  const workers = [];
  try {
    const [sw, fl] = await Promise.all([servers.switchyard.next('ready', 60_000), servers.floor.next('ready', 60_000)]);
    const auth = await login(agent, sw.url, sw.credentials.adminEmail, ADMIN_PASSWORD);
    expectStatus(
      await request(agent, sw.url, 'POST', '/api/v1/feature-flags', {
        headers: { authorization: auth },
        body: { key: FLAG, name: 'Fan-out benchmark flag', type: 'boolean', enabled: false, description: 'toggled by the benchmark' },
      }),
      201,
    );
    let frameBytes = 0;
    const targets = {
      switchyard: {
        url: sw.url,
        path: '/sdk/v1/stream',
        headers: { 'x-api-key': sw.credentials.serverKey },
        version: expectStatus(await request(agent, sw.url, 'GET', '/ready'), 200).json.data.config_version,
        /** @param {number} i */
        trigger: async (i) =>
          expectStatus(
            await request(agent, sw.url, 'PATCH', `/api/v1/feature-flags/${FLAG}`, {
              headers: { authorization: auth },
              body: { enabled: i % 2 === 0 },
            }),
            200,
          ),
      },
      floor: {
        url: fl.url,
        path: '/stream',
        headers: {},
        version: 0,
        /** @param {number} _i @param {number} v */
        trigger: async (_i, v) =>
          expectStatus(await request(agent, fl.url, 'POST', '/broadcast', { body: { version: v, bytes: frameBytes } }), 204),
      },
    };
    const IMPLS = /** @type {const} */ (['switchyard', 'floor']);

    for (let w = 0; w < WORKERS; w++)
      workers.push(startChild(path.join(here, 'child-sse-clients.mjs'), { fds: Math.max(8192, 2 * clients + 512) }));
    await Promise.all(workers.map((w) => w.next('ready')));
    const per = workers.map((_, w) => Math.floor(clients / WORKERS) + (w < clients % WORKERS ? 1 : 0));
    /** @type {Record<string, number>} */
    const connectMs = {};
    for (const impl of IMPLS) {
      const t = targets[impl];
      const t0c = nowNs();
      workers.forEach((w, i) =>
        w.send({ type: 'connect', set: impl, url: t.url, path: t.path, headers: t.headers, count: per[i], concurrency: 25 }),
      );
      await Promise.all(workers.map((w) => w.next((m) => m?.type === 'error' || (m?.type === 'connected' && m.set === impl), 180_000)));
      connectMs[impl] = (nowNs() - t0c) / 1e6;
    }
    await sleep(500);

    const acc = Object.fromEntries(
      IMPLS.map((impl) => [
        impl,
        { latencies: /** @type {number[]} */ ([]), triggerMs: /** @type {number[]} */ ([]), missing: 0, measured: new Map() },
      ]),
    );
    const total = o.warmup + o.changes;
    for (let i = 0; i < total; i++) {
      for (const impl of i % 2 === 0 ? IMPLS : [...IMPLS].reverse()) {
        const t = targets[impl];
        const a = acc[impl];
        const v = t.version + 1;
        workers.forEach((w) => w.send({ type: 'expect', set: impl, version: v, timeoutMs: 10_000 }));
        await Promise.all(
          workers.map((w) => w.next((m) => m?.type === 'error' || (m?.type === 'armed' && m.set === impl && m.version === v))),
        );
        const t0 = nowNs();
        let tResp = 0;
        const sent = t.trigger(i, v).then(() => {
          tResp = nowNs();
        });
        const reports = await Promise.all(
          workers.map((w) => w.next((m) => m?.type === 'error' || (m?.type === 'arrivals' && m.set === impl && m.version === v), 20_000)),
        );
        await sent;
        t.version = v;
        if (impl === 'switchyard' && frameBytes === 0) frameBytes = Math.max(...reports.map((r) => r.frameBytes));
        if (i >= o.warmup) {
          a.triggerMs.push((tResp - t0) / 1e6);
          let last = t0;
          for (const r of reports) {
            for (const x of r.arrivals) {
              if (x === null) a.missing++;
              else {
                a.latencies.push((x - t0) / 1e6);
                if (x > last) last = x;
              }
            }
          }
          if (impl === 'switchyard') o.windows?.push([t0 / 1000, last / 1000]);
          a.measured.set(v, { t0, last });
        }
        await sleep(40 + Math.random() * 40);
      }
    }
    const after = expectStatus(await request(agent, sw.url, 'GET', '/ready'), 200).json.data.config_version;
    if (after !== targets.switchyard.version)
      throw new Error(
        `config version ${after} after the run, expected ${targets.switchyard.version}: a PATCH did not make exactly one version`,
      );

    /** @type {Record<string, any>} */
    const out = {};
    for (const impl of IMPLS) {
      const a = acc[impl];
      // Server-side split of each measured change (see the children's `traces`).
      servers[impl].send({ type: 'traces' });
      const { traces } = await servers[impl].next('traces');
      const split = { pre: [], queue: [], flush: [], last: [] };
      const lastPerChange = [...a.measured.values()].map((mm) => (mm.last - mm.t0) / 1e6).sort((x, y) => x - y);
      for (const t of traces) {
        const mm = a.measured.get(t.version);
        if (mm === undefined) continue;
        split.pre.push((t.start - mm.t0) / 1e6);
        if (impl === 'switchyard') o.preWindows?.push([mm.t0 / 1000, t.start / 1000]);
        split.queue.push((t.queued - t.start) / 1e6);
        split.flush.push((t.flushed - t.queued) / 1e6);
        split.last.push((mm.last - mm.t0) / 1e6);
      }
      out[impl] = {
        ...summarize(a.latencies),
        missing: a.missing,
        triggerP50: median(a.triggerMs),
        frameBytes,
        connectMs: connectMs[impl],
        preP50: median(split.pre),
        queueP50: median(split.queue),
        flushP50: median(split.flush),
        lastP50: median(split.last),
        lastP90: lastPerChange[Math.min(lastPerChange.length - 1, Math.ceil(0.9 * lastPerChange.length) - 1)],
        lastMax: lastPerChange[lastPerChange.length - 1],
        slowChanges: lastPerChange.filter((x) => x > TARGET_P99_MS).length,
        changes: lastPerChange.length,
      };
    }
    return out;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all([servers.switchyard.stop(), servers.floor.stop()]);
    agent.destroy();
  }
}

const SSE_RULES = [
  { name: '(idle: waiting for I/O)', test: frameIs.idle, leafOnly: true },
  { name: '(garbage collector)', test: frameIs.gc, leafOnly: true },
  { name: '(program: V8/libuv native, not attributed to JS)', test: frameIs.program, leafOnly: true },
  {
    name: 'fan-out: `res.write` of the frame to every client (node:http + socket writes), inside StreamHub.broadcast',
    stack: (s) => s.some((f) => f.functionName === 'broadcast') && s.some((f) => /^node:/.test(f.url)),
  },
  { name: 'fan-out: StreamHub.broadcast JS (frame serialization, loop, slow-client check)', test: (f) => f.functionName === 'broadcast' },
  {
    name: 'fan-out: flushing the corked socket writes on the next tick (`connectionCorkNT` -> `writev` syscall per client)',
    test: (f) => f.functionName === 'connectionCorkNT',
  },
  { name: 'config apply + compile (@switchyard/core)', test: frameIs.url(/packages\/core\/dist|@switchyard\/core/) },
  { name: 'JWT verify (jose)', test: frameIs.url(/jose/) },
  { name: 'validation (zod)', test: frameIs.url(/zod/) },
  ...COMMON_RULES,
];

/** @param {{ resultsDir: string, quick?: boolean, log?: (s: string) => void }} opts */
export async function run({ resultsDir, quick = false, log = (s) => console.log(s) }) {
  assertBuilt();
  const sizes = [500, 2000];
  const rounds = quick ? 1 : 5;
  const warmup = 3;
  const changes = quick ? 10 : 30;
  const limit = fdLimit();
  const m = machine();
  const loadBefore = load1();
  const busy = otherBusyProcesses();
  const started = Date.now();
  const tmp = tempDir('sse');
  log(`[sse-fanout] fd soft limit ${limit}; ${rounds} round(s) x ${changes} changes at ${sizes.join(' and ')} clients`);
  /** @type {Record<number, Record<string, any[]>>} */
  const results = {};
  let frameBytes = 0;
  /** @type {ReturnType<typeof summarizeProfile> | null} */
  let profile = null;
  /** @type {ReturnType<typeof summarizeProfile> | null} */
  let preProfile = null;
  try {
    for (const n of sizes) {
      results[n] = { switchyard: [], floor: [] };
      for (let r = 0; r < rounds; r++) {
        const res = await pairedRound(n, { warmup, changes, dbDir: tmp.dir, log });
        for (const impl of ['switchyard', 'floor']) {
          const x = res[impl];
          frameBytes = x.frameBytes;
          results[n][impl].push(x);
          log(
            `[sse-fanout] ${impl} n=${n} round ${r + 1}: p50 ${fmt(x.p50)} p95 ${fmt(x.p95)} p99 ${fmt(x.p99)} max ${fmt(x.max)} ms; split: before fan-out ${fmt(x.preP50)}, queue ${fmt(x.queueP50)}, flush ${fmt(x.flushP50)}, last delivery ${fmt(x.lastP50)} ms; change RTT ${fmt(x.triggerP50)} ms; missing ${x.missing}; connect ${fmt(x.connectMs, 0)} ms`,
          );
        }
      }
    }
    // Where the time goes: one more paired round at the largest size with Switchyard under
    // --cpu-prof, counting only its samples between each of its changes' t0 and last delivery.
    const profDir = path.join(tmp.dir, 'prof');
    fs.mkdirSync(profDir);
    /** @type {[number, number][]} */
    const windows = [];
    /** @type {[number, number][]} */
    const preWindows = [];
    const n = sizes[sizes.length - 1];
    const pr = await pairedRound(n, { warmup, changes: quick ? 10 : 20, dbDir: tmp.dir, profileDir: profDir, windows, preWindows, log });
    log(
      `[sse-fanout] profiled round n=${n}: switchyard p50 ${fmt(pr.switchyard.p50)} p99 ${fmt(pr.switchyard.p99)} ms, floor p50 ${fmt(pr.floor.p50)} p99 ${fmt(pr.floor.p99)} ms (profiling adds overhead)`,
    );
    const file = newestProfile(profDir);
    if (file !== null) {
      profile = summarizeProfile(file, SSE_RULES, windows);
      preProfile = summarizeProfile(file, SSE_RULES, preWindows);
    }
  } finally {
    tmp.remove();
  }
  const loadAfter = load1();
  const wallS = (Date.now() - started) / 1000;

  const agg = (rs, k) => median(rs.map((x) => x[k]));
  const lines = [
    '## SSE fan-out: flag change to N connected SSE clients',
    '',
    `Measured ${m.date.slice(0, 10)} on ${machineLine(m)}. ${loadNote(loadBefore, loadAfter)}.${busy.length > 0 ? ` Busy processes at the start: ${busy.slice(0, 6).join(', ')}.` : ''} Wall time ${fmt(wallS, 0)} s.${quick ? ' **Quick mode** (shorter runs, not for publishing).' : ''}`,
    '',
    `Command: \`cd benchmarks && node --expose-gc src/run-all.mjs sse-fanout\`. Each round starts fresh processes: Switchyard (from \`packages/server/dist\`, SQLite temp file, rate limits off, heartbeat every 10 min so none lands in a measurement), the floor (a bare \`node:http\` SSE broadcaster, \`child-floor-sse.mjs\`), ${WORKERS} client processes each holding N/${WORKERS} light \`node:http\` streams to *each* server (Switchyard: \`GET /sdk/v1/stream\` with the server key), and this coordinator. The changes **alternate** between the two servers (and which goes first alternates), so both see the same background load: per round ${warmup} warm-up changes each, then ${changes} measured changes each, ~40-80 ms apart. Latency = a client's arrival timestamp of the \`patch\` frame with the expected \`id:\` minus the coordinator's timestamp just before it sends the change (CLOCK_MONOTONIC, one clock for all processes). Switchyard's change is \`PATCH /api/v1/feature-flags/${FLAG}\` with an admin JWT (auth, validation, SQLite commit + audit, config apply, broadcast); the floor's is \`POST /broadcast\`, which writes a frame of the same size (${frameBytes} bytes) to every stream. Percentiles are over all N x ${changes} deliveries of a round; the table shows the **median over ${rounds} round(s)** and the per-round p99s. "change RTT" is the median time until the change request's own response (Switchyard answers after handing every frame to \`res.write\`; the floor's 204 goes out before its corked writes are flushed, so this column is not a like-for-like comparison). fd soft limit: ${limit}.`,
    '',
    '| clients | server | p50 ms | p95 ms | p99 ms | max ms | p99 per round (ms) | change RTT ms | lost |',
    '|--:|---|--:|--:|--:|--:|---|--:|--:|',
  ];
  /** @type {string[]} */
  const verdicts = [];
  for (const n of sizes) {
    for (const impl of ['switchyard', 'floor']) {
      const rs = results[n][impl];
      lines.push(
        `| ${n.toLocaleString('en-US')} | ${impl === 'switchyard' ? '**Switchyard**' : 'floor: bare node:http'} | ${fmt(agg(rs, 'p50'))} | ${fmt(agg(rs, 'p95'))} | ${fmt(agg(rs, 'p99'))} | ${fmt(agg(rs, 'max'))} | ${rs.map((x) => fmt(x.p99)).join(', ')} | ${fmt(agg(rs, 'triggerP50'))} | ${rs.reduce((a, x) => a + x.missing, 0)} |`,
      );
    }
  }
  lines.push(
    '',
    'Where a change\'s time goes, medians over the measured changes (then over rounds), in ms from t0: "before fan-out" = until the server starts broadcasting (Switchyard: HTTP, JWT, validation, SQLite commit + audit; timestamped on entry to `ConfigState.apply` by a harness wrapper, no server source changed; floor: until the POST body is read); "queue" = the loop handing the frame to every `res.write` (node:http corks each socket and writes on the next tick); "flush" = until the next `setImmediate`, i.e. the corked `writev` syscalls; "last delivery" = until the last client process has read its frame. Because one slow change delays all N of its deliveries, the pooled p99 above is set by the few slowest changes of a round; the last columns show that directly: the per-change last delivery at the 90th percentile and at worst over the changes (median over rounds), and how many changes in all rounds had a last delivery over 100 ms.',
    '',
    '| clients | server | before fan-out | queue | flush | last delivery (median change) | last delivery, p90 change | worst change | changes > 100 ms |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|',
  );
  for (const n of sizes) {
    for (const impl of ['switchyard', 'floor']) {
      const rs = results[n][impl];
      lines.push(
        `| ${n.toLocaleString('en-US')} | ${impl === 'switchyard' ? 'Switchyard' : 'floor'} | ${fmt(agg(rs, 'preP50'))} | ${fmt(agg(rs, 'queueP50'))} | ${fmt(agg(rs, 'flushP50'))} | ${fmt(agg(rs, 'lastP50'))} | ${fmt(agg(rs, 'lastP90'))} | ${fmt(agg(rs, 'lastMax'))} | ${rs.reduce((x, r) => x + r.slowChanges, 0)} of ${rs.reduce((x, r) => x + r.changes, 0)} |`,
      );
    }
  }
  lines.push('', '| clients | Switchyard / floor p50 | p95 | p99 | max |', '|--:|--:|--:|--:|--:|');
  let ratioOk = true;
  for (const n of sizes) {
    const s = results[n].switchyard;
    const f = results[n].floor;
    const ratio = (k) => agg(s, k) / agg(f, k);
    lines.push(
      `| ${n.toLocaleString('en-US')} | ${fmt(ratio('p50'))}× | ${fmt(ratio('p95'))}× | ${fmt(ratio('p99'))}× | ${fmt(ratio('max'))}× |`,
    );
    const ok = ratio('p50') <= TARGET_RATIO && ratio('p99') <= TARGET_RATIO;
    ratioOk &&= ok;
    verdicts.push(`${n.toLocaleString('en-US')} clients: p50 ${fmt(ratio('p50'))}×, p99 ${fmt(ratio('p99'))}× ${ok ? '✅' : '❌'}`);
  }
  const p99at500 = agg(results[500].switchyard, 'p99');
  const p99Ok = p99at500 < TARGET_P99_MS;
  const lost = sizes.reduce((a, n) => a + results[n].switchyard.reduce((b, x) => b + x.missing, 0), 0);
  lines.push(
    '',
    `Target: p99 under ${TARGET_P99_MS} ms at 500 clients — **${p99Ok ? 'met' : 'not met'}** (${fmt(p99at500)} ms ${p99Ok ? '✅' : '❌'}); within ${TARGET_RATIO}× of the floor at 500 and 2,000 clients (judged on p50 and p99) — **${ratioOk ? 'met' : 'not met'}**: ${verdicts.join('; ')}.${lost > 0 ? ` ${lost} Switchyard deliveries did not arrive within 10 s.` : ''}`,
  );
  if (profile !== null) {
    lines.push(
      '',
      `### Where Switchyard's time goes (${sizes[sizes.length - 1].toLocaleString('en-US')} clients)`,
      '',
      `One more paired round with the Switchyard process under \`--cpu-prof\` (100 µs sampling; not in the tables above); only its samples between each of its changes' t0 and the last delivery count (${fmt(profile.totalMs, 0)} ms over ${quick ? 10 : 20} changes). Idle time in these windows is the server waiting while the kernel and the client processes deliver and read the frames; \`writev\` is the kernel's loopback TCP send, one syscall per client, which the floor pays identically.`,
      '',
      profileTable(profile),
      '',
      topSelfTable(profile),
    );
  }
  if (preProfile !== null) {
    lines.push(
      '',
      `The same profile, only from each change's t0 until Switchyard starts broadcasting ("before fan-out" above: ${fmt(preProfile.totalMs, 0)} ms of samples over the changes; a split of a few ms per change, so read it as proportions):`,
      '',
      profileTable(preProfile),
    );
  }
  const file = writeSection(resultsDir, NAME, lines.join('\n'));
  log(`[sse-fanout] wrote ${file}`);
  return { results, profile };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ resultsDir: path.resolve(here, '../../results'), quick: process.env.BENCH_QUICK === '1' });
  process.exit(0);
}
