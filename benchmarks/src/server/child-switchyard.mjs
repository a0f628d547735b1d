/**
 * Child process: one Switchyard server from the built dist, on 127.0.0.1 and an ephemeral port.
 *
 *   node child-switchyard.mjs '<JSON of startServer options>'
 *
 * Messages to the parent: `{type: 'ready', url, credentials}`, then on `{type: 'close'}` it closes
 * the server (draining queued events), answers `{type: 'closed'}` and exits normally (so that a
 * `--cpu-prof` profile gets written). `{type: 'timings'}` answers the store-call timings recorded
 * when started with `instrumentAggregates: true` (the harness wraps the store method; the server
 * source is not changed); `{type: 'cpu'}` the process's CPU time so far (µs) and the event writer's transactions and batches so far; `{type: 'count-events'}`
 * the number of rows in the events table; `{type: 'backlog'}` the stored events the results'
 * summaries do not count yet; `{type: 'drain'}` how long (ms) until the results'
 * summaries count every stored event; `{type: 'memory'}` the process's `memoryUsage()`, the
 * events retention has deleted so far and the aggregator's backlog; `{type: 'heap-snapshot', file}` writes a V8 heap snapshot.
 */
import { pathToFileURL } from 'node:url';
import { childFailureHandler, nowNs } from './lib.mjs';

childFailureHandler();
// BENCH_SERVER_DIST: another build of the server (an earlier release's checkout) to measure
// against this one in the same run.
const { startServer } = await import(
  process.env.BENCH_SERVER_DIST !== undefined ? pathToFileURL(process.env.BENCH_SERVER_DIST).href : '../../../packages/server/dist/index.js'
);

const { instrumentAggregates = false, traceConfig = false, whatIfFlushInLoop = false, ...options } = JSON.parse(process.argv[2] ?? '{}');
const server = await startServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', printCredentials: false, env: {}, ...options });

/** @type {{ aggregatesMs: number[] }} */
const timings = { aggregatesMs: [] };
if (instrumentAggregates) {
  const store = server.ctx.store;
  const original = store.experimentAggregates.bind(store);
  store.experimentAggregates = async (...args) => {
    const t0 = nowNs();
    try {
      return await original(...args);
    } finally {
      timings.aggregatesMs.push((nowNs() - t0) / 1e6);
    }
  };
}

/**
 * With `traceConfig`: per config version, when `ConfigState.apply` was entered (the change is
 * committed), when the listeners after StreamHub's had run (every frame handed to `res.write`),
 * and when the next `setImmediate` fired (node:http's corked writes flushed to the sockets).
 * @type {Map<number, { start: number, queued?: number, flushed?: number }>}
 */
const traces = new Map();
if (traceConfig) {
  const config = server.ctx.config;
  const apply = config.apply.bind(config);
  config.apply = (patch) => {
    traces.set(patch.version, { start: nowNs() });
    return apply(patch);
  };
  // StreamHub subscribed in startServer, so this listener runs right after its broadcast.
  config.subscribe((patch) => {
    const t = traces.get(patch.version) ?? { start: NaN };
    t.queued = nowNs();
    traces.set(patch.version, t);
    setImmediate(() => {
      t.flushed = nowNs();
    });
  });
}

/**
 * What-if (only when asked, never in the published figures): StreamHub's per-client write wrapped
 * in `socket.cork()` / `socket.uncork()`, so each client's frame is sent by a `writev` inside the
 * broadcast loop instead of node:http's next-tick flush, which runs only after the rest of the
 * PATCH request's promise chain. Used to test a suggested change without editing the server.
 */
if (whatIfFlushInLoop) {
  const hub = server.ctx.hub;
  const write = hub.write;
  hub.write = function (client, chunk) {
    const socket = client.res.socket;
    if (socket === null || socket === undefined || socket.writableCorked) return write.call(this, client, chunk);
    socket.cork();
    try {
      return write.call(this, client, chunk);
    } finally {
      socket.uncork();
    }
  };
}

process.on('message', async (m) => {
  if (m?.type === 'cpu') {
    // With the event writer's transactions and the batches they carried (group commit), when it counts them.
    const writer = server.ctx.events;
    process.send({ type: 'cpu', ...process.cpuUsage(), atNs: nowNs(), groups: writer?.groups, batches: writer?.batches });
    return;
  }
  if (m?.type === 'drain') {
    // Results wait for the aggregator: an aggregates call returns once it has caught up.
    const t0 = nowNs();
    // Before environments the store's signature had no environment argument.
    const aggregates = server.ctx.store.experimentAggregates.bind(server.ctx.store);
    await (server.ctx.store.experimentAggregates.length >= 3 ? aggregates('production', 'bench-drain', []) : aggregates('bench-drain', []));
    process.send({ type: 'drain', ms: (nowNs() - t0) / 1e6 });
    return;
  }
  if (m?.type === 'memory') {
    // The soak's sample: the process's memory and the retention job's running total.
    const deleted =
      (await server.ctx.metrics.registry.getSingleMetric('switchyard_retention_deleted_total')?.get())?.values[0]?.value ?? null;
    const backlog = await server.ctx.store.aggregatorBacklog?.();
    process.send({ type: 'memory', ...process.memoryUsage(), retentionDeleted: deleted, backlog: backlog ?? null, atNs: nowNs() });
    return;
  }
  if (m?.type === 'heap-snapshot') {
    const { writeHeapSnapshot } = await import('node:v8');
    process.send({ type: 'heap-snapshot', file: writeHeapSnapshot(m.file) });
    return;
  }
  if (m?.type === 'backlog') {
    process.send({ type: 'backlog', count: await server.ctx.store.aggregatorBacklog() });
    return;
  }
  if (m?.type === 'count-events') {
    process.send({ type: 'count-events', count: await server.ctx.store.countEvents() });
    return;
  }
  if (m?.type === 'traces') {
    process.send({ type: 'traces', traces: [...traces].map(([version, t]) => ({ version, ...t })) });
    return;
  }
  if (m?.type === 'close') {
    await server.close();
    process.send({ type: 'closed' });
    process.disconnect?.();
    process.exit(0);
  } else if (m?.type === 'timings') {
    process.send({ type: 'timings', ...timings });
    timings.aggregatesMs = [];
  }
});
process.send({ type: 'ready', url: server.url, pid: process.pid, credentials: server.credentials });
