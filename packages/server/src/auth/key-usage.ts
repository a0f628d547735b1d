import type { Logger } from 'pino';
import type { ApiKeyRow } from '../store/types';
import { commitMutation, systemOrigin, type ServerContext } from '../services/context';

const HOUR_MS = 3_600_000;

interface Tally {
  key: Pick<ApiKeyRow, 'id' | 'name' | 'kind' | 'environment'>;
  requests: number;
}

/**
 * Requests per API key per hour, counted in memory and written once per key and hour as an
 * `api-key.usage` audit record (`after: {hour_start, requests}`), never a write per request.
 * Each instance writes its own records (several instances: several records per key and hour).
 * Written when the hour is over (checked on use and every few minutes) and when the server stops.
 *
 * @example
 * ```ts
 * const usage = new KeyUsage(ctx);
 * usage.record(key, Date.now());
 * await usage.flush(); // at shutdown
 * ```
 */
export class KeyUsage {
  private hour: number | null = null;
  private tallies = new Map<string, Tally>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: ServerContext,
    private readonly logger?: Logger,
  ) {}

  /** Counts one request made with `key` at `now`. */
  record(key: Tally['key'], now: number): void {
    const hour = Math.floor(now / HOUR_MS);
    if (this.hour !== null && hour !== this.hour) void this.flush();
    this.hour = hour;
    const t = this.tallies.get(key.id);
    if (t === undefined)
      this.tallies.set(key.id, { key: { id: key.id, name: key.name, kind: key.kind, environment: key.environment }, requests: 1 });
    else t.requests++;
  }

  /** Writes the counts of a finished hour (all counts with `force`, at shutdown). */
  flush(force = false): Promise<void> {
    const hour = this.hour;
    if (hour === null || this.tallies.size === 0) return this.writing;
    if (!force && Math.floor(this.ctx.now() / HOUR_MS) === hour) return this.writing;
    const tallies = [...this.tallies.values()];
    this.tallies = new Map();
    const hourStart = new Date(hour * HOUR_MS).toISOString();
    this.writing = this.writing.then(async () => {
      for (const t of tallies) {
        await commitMutation(this.ctx, systemOrigin(t.key.environment ?? this.ctx.options.defaultEnvironment), {
          writes: [],
          audit: {
            action: 'api-key.usage',
            resourceType: 'api-key',
            resourceId: t.key.id,
            resourceKey: t.key.name,
            environment: t.key.environment,
            before: null,
            after: { hour_start: hourStart, requests: t.requests, kind: t.key.kind },
          },
        }).catch((err: unknown) => this.logger?.warn({ err, key: t.key.id }, 'could not record API key usage'));
      }
    });
    return this.writing;
  }

  /** Checks every `everyMs` whether the hour is over, so an idle instance writes its counts too. */
  start(everyMs = 5 * 60_000): void {
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is counted. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush(true);
  }
}
