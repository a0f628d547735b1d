import type { ServerContext } from './context';

const HOUR_MS = 60 * 60 * 1000;

/**
 * Deletes events older than the retention window (`SWITCHYARD_EVENT_RETENTION_DAYS`, default
 * 90) at start and then hourly. Returns a function that stops it.
 */
export function startRetention(ctx: ServerContext): () => void {
  const run = async () => {
    const cutoff = ctx.now() - ctx.options.eventRetentionDays * 24 * HOUR_MS;
    try {
      const deleted = await ctx.store.deleteEventsBefore(cutoff);
      if (deleted > 0) ctx.logger.info({ deleted, cutoff: new Date(cutoff).toISOString() }, 'retention: old events deleted');
    } catch (err) {
      ctx.logger.error({ err }, 'retention job failed');
    }
  };
  void run();
  const timer = setInterval(() => void run(), HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Runs one retention pass now (for tests and operators); resolves to the number deleted. */
export async function runRetention(ctx: ServerContext): Promise<number> {
  return ctx.store.deleteEventsBefore(ctx.now() - ctx.options.eventRetentionDays * 24 * HOUR_MS);
}
