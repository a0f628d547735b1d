/**
 * Child process: the floor of the SSE fan-out benchmark, a bare `node:http` SSE broadcaster.
 *
 * `GET /stream` answers the same headers as Switchyard's stream (chunked `text/event-stream`,
 * Nagle off) and a `retry:` + `put` frame; `POST /broadcast` with `{version, bytes}` writes one
 * `id: <version>\nevent: patch\ndata: {...}\n\n` frame padded to `bytes` bytes to every open
 * stream, then answers 204. No auth, no store, no routing: what any SSE server must at least do.
 */
import http from 'node:http';
import { childFailureHandler, nowNs } from './lib.mjs';

childFailureHandler();

/** @type {Set<http.ServerResponse>} */
const clients = new Set();
/** Per broadcast: request body read, frames handed to `res.write`, next `setImmediate` (flushed). */
const traces = [];

/** One frame of exactly `bytes` bytes (ASCII), or the unpadded frame when that is longer. */
function frame(version, bytes) {
  const head = `id: ${version}\nevent: patch\ndata: {"version":${version},"pad":"`;
  const tail = '"}\n\n';
  return head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/stream')) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
    });
    res.socket?.setNoDelay(true);
    clients.add(res);
    res.on('close', () => clients.delete(res));
    res.write(`retry: 2000\n\nid: 0\nevent: put\ndata: {"version":0}\n\n`);
    return;
  }
  if (req.method === 'POST' && req.url === '/broadcast') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const start = nowNs();
      const { version, bytes } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const f = frame(version, bytes);
      for (const c of clients) if (!c.destroyed && !c.writableEnded) c.write(f);
      const t = { version, start, queued: nowNs(), flushed: NaN };
      traces.push(t);
      setImmediate(() => {
        t.flushed = nowNs();
      });
      res.writeHead(204).end();
    });
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  process.send({ type: 'ready', url: `http://127.0.0.1:${port}`, pid: process.pid });
});

process.on('message', (m) => {
  if (m?.type === 'traces') process.send({ type: 'traces', traces });
  if (m?.type === 'close') {
    for (const c of clients) c.end();
    server.close();
    server.closeAllConnections?.();
    process.send({ type: 'closed' });
    process.disconnect?.();
    process.exit(0);
  }
});
