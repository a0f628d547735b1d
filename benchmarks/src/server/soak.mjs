/**
 * Soak: does the server's memory level off over a long run with retention on?
 *
 * One server on SQLite (the embedded default, a fresh temp file) with a short retention window
 * (`SWITCHYARD_EVENT_RETENTION_DAYS` as a fraction of a day) and a short retention interval, so
 * that retention really deletes while the run goes on and the events table stays at about
 * window x rate rows, as a 90-day window does in production. Meanwhile: paced event batches
 * (`child-event-senders.mjs` with `ratePerS`), a flag change every few seconds, and 100 SSE
 * clients (`child-sse-clients.mjs`) receiving every change. Every 10 s the coordinator samples
 * the server's RSS and V8 heap (IPC to `child-switchyard.mjs`), the SQLite file and WAL sizes
 * and the events retention has deleted so far.
 *
 * Reported: RSS slope (least squares, MiB/min) over the first and the last 10 minutes (first and
 * last third in shorter runs), heap after and before, file sizes, and the RSS series by minute.
 * It measures memory, not speed: run it alone or not, but not under the benchmark lock.
 *
 *   node --expose-gc src/run-all.mjs soak             # 30 minutes
 *   SOAK_MINUTES=5 node --expose-gc src/run-all.mjs soak
 *   BENCH_QUICK=1 node --expose-gc src/run-all.mjs soak   # 60 s, to try the harness
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { expectStatus, fmt, here, load1, loadNote, login, nowNs, request, sleep, startChild, tempDir, writeSection } from './lib.mjs';
import { machineLine } from '../lib/machine.mjs';

export const NAME = 'soak';

const ADMIN_PASSWORD = 'bench-admin-password-1';
const FLAG = 'soak-flag';
const SSE_CLIENTS = 100;
const EVENTS_PER_S = 5000;
const BATCH = 250;
const SENDERS = 4;
const CHANGE_EVERY_MS = 3000;
const SAMPLE_EVERY_MS = 10_000;
const MiB = 1024 * 1024;

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

const fileSize = (f) => {
  try {
    return fs.statSync(f).size;
  } catch {
    return 0;
  }
};

/**
 * @param {{ resultsDir: string, quick?: boolean, log?: (s: string) => void }} o
 */
