/**
 * Child process: many light SSE clients (`node:http` requests, one socket each) that only
 * timestamp the arrival of one expected frame. Clients are grouped in named sets (one per server
 * under test), so one process can hold streams to several servers and measure them alternately.
 *
 * Protocol (IPC):
 *   parent `{type: 'connect', set, url, path, headers, count, concurrency}`
 *     -> `{type: 'connected', set, count, ms}` once every stream has answered 200 and sent its first bytes
 *   parent `{type: 'expect', set, version, timeoutMs}` -> `{type: 'armed', set, version}`
 *     -> `{type: 'arrivals', set, version, arrivals: (ns | null)[], frameBytes}` when every client of
 *        the set saw `id: <version>\nevent: patch` (or at the timeout; missing ones are null)
 *   parent `{type: 'close'}` -> exits.
 *
 * The data handler takes the timestamp first, then does one `Buffer.indexOf` per chunk (plus one
 * small check across a chunk boundary); it parses nothing else.
 */
import http from 'node:http';
import { childFailureHandler, nowNs } from './lib.mjs';

childFailureHandler();

/**
 * @typedef {{ req: http.ClientRequest, tail: Buffer | null }} Client
 * @typedef {{ clients: Client[], needle: Buffer | null, version: number, arrivals: Float64Array, remaining: number,
 *   frameBytes: number, timer: NodeJS.Timeout | null, disconnected: number }} ClientSet
 */
/** @type {Map<string, ClientSet>} */
const sets = new Map();

/** @param {string} name */
function setOf(name) {
  let s = sets.get(name);
  if (s === undefined) {
    s = { clients: [], needle: null, version: 0, arrivals: new Float64Array(0), remaining: 0, frameBytes: 0, timer: null, disconnected: 0 };
    sets.set(name, s);
  }
  return s;
}

/** @param {string} name @param {ClientSet} s */
function report(name, s) {
  if (s.timer !== null) clearTimeout(s.timer);
  s.timer = null;
  const arrivals = Array.from(s.arrivals, (t) => (t === 0 ? null : t));
  process.send({ type: 'arrivals', set: name, version: s.version, arrivals, frameBytes: s.frameBytes, disconnected: s.disconnected });
  s.needle = null;
}

/** @param {string} name @param {ClientSet} s @param {number} i */
function onData(name, s, i) {
  const c = s.clients[i];
  return (/** @type {Buffer} */ chunk) => {
    const t = nowNs();
    const needle = s.needle;
    if (needle === null || s.arrivals[i] !== 0) {
      c.tail = null;
      return;
    }
    let hit = chunk.indexOf(needle) !== -1;
    if (!hit && c.tail !== null) hit = Buffer.concat([c.tail, chunk.subarray(0, needle.length - 1)]).indexOf(needle) !== -1;
    if (hit) {
      s.arrivals[i] = t;
      if (s.frameBytes === 0) s.frameBytes = chunk.length;
      c.tail = null;
      if (--s.remaining === 0) report(name, s);
    } else {
      c.tail = chunk.length >= needle.length - 1 ? chunk.subarray(chunk.length - (needle.length - 1)) : chunk;
    }
  };
}

/**
 * Opens one stream; resolves on its first body bytes.
 * @param {string} name @param {ClientSet} s @param {URL} u @param {string} p @param {Record<string, string>} headers @param {number} i
 */
function open(name, s, u, p, headers, i) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: p,
      method: 'GET',
      headers: { accept: 'text/event-stream', ...headers },
      agent: false,
    });
    s.clients[i] = { req, tail: null };
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream ${name}/${i}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      res.once('data', () => {
        res.on('data', onData(name, s, i));
        resolve(undefined);
      });
      res.on('close', () => {
        s.disconnected++;
      });
    });
    req.on('error', reject);
    req.end();
  });
}

process.on('message', async (m) => {
  if (m?.type === 'connect') {
    const t0 = nowNs();
    const s = setOf(m.set);
    const u = new URL(m.url);
    let next = 0;
    const worker = async () => {
      while (next < m.count) {
        const i = next++;
        await open(m.set, s, u, m.path, m.headers ?? {}, i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(m.concurrency ?? 25, m.count) }, worker));
    process.send({ type: 'connected', set: m.set, count: s.clients.length, ms: (nowNs() - t0) / 1e6 });
  } else if (m?.type === 'expect') {
    const s = setOf(m.set);
    s.version = m.version;
    s.needle = Buffer.from(`id: ${m.version}\nevent: patch`);
    s.arrivals = new Float64Array(s.clients.length);
    s.remaining = s.clients.length;
    for (const c of s.clients) c.tail = null;
    s.timer = setTimeout(() => report(m.set, s), m.timeoutMs ?? 10_000);
    process.send({ type: 'armed', set: m.set, version: m.version });
  } else if (m?.type === 'close') {
    for (const s of sets.values()) for (const c of s.clients) c.req.destroy();
    process.disconnect?.();
    process.exit(0);
  }
});
process.send({ type: 'ready', pid: process.pid });
