import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppEnv } from '../http/app-env';
import { createOperationsMetrics, type OperationsMetrics } from './operations-metrics';

/** What the config fan-out has counted since start (null without fan-out: one instance, no poll). */
export interface FanoutCounts {
  catchUps: Record<string, number>;
  publishFailures: number;
  errors: number;
}

/** The metrics of one server instance, on its own registry (tests start many servers). */
export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  sseClients: { inc(labels: { environment: string }): void; dec(labels: { environment: string }): void };
  /** Events newly stored, by environment and type: resent ids are not counted here. */
  eventsIngested: Counter<'environment' | 'type'>;
  /** Events whose id was already stored (SDK retries): acknowledged, not stored again. */
  eventsDuplicate: Counter<'environment' | 'type'>;
  /** Safety checks that could not run (`check`: guardrail or srm). */
  safetyCheckFailures: Counter<'check'>;
  /** Requests being answered now. */
  inFlight: Gauge;
  /** Experiment results served from the cache (`hit`) or computed (`miss`). */
  resultsCache: Counter<'outcome'>;
  /** Where scrape-time gauges read their values; set once the server's parts exist. */
  sources: {
    configVersions: () => { environment: string; version: number }[];
    replayMisses: () => { environment: string; misses: number }[];
    fanout: () => FanoutCounts | null;
  };
  /** Background jobs, leader lease, PostgreSQL pool. */
  operations: OperationsMetrics;
}

// prom-client's default collectors name three gauges `*_total`, which Prometheus reserves for
// counters (promtool rejects them). The per-type gauges without the suffix carry the same data.
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const gauge = new Gauge({
    name: 'switchyard_sse_clients',
    help: 'Connected SSE clients by environment',
    labelNames: ['environment'],
    registers: [registry],
  });
  const sources: ServerMetrics['sources'] = { configVersions: () => [], replayMisses: () => [], fanout: () => null };
  // Counters kept by the parts themselves, read at each scrape (reset then set: they only grow).
  new Counter({
    name: 'switchyard_sse_replay_misses_total',
    help: 'SSE resumes (Last-Event-ID) older than the replay buffer, answered with a whole put',
    labelNames: ['environment'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { environment, misses } of sources.replayMisses()) if (misses > 0) this.inc({ environment }, misses);
    },
  });
  new Counter({
    name: 'switchyard_config_catchups_total',
    help: 'Times this instance found itself behind the store and replayed the config log, by trigger',
    labelNames: ['trigger'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [trigger, n] of Object.entries(sources.fanout()?.catchUps ?? {})) if (n > 0) this.inc({ trigger }, n);
    },
  });
  new Counter({
    name: 'switchyard_config_fanout_failures_total',
    help: 'Config fan-out failures: a version not published to the other instances (publish) or not applied here (apply)',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      this.reset();
      const f = sources.fanout();
      if (f === null) return;
      if (f.publishFailures > 0) this.inc({ stage: 'publish' }, f.publishFailures);
      if (f.errors > 0) this.inc({ stage: 'apply' }, f.errors);
    },
  });
  new Gauge({
    name: 'switchyard_config_version',
    help: 'Config version this instance serves, by environment (compare instances to see fan-out lag)',
    labelNames: ['environment'],
    registers: [registry],
    collect() {
      // Rebuilt at each scrape: a deleted environment's series disappears instead of freezing.
      this.reset();
      for (const { environment, version } of sources.configVersions()) this.set({ environment }, version);
    },
  });
  return {
    sources,
    operations: createOperationsMetrics(registry),
    inFlight: new Gauge({ name: 'switchyard_http_requests_in_flight', help: 'Requests being answered now', registers: [registry] }),
    resultsCache: new Counter({
      name: 'switchyard_results_cache_requests_total',
      help: 'Experiment results requests answered from the cache (hit) or computed (miss)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    registry,
    requests: new Counter({
      name: 'switchyard_http_requests_total',
      help: 'HTTP requests by route template',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'switchyard_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    sseClients: gauge,
    eventsIngested: new Counter({
      name: 'switchyard_events_ingested_total',
      help: 'Events newly stored (resent ids excluded)',
      labelNames: ['environment', 'type'],
      registers: [registry],
    }),
    eventsDuplicate: new Counter({
      name: 'switchyard_events_duplicates_total',
      help: 'Events acknowledged but not stored again because their id was already stored',
      labelNames: ['environment', 'type'],
      registers: [registry],
    }),
    safetyCheckFailures: new Counter({
      name: 'switchyard_safety_check_failures_total',
      help: 'Safety checks of running experiments that could not run (the experiment is unprotected)',
      labelNames: ['check'],
      registers: [registry],
    }),
  };
}

/** Records count and latency under the matched route template, never the raw path (bounded labels). */
export function metricsMiddleware(m: ServerMetrics): MiddlewareHandler<AppEnv> {
  return async function metricsHandler(c, next) {
    const start = performance.now();
    m.inFlight.inc();
    try {
      await next();
    } finally {
      m.inFlight.dec();
      const template = routePath(c, -1);
      const route = template === '*' || template === '/*' || template === '' ? 'unmatched' : template;
      m.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
      m.duration.observe({ method: c.req.method, route }, (performance.now() - start) / 1000);
    }
  };
}