export async function run(o) {
  const log = o.log ?? ((s) => console.log(s));
  const minutes = o.quick ? 1 : Number(process.env.SOAK_MINUTES ?? 30);
  const durationMs = minutes * 60_000;
  // The window: a fifth of the run, at most 3 minutes; retention every 20 s (or less in short runs).
  const windowMs = Math.min(3 * 60_000, durationMs / 5);
  const retentionIntervalMs = Math.min(20_000, windowMs / 2);
  const tmp = tempDir('soak');
  const dbPath = path.join(tmp.dir, 'soak.db');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const server = startChild(path.join(here, 'child-switchyard.mjs'), {
    args: [
      JSON.stringify({
        dbPath,
        adminPassword: ADMIN_PASSWORD,
        apiRateBurst: 1e9,
        apiRatePerSecond: 1e9,
        newUnitsPerMinute: 0,
        eventRetentionDays: windowMs / 86_400_000,
        retentionIntervalMs,
      }),
    ],
    fds: 8192,
  });
  const senders = startChild(path.join(here, 'child-event-senders.mjs'));
  const sse = startChild(path.join(here, 'child-sse-clients.mjs'), { fds: 8192 });
  const load0 = load1();
  try {
    const [sw] = await Promise.all([server.next('ready', 60_000), senders.next('ready'), sse.next('ready')]);
    const auth = await login(agent, sw.url, sw.credentials.adminEmail, ADMIN_PASSWORD);
    expectStatus(
      await request(agent, sw.url, 'POST', '/api/v1/feature-flags', {
        headers: { authorization: auth },
        body: { key: FLAG, name: 'Soak flag', type: 'boolean', enabled: false, description: 'toggled by the soak benchmark' },
      }),
      201,
    );
    sse.send({
      type: 'connect',
      set: 'soak',
      url: sw.url,
      path: '/sdk/v1/stream',
      headers: { 'x-api-key': sw.credentials.serverKey },
      count: SSE_CLIENTS,
      concurrency: 25,
    });
    await sse.next('connected', 120_000);

    const startNs = nowNs();
    const endNs = startNs + durationMs * 1e6;
    senders.send({
      type: 'run',
      url: sw.url,
      key: sw.credentials.serverKey,
      concurrency: SENDERS,
      batchSize: BATCH,
      startNs,
      windowStartNs: startNs,
      windowEndNs: endNs,
      ratePerS: EVENTS_PER_S,
    });
    const sendersDone = senders.next('done', durationMs + 120_000);

    let changes = 0;
    let changeFailures = 0;
    const changer = (async () => {
      while (nowNs() < endNs) {
        const r = await request(agent, sw.url, 'PATCH', `/api/v1/feature-flags/${FLAG}`, {
          headers: { authorization: auth },
          body: { enabled: changes % 2 === 0 },
        }).catch(() => ({ status: 0 }));
        if (r.status === 200) changes++;
        else changeFailures++;
        await sleep(CHANGE_EVERY_MS);
      }
    })();

    /** @type {{ tMin: number, rss: number, heapUsed: number, heapTotal: number, external: number, db: number, wal: number, deleted: number }[]} */
    const samples = [];
    for (let next = startNs; next <= endNs; next += SAMPLE_EVERY_MS * 1e6) {
      while (nowNs() < next) await sleep(Math.min(1000, (next - nowNs()) / 1e6));
      server.send({ type: 'memory' });
      const mem = await server.next('memory', 30_000);
      const s = {
        tMin: (nowNs() - startNs) / 6e10,
        rss: mem.rss / MiB,
        heapUsed: mem.heapUsed / MiB,
        heapTotal: mem.heapTotal / MiB,
        external: mem.external / MiB,
        db: fileSize(dbPath) / MiB,
        wal: fileSize(`${dbPath}-wal`) / MiB,
        deleted: mem.retentionDeleted ?? 0,
        backlog: mem.backlog ?? NaN,
      };
      samples.push(s);
      log(
        `soak t=${s.tMin.toFixed(1)} min rss=${s.rss.toFixed(0)} MiB heap=${s.heapUsed.toFixed(0)}/${s.heapTotal.toFixed(0)} MiB db=${s.db.toFixed(0)} MiB wal=${s.wal.toFixed(1)} MiB deleted=${s.deleted} backlog=${s.backlog}`,
      );
    }
    const sent = await sendersDone;
    await changer;
    // Still connected after the run: one last change must reach every SSE client.
    const version = expectStatus(await request(agent, sw.url, 'GET', '/ready'), 200).json.data.config_version;
    sse.send({ type: 'expect', set: 'soak', version: version + 1, timeoutMs: 30_000 });
    await sse.next('armed');
    expectStatus(
      await request(agent, sw.url, 'PATCH', `/api/v1/feature-flags/${FLAG}`, {
        headers: { authorization: auth },
        body: { description: 'last' },
      }),
      200,
    );
    const last = await sse.next('arrivals', 60_000);
    const reached = last.arrivals.filter((t) => t !== null).length;
    server.send({ type: 'count-events' });
    const stored = (await server.next('count-events', 60_000)).count;
    const load2 = load1();

    // First and last 10 minutes (first and last third of a shorter run).
    const span = Math.min(10, minutes / 3);
    const first = samples.filter((s) => s.tMin <= span).map((s) => ({ x: s.tMin, y: s.rss }));
    const lastPoints = samples.filter((s) => s.tMin >= minutes - span).map((s) => ({ x: s.tMin, y: s.rss }));
    const firstSlope = slope(first);
    const lastSlope = slope(lastPoints);
    const a = samples[0];
    const z = samples[samples.length - 1];
    const peak = Math.max(...samples.map((s) => s.rss));
    const byMinute = samples.filter((s, i) => i === 0 || Math.floor(s.tMin) !== Math.floor(samples[i - 1].tMin));
    const step = Math.max(1, Math.ceil(byMinute.length / 16));
    const series = byMinute.filter((_, i) => i % step === 0 || i === byMinute.length - 1);

    const md = [
      '## Soak',
      '',
      `${minutes} minute(s) on ${machineLine()}${o.quick ? ' (**quick mode: 60 s, not a soak**)' : ''}.`,
      '',
      `One server on SQLite (a fresh file) with retention on: a ${fmt(windowMs / 60_000)}-minute window (\`SWITCHYARD_EVENT_RETENTION_DAYS=${(windowMs / 86_400_000).toPrecision(3)}\`), a pass every ${retentionIntervalMs / 1000} s (\`SWITCHYARD_RETENTION_INTERVAL_MS\`), so the events table holds about window x rate rows throughout, as a 90-day window does in production. Load: ${fmt(EVENTS_PER_S)} events/s aimed at (${SENDERS} senders, batches of ${BATCH}, new units throughout), a flag change every ${CHANGE_EVERY_MS / 1000} s, ${SSE_CLIENTS} SSE clients on \`/sdk/v1/stream\`. Samples every ${SAMPLE_EVERY_MS / 1000} s. ${loadNote(load0, load2)}.`,
      '',
      '| | value |',
      '| --- | ---: |',
      `| events acknowledged (202) | ${fmt(sent.acked)} (${fmt(sent.acked / (durationMs / 1000))}/s; ${sent.errors} transport errors, statuses ${JSON.stringify(sent.statuses)}) |`,
      `| flag changes | ${changes} (${changeFailures} failed) |`,
      `| SSE clients that received the change after the run | ${reached} of ${SSE_CLIENTS} (${last.disconnected} streams closed during the run) |`,
      `| events deleted by retention | ${fmt(z.deleted, 0)} |`,
      `| events stored at the end | ${fmt(stored)} |`,
      `| RSS: first sample, peak, last | ${fmt(a.rss)} MiB, ${fmt(peak)} MiB, ${fmt(z.rss)} MiB |`,
      `| **RSS slope, first ${fmt(span)} min** | **${fmt(firstSlope)} MiB/min** |`,
      `| **RSS slope, last ${fmt(span)} min** | **${fmt(lastSlope)} MiB/min** |`,
      `| V8 heap used: first, last | ${fmt(a.heapUsed)} MiB, ${fmt(z.heapUsed)} MiB (heap total ${fmt(z.heapTotal)} MiB) |`,
      `| SQLite file at the end (WAL) | ${fmt(z.db)} MiB (${fmt(z.wal)} MiB) |`,
      '',
      'RSS and heap by minute (MiB):',
      '',
      '| minute | RSS | heap used | db file | WAL | deleted so far | aggregator backlog (events) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...series.map(
        (s) =>
          `| ${fmt(s.tMin, 1)} | ${fmt(s.rss)} | ${fmt(s.heapUsed)} | ${fmt(s.db)} | ${fmt(s.wal, 1)} | ${fmt(s.deleted, 0)} | ${fmt(s.backlog, 0)} |`,
      ),
    ].join('\n');
    fs.writeFileSync(path.join(tmp.dir, 'samples.json'), JSON.stringify(samples));
    if (process.env.SOAK_KEEP_SAMPLES !== undefined) fs.copyFileSync(path.join(tmp.dir, 'samples.json'), process.env.SOAK_KEEP_SAMPLES);
    const file = writeSection(o.resultsDir, NAME, md);
    log(`wrote ${file}`);
    return { firstSlope, lastSlope, samples };
  } finally {
    await Promise.all([senders.stop(), sse.stop(), server.stop(60_000)]);
    agent.destroy();
    tmp.remove();
  }
}
