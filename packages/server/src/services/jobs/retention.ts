import type { ServerContext } from '../context';
import type { JobRunner } from './job-runner';

const DAY_MS = 24 * 60 * 60 * 1000;

/** What one retention pass did. */
export interface RetentionOutcome {
  deleted: number;
  /** Transactions it took (each deleting at most `SWITCHYARD_RETENTION_CHUNK` events). */
  chunks: number;
  /** The pass was stopped (server closing) before it was done; the next one goes on. */
  stopped: boolean;
}

/**
 * Registers the retention job: deletes events older than the retention window
 * (`SWITCHYARD_EVENT_RETENTION_DAYS`, default 90) when this instance starts leading and then every
 * `SWITCHYARD_RETENTION_INTERVAL_MS` (default hourly); a failed pass is retried with backoff by
 * the job runner, and closing the server stops a pass between two transactions.
 *
 * @example
 * ```ts
 * startRetention(ctx, jobs); // on the leader: a pass now, then every interval
 * ```
 */
export function startRetention(ctx: ServerContext, jobs: JobRunner): void {
  jobs.register({
    name: 'retention',
    intervalMs: ctx.options.retentionIntervalMs,
    run: async (stopping) => {
      await runRetention(ctx, { signal: stopping });
    },
  });
}

/**
 * Runs one retention pass now (the job's, also for tests and operators): in transactions of at
 * most `SWITCHYARD_RETENTION_CHUNK` events, counted in `switchyard_retention_deleted_total`
 * as they go, and logged once at the end.
 *
 * @example
 * ```ts
 * const { deleted, chunks } = await runRetention(ctx);
 * ```
 */
export async function runRetention(
  ctx: ServerContext,
  pass: { signal?: AbortSignal; onChunk?: (deleted: number) => void } = {},
): Promise<RetentionOutcome> {
  const cutoff = ctx.now() - ctx.options.eventRetentionDays * DAY_MS;
  const counter = ctx.metrics.operations.retentionDeleted;
  const started = performance.now();
  let chunks = 0;
  const deleted = await ctx.store.deleteEventsBefore(cutoff, {
    chunk: ctx.options.retentionChunk,
    ...(pass.signal !== undefined ? { signal: pass.signal } : {}),
    onChunk: (n) => {
      chunks++;
      counter.inc(n);
      pass.onChunk?.(n);
    },
  });
  const stopped = pass.signal?.aborted === true;
  if (deleted > 0 || stopped) {
    ctx.logger.info(
      { deleted, chunks, stopped, cutoff: new Date(cutoff).toISOString(), duration_ms: Math.round(performance.now() - started) },
      stopped ? 'retention: pass stopped (server closing); the next pass goes on' : 'retention: old events deleted',
    );
  }
  return { deleted, chunks, stopped };
}
