import { num, type Row } from '../rows';
import { AGGREGATOR_LOCK, LOCK_SPACE } from './locks';
import { applySummaries, type SummaryExposure } from './summary-upkeep';
import type { Queryable, Transaction } from './transaction';

export interface PostgresAggregatorOptions {
  /** How often an idle instance looks for events stored by other instances (default 200 ms). */
  intervalMs?: number;
  /** At most about this many events per slice transaction (default 50,000; whole ingesting transactions). */
  sliceEvents?: number;
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

/** One slice: how many events it summarized and the cursor's `xmax` after it. */
interface Slice {
  busy: boolean;
  events: number;
  cursor: bigint;
}

/** Events of [$1, $2) and of the transactions in $3, but none of a transaction in $4 (running at the slice's snapshot). */
const PENDING = '((xid >= $1::xid8 AND xid < $2::xid8) OR xid = ANY($3::xid8[])) AND xid <> ALL($4::xid8[])';

/**
 * The slice's exposures that can count, as arrays (node-postgres' `rowMode: 'array'`: no object
 * per row), only the columns the summaries use; in the order they were stored.
 */
const EXPOSURES = `SELECT environment, experiment, variant, unit_id, timestamp, sent_by FROM events
  WHERE ${PENDING} AND type = 'exposure' AND experiment IS NOT NULL AND variant IS NOT NULL ORDER BY xid`;

const toExposure = (r: unknown[]): SummaryExposure => ({
  environment: r[0] as string,
  experiment: r[1] as string,
  variant: r[2] as string,
  unitId: r[3] as string,
  timestamp: num(r[4]),
  sentBy: (r[5] as string | null) ?? null,
});

/**
 * The PostgreSQL aggregator: ingestion only appends events, each row carrying the id of the
 * transaction that stored it (`xid`, an `xid8`); this brings the results' summaries up to date
 * behind it, in slices.
 *
 * The cursor in `event_aggregation` is a snapshot's bounds: `xid` (its `xmax`) and `xip` (the
 * transactions in progress then, below `xmax`). The summaries count exactly the events whose
 * `xid` is below `xid` and not in `xip`. Each slice takes the current snapshot and reads the
 * events of the transactions that have ended since the cursor's snapshot: those of `xip` that
 * are no longer running, and those from the cursor's `xmax` up to the snapshot's, leaving out
 * the ones still running. A transaction below a snapshot's `xmax` and not in its `xip` has
 * ended, so its rows are all there and no more appear (PostgreSQL's own MVCC rule). The new
 * cursor is the snapshot's `xmax` with the transactions still running: a transaction left open
 * anywhere on the server (ingesting or not) holds nothing back, and an ingesting one that commits
 * later is read then, once. A slice summarizes and moves the cursor in the same transaction, so a
 * crash neither loses nor double-counts an event. It holds a transaction-level advisory lock:
 * instances share the work (an idle instance's background loop skips a slice another instance is
 * running), never doing a transaction's events twice.
 *
 * Results call {@link PostgresAggregator.drain} first: every transaction that committed before
 * the call has an id below the snapshot's `xmax` then and is not running at any later snapshot,
 * so the drain runs slices until the cursor's `xmax` reaches it (one slice, unless a backlog is
 * larger than a slice) and waits for no transaction.
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

  const slice = (wait: boolean): Promise<Slice> =>
    tx(async (c) => {
      if (wait) await c.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, AGGREGATOR_LOCK]);
      else {
        const { rows } = await c.query('SELECT pg_try_advisory_xact_lock($1, $2) AS ok', [LOCK_SPACE, AGGREGATOR_LOCK]);
        if ((rows[0] as Row).ok !== true) return { busy: true, events: 0, cursor: 0n };
      }
      // Before this transaction writes anything (it has no id of its own yet, so it is not in the snapshot).
      const { rows } = await c.query(
        `SELECT a.xid::text AS cursor, a.xip::text[] AS pending, pg_snapshot_xmax(s)::text AS horizon,
          ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x) AS running
        FROM event_aggregation a, pg_current_snapshot() AS s WHERE a.id = 1`,
      );
      const r = rows[0] as Row;
      const cursor = BigInt(r.cursor as string);
      const horizon = BigInt(r.horizon as string);
      const running = r.running as string[];
      // Transactions the cursor left out that have ended since (committed or rolled back).
      const ended = (r.pending as string[]).filter((x) => !running.includes(x));
      if (horizon <= cursor && ended.length === 0) return { busy: false, events: 0, cursor };
      const bounds = [cursor.toString(), horizon.toString(), ended, running];
      const { upTo, empty } = await sliceEnd(c, bounds);
      // An idle background slice writes nothing (each write would itself take a transaction id
      // and move the horizon again); a read's slice moves the cursor to tell it is caught up.
      if (empty && !wait) return { busy: false, events: 0, cursor };
      bounds[1] = upTo.toString();
      const { rows: stored } = await c.query<unknown[]>({ text: EXPOSURES, values: bounds, rowMode: 'array' });
      // Still running below the new xmax: read when they have ended.
      const still = running.filter((x) => BigInt(x) < upTo);
      // The tracks are summarized in the database, by the same condition (see applySummaries).
      await applySummaries(c, { where: PENDING, params: bounds }, stored.map(toExposure), { xmax: upTo.toString(), xip: still });
      await c.query('UPDATE event_aggregation SET xid = $1::xid8, xip = $2::xid8[] WHERE id = 1', [upTo.toString(), still]);
      // Counted as read: a slice of events that move no summary still moved the cursor.
      return { busy: false, events: empty ? 0 : Math.max(stored.length, 1), cursor: upTo };
    });

  /**
   * The end of a slice: the snapshot's `xmax`, or earlier to keep it near `sliceEvents` (whole
   * transactions; the ended transactions of the cursor's `xip` are read whatever their size).
   */
  const sliceEnd = async (c: Queryable, bounds: unknown[]): Promise<{ upTo: bigint; empty: boolean }> => {
    const horizon = BigInt(bounds[1] as string);
    const range = 'xid >= $1::xid8 AND xid < $2::xid8 AND xid <> ALL($4::xid8[])';
    const { rows } = await c.query(
      `SELECT (SELECT xid FROM events WHERE ${range} ORDER BY xid LIMIT 1)::text AS lo,
        (SELECT xid FROM events WHERE ${range} ORDER BY xid OFFSET $5 LIMIT 1)::text AS cut,
        EXISTS (SELECT 1 FROM events WHERE xid = ANY($3::xid8[])) AS late`,
      [...bounds, sliceEvents],
    );
    const r = rows[0] as Row;
    if (r.lo === null || r.lo === undefined) return { upTo: horizon, empty: r.late !== true };
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
      // Every transaction that committed before now has an id below xmax and is not running later.
      const target = BigInt((await q('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x'))[0]!.x as string);
      // Each slice reaches the xmax of its own snapshot (no earlier than target) unless it was cut
      // to its size, and a cut slice read events: this ends.
      for (;;) if ((await slice(true)).cursor >= target) return;
    },
    backlog: async () =>
      num(
        (
          await q(
            `SELECT (SELECT COUNT(*) FROM events WHERE xid >= (SELECT xid FROM event_aggregation WHERE id = 1))
              + (SELECT COUNT(*) FROM events WHERE xid = ANY((SELECT xip FROM event_aggregation WHERE id = 1)::xid8[])) AS n`,
          )
        )[0]!.n,
      ),
    close: async () => {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
