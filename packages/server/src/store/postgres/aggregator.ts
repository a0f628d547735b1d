import type { StoredEvent } from '../types';
import { num, type Row } from '../rows';
import { StoreUnavailableError } from '../store-errors';
import { AGGREGATOR_LOCK, LOCK_SPACE } from './locks';
import { applySummaries } from './summary-upkeep';
import type { Queryable, Transaction } from './transaction';

export interface PostgresAggregatorOptions {
  /** How often an idle instance looks for events stored by other instances (default 200 ms). */
  intervalMs?: number;
  /** At most about this many events per slice transaction (default 50,000; whole ingesting transactions). */
  sliceEvents?: number;
  /** How long {@link PostgresAggregator.drain} waits for transactions still running (default 30,000 ms). */
  drainTimeoutMs?: number;
  /** A background slice failed (the database is down); it is retried with backoff. */
  onError?: (err: Error) => void;
}

/** The summaries' upkeep behind ingestion (see {@link postgresAggregator}). */
export interface PostgresAggregator {
  /** Events were stored: summarize them soon. */
  kick(): void;
  /** Resolves once the summaries count every event committed before the call, on any instance. */
  drain(): Promise<void>;
  /** Stored events the summaries do not count yet. */
  backlog(): Promise<number>;
  /** Stops the background loop, waiting for a slice in progress. */
  close(): Promise<void>;
}

/** One slice: how many events it summarized and the cursor after it. */
interface Slice {
  busy: boolean;
  events: number;
  cursor: bigint;
}

const EVENT_COLUMNS = 'id, type, key, unit_id, experiment, variant, value, timestamp, received_at, environment, sent_by';

const toEvent = (r: Row): StoredEvent => ({
  id: r.id as string,
  type: r.type as StoredEvent['type'],
  key: r.key as string,
  unitId: r.unit_id as string,
  experiment: (r.experiment as string | null) ?? null,
  variant: (r.variant as string | null) ?? null,
  value: r.value === null || r.value === undefined ? null : Number(r.value),
  properties: null,
  timestamp: num(r.timestamp),
  receivedAt: num(r.received_at),
  environment: r.environment as string,
  sentBy: (r.sent_by as string | null) ?? null,
});

/**
 * The PostgreSQL aggregator: ingestion only appends events, each row carrying the id of the
 * transaction that stored it (`xid`, an `xid8`); this brings the results' summaries up to date
 * behind it, in slices.
 *
 * The cursor is a transaction id in `event_aggregation`: every event with a smaller `xid` is
 * summarized. Concurrent transactions commit out of order, so a slice never reads past the
 * oldest transaction still running (`pg_snapshot_xmin`): every transaction below it has ended,
 * its rows are all visible and no more can appear there. A slice summarizes the events of
 * `[cursor, upTo)` and moves the cursor in the same transaction, so a crash neither loses nor
 * double-counts an event. It holds a transaction-level advisory lock: instances share the work
 * (an idle instance's background loop skips a slice another instance is running), never doing
 * a range twice.
 *
 * Results call {@link PostgresAggregator.drain} first: every transaction that committed before
 * the call has an id below the snapshot's `xmax` then, so the drain runs slices until the cursor
 * passes it, waiting only for transactions that were in flight at the call.
 *
 * @example
 * ```ts
 * const aggregator = postgresAggregator(tx, q, { onError: (e) => log.warn(e) });
 * await store.insertEventBatches([batch]);
 * aggregator.kick();
 * await aggregator.drain(); // the summaries count the batch
 * ```
 */
