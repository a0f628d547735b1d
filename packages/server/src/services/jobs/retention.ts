import type { ServerContext } from '../context';
import type { JobRunner } from './job-runner';

const HOUR_MS = 60 * 60 * 1000;

/**
 * Registers the retention job: deletes events older than the retention window
 * (`SWITCHYARD_EVENT_RETENTION_DAYS`, default 90) when this instance starts leading and then
 * hourly; a failed pass is retried with backoff by the job runner.
 */
export function startRetention(ctx: ServerContext, jobs: JobRunner): void {
  jobs.register({
    name: 'retention',
    intervalMs: HOUR_MS,
    run: async () => {
      const cutoff = ctx.now() - ctx.options.eventRetentionDays * 24 * HOUR_MS;
      const deleted = await ctx.store.deleteEventsBefore(cutoff);
      if (deleted > 0) ctx.logger.info({ deleted, cutoff: new Date(cutoff).toISOString() }, 'retention: old events deleted');
    },
  });
}

/** Runs one retention pass now (for tests and operators); resolves to the number deleted. */
export async function runRetention(ctx: ServerContext): Promise<number> {
  return ctx.store.deleteEventsBefore(ctx.now() - ctx.options.eventRetentionDays * 24 * HOUR_MS);
}
