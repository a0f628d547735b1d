import { Counter, Gauge, type Registry } from 'prom-client';

/** Pool use as {@link OperationsMetrics} reads it at scrape time. */
export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

/** Metrics of the background jobs, the leader lease and the PostgreSQL pool. */
export interface OperationsMetrics {
  /** Runs of each background job, by outcome (`ok`, `error`: retried with backoff). */
  jobRuns: Counter<'job' | 'outcome'>;
  /**
   * Transitions the scheduler and the safety monitor attempted, by outcome: `applied`,
   * `superseded` (another instance or a person made it first: the compare-and-set matched
   * nothing) or `failed`.
   */
  jobTransitions: Counter<'job' | 'outcome'>;
  /** Events the retention job deleted (counted per transaction, as a pass goes). */
  retentionDeleted: Counter;
  /** Where the scrape-time gauges read: set once the parts exist. */
  sources: { isLeader: () => boolean; pool: () => PoolUse | null; aggregatorBacklog: () => Promise<number | null> };
}

/** Registers the operations metrics on `registry`. */
export function createOperationsMetrics(registry: Registry): OperationsMetrics {
  const sources: OperationsMetrics['sources'] = { isLeader: () => false, pool: () => null, aggregatorBacklog: async () => null };
  new Gauge({
    name: 'switchyard_leader',
    help: '1 while this instance runs the background jobs (scheduler, safety monitor, retention, ...), else 0',
    registers: [registry],
    collect() {
      this.set(sources.isLeader() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'switchyard_pg_pool_connections',
    help: 'PostgreSQL pool connections: open in total, idle, and requests waiting for one (absent on SQLite)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const use = sources.pool();
      if (use === null) return;
      this.set({ state: 'total' }, use.total);
      this.set({ state: 'idle' }, use.idle);
      this.set({ state: 'waiting' }, use.waiting);
    },
  });
  new Gauge({
    name: 'switchyard_pg_pool_max_connections',
    help: 'The PostgreSQL pool size (SWITCHYARD_PG_POOL_MAX; absent on SQLite)',
    registers: [registry],
    collect() {
      const use = sources.pool();
      if (use !== null) this.set(use.max);
    },
  });
  new Gauge({
    name: 'switchyard_aggregator_backlog_events',
    help: "Stored events the results' summaries do not count yet (both stores' aggregators run behind ingestion)",
    registers: [registry],
    async collect() {
      // A scrape must not fail because the database is briefly away: the gauge is then absent.
      const n = await sources.aggregatorBacklog().catch(() => null);
      if (n !== null) this.set(n);
    },
  });
  return {
    sources,
    jobRuns: new Counter({
      name: 'switchyard_job_runs_total',
      help: 'Background job runs by job and outcome (ok, error: retried with backoff)',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    jobTransitions: new Counter({
      name: 'switchyard_job_transitions_total',
      help: 'Experiment transitions attempted by the scheduler and the safety monitor, by outcome (applied, superseded, failed)',
      labelNames: ['job', 'outcome'],
      registers: [registry],
    }),
    retentionDeleted: new Counter({
      name: 'switchyard_retention_deleted_total',
      help: 'Events deleted by the retention job (older than SWITCHYARD_EVENT_RETENTION_DAYS)',
      registers: [registry],
    }),
  };
}