export function postgresAggregator(
  tx: Transaction,
  q: (sql: string, params?: unknown[]) => Promise<Row[]>,
  options: PostgresAggregatorOptions = {},
): PostgresAggregator {
  const intervalMs = options.intervalMs ?? 200;
  const sliceEvents = options.sliceEvents ?? 50_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;

  const slice = (wait: boolean): Promise<Slice> =>
    tx(async (c) => {
      if (wait) await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, AGGREGATOR_LOCK]);
      else {
        const { rows } = await c.query('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [LOCK_SPACE, AGGREGATOR_LOCK]);
        if ((rows[0] as Row).ok !== true) return { busy: true, events: 0, cursor: 0n };
      }
      // Before this transaction writes anything (it has no id of its own yet, so it is not in the snapshot).
      const { rows } = await c.query(
        'SELECT xid::text AS cursor, pg_snapshot_xmin(pg_current_snapshot())::text AS horizon FROM event_aggregation WHERE id = 1',
      );
      const cursor = BigInt((rows[0] as Row).cursor as string);
      const horizon = BigInt((rows[0] as Row).horizon as string);
      if (horizon <= cursor) return { busy: false, events: 0, cursor };
      const { upTo, empty } = await sliceEnd(c, cursor, horizon);
      // An idle background slice writes nothing (each write would itself take a transaction id
      // and move the horizon again); a read's slice moves the cursor to tell it is caught up.
      if (empty && !wait) return { busy: false, events: 0, cursor };
      const { rows: stored } = await c.query(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE xid >= $1::xid8 AND xid < $2::xid8
          AND (type = 'track' OR (type = 'exposure' AND experiment IS NOT NULL AND variant IS NOT NULL))
        ORDER BY xid`,
        [cursor.toString(), upTo.toString()],
      );
      const tracks: StoredEvent[] = [];
      const exposures: StoredEvent[] = [];
      for (const r of stored as Row[]) (r.type === 'track' ? tracks : exposures).push(toEvent(r));
      await applySummaries(c, tracks, exposures, upTo.toString());
      await c.query('UPDATE event_aggregation SET xid = $1::xid8 WHERE id = 1', [upTo.toString()]);
      // Counted as read: a slice of events that move no summary still moved the cursor.
      return { busy: false, events: empty ? 0 : Math.max(stored.length, 1), cursor: upTo };
    });

  /** The end of a slice from `cursor`: `horizon`, or earlier to keep it near `sliceEvents` (whole transactions). */
  const sliceEnd = async (c: Queryable, cursor: bigint, horizon: bigint): Promise<{ upTo: bigint; empty: boolean }> => {
    const { rows } = await c.query(
      `SELECT (SELECT xid FROM events WHERE xid >= $1::xid8 AND xid < $2::xid8 ORDER BY xid LIMIT 1)::text AS lo,
        (SELECT xid FROM events WHERE xid >= $1::xid8 AND xid < $2::xid8 ORDER BY xid OFFSET $3 LIMIT 1)::text AS cut`,
      [cursor.toString(), horizon.toString(), sliceEvents],
    );
    const r = rows[0] as Row;
    if (r.lo === null || r.lo === undefined) return { upTo: horizon, empty: true };
    if (r.cut === null || r.cut === undefined) return { upTo: horizon, empty: false };
    const cut = BigInt(r.cut as string);
    // One transaction larger than a slice is still summarized whole.
    return { upTo: cut > BigInt(r.lo as string) ? cut : cut + 1n, empty: false };
  };

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let failures = 0;

  const schedule = (ms: number) => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      running ??= loop().finally(() => {
        running = null;
        schedule(failures > 0 ? Math.min(intervalMs * 2 ** failures, 10_000) : again ? 0 : intervalMs);
        again = false;
      });
    }, ms);
    timer.unref();
  };

  const loop = async (): Promise<void> => {
    try {
      again = false;
      // Until caught up, or another instance is at it (it goes on until caught up itself).
      for (;;) {
        if (closed) return;
        const r = await slice(false);
        if (r.busy || r.events === 0) break;
      }
      failures = 0;
    } catch (e) {
      failures = Math.min(failures + 1, 6);
      options.onError?.(e as Error);
    }
  };

  schedule(0);

  return {
    kick: () => {
      // A slice in progress may have taken its horizon before these events committed.
      if (running !== null) again = true;
      else if (failures === 0) schedule(0);
    },
    drain: async () => {
      // Every transaction that committed before now has an id below xmax.
      const target = BigInt((await q('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x'))[0]!.x as string);
      const deadline = Date.now() + drainTimeoutMs;
      for (let pause = 1; ;) {
        const r = await slice(true);
        if (r.cursor >= target) return;
        if (r.events > 0) continue;
        // Only transactions in flight at the call hold it back now (an ingesting one committing).
        if (Date.now() > deadline)
          throw new StoreUnavailableError(
            `the results' summaries could not catch up in ${drainTimeoutMs} ms: a transaction on the database stays open`,
          );
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, 50);
      }
    },
    backlog: async () =>
      num((await q('SELECT COUNT(*) AS n FROM events WHERE xid >= (SELECT xid FROM event_aggregation WHERE id = 1)'))[0]!.n),
    close: async () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
