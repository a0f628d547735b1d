/**
 * Child process: concurrent event senders for the ingestion benchmark.
 *
 * parent `{type: 'run', url, key, concurrency, batchSize, runId, startNs, windowStartNs, windowEndNs, ratePerS?}`
 *   -> `{type: 'done', ...counts, latenciesMs}` after the last request has completed. With
 *   `ratePerS` (the soak) the senders together aim at that many events per second instead of
 *   sending back to back.
 *
 * Each sender is a loop with its own keep-alive `node:http` agent (one socket), POSTing
 * `/sdk/v1/events` back to back until `windowEndNs`. Bodies come from one pre-serialized template
 * of `batchSize` events with holes for the ids: each request fills every event id and every unit
 * id with a fresh id and joins the pieces: no JSON.stringify per request. Event ids are
 * time-ordered UUIDv7s, as the Switchyard SDKs make them (so the id index appends); unit ids
 * are random `crypto.randomUUID()`s, as apps' user ids usually are. Mix per batch:
 * 40 % exposures (each a new unit of experiment `ingest-exp`, variant control/treatment), 60 %
 * `track` events of those units (`purchase` with a value, one in three with small properties),
 * epoch-millisecond timestamps from the clock at send time (tracks a second after exposures).
 */
import { randomFillSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import { childFailureHandler, nowNs } from './lib.mjs';

childFailureHandler();

const HOLE = '@@HOLE@@';

const HEX = Array.from({ length: 256 }, (_, b) => (b + 256).toString(16).slice(1));
/**
 * `n` UUIDv7s like the SDKs' `eventId()`: milliseconds first, then random bits. One
 * `randomFillSync` per batch keeps the sender's CPU (which shares the machine with the server) low.
 */
function eventIds(n) {
  const rnd = randomFillSync(new Uint8Array(10 * n));
  const ts = Date.now().toString(16).padStart(12, '0');
  const prefix = `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7`;
  const ids = new Array(n);
  for (let i = 0, o = 0; i < n; i++, o += 10) {
    ids[i] =
      `${prefix}${HEX[rnd[o]].slice(1)}${HEX[rnd[o + 1]]}-${HEX[(rnd[o + 2] & 0x3f) | 0x80]}${HEX[rnd[o + 3]]}-${HEX[rnd[o + 4]]}${HEX[rnd[o + 5]]}${HEX[rnd[o + 6]]}${HEX[rnd[o + 7]]}${HEX[rnd[o + 8]]}${HEX[rnd[o + 9]]}`;
  }
  return ids;
}

/**
 * The body template: the serialized batch as bytes, with fixed-width holes (36-character ids, 13-digit
 * epoch milliseconds) where each request writes a fresh event id, the id of one of the batch's fresh
 * units, or the current time. `fill()` copies the bytes and writes the holes in place: no string
 * building or UTF-8 encoding per request.
 */
function template(batchSize) {
  const events = [];
  /** @type {({ kind: 'id', j: number } | { kind: 'unit', u: number } | { kind: 'ts', offset: number })[]} */
  const holes = [];
  // Timestamps are holes too: the clock at send time (exposures first, tracks a second later), as an SDK stamps them.
  const TS = -1;
  const exposures = Math.round(batchSize * 0.4);
  for (let j = 0; j < batchSize; j++) {
    if (j < exposures) {
      events.push({
        id: HOLE,
        type: 'exposure',
        key: 'ingest-exp',
        unit_id: HOLE,
        experiment: 'ingest-exp',
        variant: j % 2 === 0 ? 'control' : 'treatment',
        timestamp: TS,
      });
      holes.push({ kind: 'id', j }, { kind: 'unit', u: j }, { kind: 'ts', offset: 0 });
    } else {
      const u = (j - exposures) % exposures;
      const e = {
        id: HOLE,
        type: 'track',
        key: 'purchase',
        unit_id: HOLE,
        value: Math.round(((j * 7919) % 10000) / 10) / 10 + 1,
        timestamp: TS,
      };
      if (j % 3 === 0) e.properties = { plan: 'pro', source: 'bench' };
      events.push(e);
      holes.push({ kind: 'id', j }, { kind: 'unit', u }, { kind: 'ts', offset: 1000 });
    }
  }
  const pieces = JSON.stringify({ events }).replaceAll(`"timestamp":${TS}`, `"timestamp":${HOLE}`).split(HOLE);
  if (pieces.length !== holes.length + 1) throw new Error('template holes do not line up');
  const width = (h) => (h.kind === 'ts' ? 13 : 36);
  // The template bytes, holes filled with placeholders of their width, and where each hole starts.
  const at = [];
  const parts = [];
  let offset = 0;
  holes.forEach((h, k) => {
    parts.push(pieces[k], '0'.repeat(width(h)));
    offset += Buffer.byteLength(pieces[k]);
    at.push(offset);
    offset += width(h);
  });
  parts.push(pieces[pieces.length - 1]);
  const bytes = Buffer.from(parts.join(''), 'utf8');
  return {
    /** One body: a fresh UUIDv7 per event (as the SDKs make them), a random UUID per unit, the current time. */
    fill() {
      const units = Array.from({ length: exposures }, () => randomUUID());
      const ids = eventIds(batchSize);
      const now = Date.now();
      const body = Buffer.allocUnsafe(bytes.length);
      bytes.copy(body);
      for (let k = 0; k < holes.length; k++) {
        const h = holes[k];
        body.latin1Write(h.kind === 'id' ? ids[h.j] : h.kind === 'unit' ? units[h.u] : String(now + h.offset), at[k]);
      }
      return body;
    },
  };
}

/**
 * @param {http.Agent} agent @param {URL} u @param {string} key @param {Buffer} body
 * @returns {Promise<{ status: number, accepted: number }>}
 */
function post(agent, u, key, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: '/sdk/v1/events',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-api-key': key },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let accepted = 0;
          if (res.statusCode === 202) accepted = JSON.parse(Buffer.concat(chunks).toString('utf8')).data.accepted;
          resolve({ status: res.statusCode ?? 0, accepted });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

process.on('message', async (m) => {
  if (m?.type === 'close') {
    process.disconnect?.();
    process.exit(0);
  }
  if (m?.type !== 'run') return;
  const u = new URL(m.url);
  const tpl = template(m.batchSize);
  const bodyBytes = tpl.fill().length;
  const totals = {
    requests: 0,
    acked: 0,
    windowAcked: 0,
    windowRequests: 0,
    duplicates: 0,
    statuses: /** @type {Record<string, number>} */ ({}),
    errors: 0,
  };
  /** @type {number[]} */
  const latenciesMs = [];
  while (nowNs() < m.startNs) await new Promise((r) => setTimeout(r, 5));
  /** The senders' own CPU over the window: they share the 2 cores with the server. */
  let cpu0 = null;
  let cpuWindow = null;
  const windowTimers = [
    setTimeout(
      () => {
        cpu0 = process.cpuUsage();
      },
      Math.max(0, (m.windowStartNs - nowNs()) / 1e6),
    ),
    setTimeout(
      () => {
        if (cpu0 !== null) {
          const c = process.cpuUsage(cpu0);
          cpuWindow = (c.user + c.system) / 1e6;
        }
      },
      Math.max(0, (m.windowEndNs - nowNs()) / 1e6),
    ),
  ];
  const sender = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // Paced: this sender's share of `ratePerS`, one batch per slot (a late slot is not made up twice).
    const slotNs = m.ratePerS === undefined ? 0 : (m.concurrency * m.batchSize * 1e9) / m.ratePerS;
    let slot = nowNs();
    try {
      while (nowNs() < m.windowEndNs) {
        if (slotNs > 0) {
          slot = Math.max(slot + slotNs, nowNs() - slotNs);
          while (nowNs() < slot && nowNs() < m.windowEndNs) await new Promise((r) => setTimeout(r, Math.max(1, (slot - nowNs()) / 1e6)));
          if (nowNs() >= m.windowEndNs) break;
        }
        const body = tpl.fill();
        const t0 = nowNs();
        let r;
        try {
          r = await post(agent, u, m.key, body);
        } catch {
          totals.errors++;
          continue;
        }
        const t1 = nowNs();
        totals.requests++;
        totals.statuses[r.status] = (totals.statuses[r.status] ?? 0) + 1;
        totals.acked += r.accepted;
        if (r.status === 202) totals.duplicates += m.batchSize - r.accepted;
        // A request counts in the window when it completed inside it.
        if (t1 >= m.windowStartNs && t1 <= m.windowEndNs) {
          totals.windowAcked += r.accepted;
          totals.windowRequests++;
          latenciesMs.push((t1 - t0) / 1e6);
        }
      }
    } finally {
      agent.destroy();
    }
  };
  await Promise.all(Array.from({ length: m.concurrency }, sender));
  windowTimers.forEach(clearTimeout);
  const senderCpuShare = cpuWindow === null ? NaN : cpuWindow / ((m.windowEndNs - m.windowStartNs) / 1e9);
  process.send({ type: 'done', ...totals, bodyBytes, latenciesMs, senderCpuShare, endNs: nowNs() });
});
process.send({ type: 'ready', pid: process.pid });
