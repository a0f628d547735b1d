import type { StoredEvent } from '../types';
import type { Row } from '../rows';
import { isUniqueViolation } from '../store-errors';
import { CopyIn, copyField } from './copy-in';
import { retryable, type Queryable, type Transaction } from './transaction';

/** Columns of an event row, in the order of {@link copyRow} and of the `unnest` arrays. */
const COLUMNS = 'id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment, sent_by';

/**
 * Rows per `unnest` statement (the path for groups with resent events). The events go in as one
 * array per column, so a statement has 12 parameters whatever its size: PostgreSQL parses and
 * plans one short statement instead of a 12,000-placeholder VALUES list.
 */
const EVENT_CHUNK = 5000;

/** Rows per CopyData message of a COPY (about 1 MiB). */
const COPY_CHUNK = 5000;

/** One event as a line of COPY's text format, columns as {@link COLUMNS}. */
function copyRow(e: StoredEvent): string {
  const properties = e.properties === null ? null : JSON.stringify(e.properties);
  return `${copyField(e.id)}\t${copyField(e.type)}\t${copyField(e.key)}\t${copyField(e.unitId)}\t${copyField(e.experiment)}\t${copyField(
    e.variant,
  )}\t${copyField(e.value)}\t${copyField(properties)}\t${copyField(e.timestamp)}\t${copyField(e.receivedAt)}\t${copyField(
    e.environment,
  )}\t${copyField(e.sentBy ?? null)}\n`;
}

/**
 * Every event of the group, appended by COPY (the fast path: no event of the group is stored yet).
 * COPY appends whole pages at a time (one WAL record per page of rows, not one per row) and
 * parses plain text instead of 12 arrays. It runs as a statement of its own, outside a
 * transaction block: one statement is one transaction, committed before its answer, so the group
 * costs one exchange with the server instead of three (BEGIN, COPY, COMMIT). A resent id fails it
 * with a unique violation, which stores nothing of it: the caller then takes
 * {@link insertSkippingStored} in a transaction.
 */
async function copyAll(c: Queryable, events: StoredEvent[]): Promise<void> {
  const chunks: string[] = [];
  for (let i = 0; i < events.length; i += COPY_CHUNK) {
    let text = '';
    for (let j = i; j < Math.min(i + COPY_CHUNK, events.length); j++) text += copyRow(events[j]!);
    chunks.push(text);
  }
  const copy = new CopyIn(`COPY events (${COLUMNS}) FROM STDIN`, chunks);
  void c.query(copy);
  const { rowCount } = await copy.done;
  if (rowCount !== events.length) throw new Error(`COPY stored ${rowCount} of ${events.length} events`);
}

/** One chunk of events, inserted unless stored already; resolves to the ids that were new (`null`: all of them). */
async function insertChunk(c: Queryable, chunk: StoredEvent[]): Promise<string[] | null> {
  const ids = chunk.map((e) => e.id);
  const r = await c.query(
    `INSERT INTO events (${COLUMNS})
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[],
      $9::bigint[], $10::bigint[], $11::text[], $12::text[])
    ON CONFLICT (id) DO NOTHING`,
    [
      ids,
      chunk.map((e) => e.type),
      chunk.map((e) => e.key),
      chunk.map((e) => e.unitId),
      chunk.map((e) => e.experiment),
      chunk.map((e) => e.variant),
      chunk.map((e) => e.value),
      chunk.map((e) => (e.properties === null ? null : JSON.stringify(e.properties))),
      chunk.map((e) => e.timestamp),
      chunk.map((e) => e.receivedAt),
      chunk.map((e) => e.environment),
      chunk.map((e) => e.sentBy ?? null),
    ],
  );
  // Usually every event is new: no ids come back (RETURNING would send them all). With resent
  // ones among them, the new rows are those this transaction stored (its id is in their xid).
  if (r.rowCount === chunk.length) return null;
  const { rows } = await c.query('SELECT id FROM events WHERE id = ANY($1::text[]) AND xid = pg_current_xact_id()', [ids]);
  return (rows as Row[]).map((row) => row.id as string);
}

/** The group's events, each stored unless it is already (`ON CONFLICT DO NOTHING`); resolves to the ids stored. */
async function insertSkippingStored(c: Queryable, events: StoredEvent[]): Promise<Set<string>> {
  const inserted = new Set<string>();
  for (let i = 0; i < events.length; i += EVENT_CHUNK) {
    const chunk = events.slice(i, i + EVENT_CHUNK);
    for (const id of (await insertChunk(c, chunk)) ?? chunk.map((e) => e.id)) inserted.add(id);
  }
  return inserted;
}

/**
 * Event ingestion on PostgreSQL: `insertEventBatches()` appends a group of batches (see
 * EventWriter) by one transaction that only appends: one `COPY events FROM STDIN` of all their
 * events, in id order, as a statement of its own (`statement`: no BEGIN or COMMIT around it).
 * When the group holds an event stored before (a resent batch), the COPY fails on the id's
 * unique index and stores nothing, and the group goes in again, in a transaction (`tx`), by
 * `INSERT ... SELECT FROM unnest(...) ON CONFLICT (id) DO NOTHING`, which stores only the new
 * ones: resending costs a second transaction, the usual all-new group pays for no conflict
 * check of its own. Each row records the inserting transaction's id (the `xid` column's
 * default); the aggregator (aggregator.ts) summarizes the rows behind ingestion by that id, so
 * ingesting transactions share no lock.
 *
 * @example
 * ```ts
 * const events = postgresEventWrites(transactionRunner(pool), autocommitRunner(pool));
 * const [{ accepted, duplicates }] = await events.insertEventBatches([batch]);
 * ```
 */
export function postgresEventWrites(tx: Transaction, statement: Transaction) {
  const insertEventBatches = async (batches: StoredEvent[][]): Promise<{ accepted: number; duplicates: number }[]> => {
    // Repeats inside a batch count as duplicates, as in SQLite (the first occurrence wins);
    // the same id in two batches of one group is stored once, for the first batch.
    const seen = new Set<string>();
    const unique: StoredEvent[] = [];
    /** Per batch, its events that are the first of their id (taken before `unique` is sorted). */
    const firsts = batches.map((batch) => {
      const before = unique.length;
      for (const e of batch)
        if (!seen.has(e.id)) {
          seen.add(e.id);
          unique.push(e);
        }
      return unique.slice(before);
    });
    // A stable order of ids keeps two instances inserting overlapping batches from deadlocking;
    // UUIDv7 ids sort by time, so the rows land at the right edge of the id index.
    unique.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // The ids stored by this call; `null`: all of `unique`.
    let inserted: Set<string> | null = null;
    try {
      await statement((c) => copyAll(c, unique));
    } catch (e) {
      // Some event was stored before (an SDK resending a batch whose answer it missed), or a
      // deadlock: nothing of the COPY stays; the whole group again, skipping what is stored.
      if (!isUniqueViolation(e) && !retryable(e)) throw e;
      inserted = await tx((c) => insertSkippingStored(c, unique));
    }
    // Only a new event is stored (and summarized later); a resent one is a duplicate.
    return batches.map((batch, b) => {
      const stored = inserted;
      const accepted = stored === null ? firsts[b]!.length : firsts[b]!.filter((e) => stored.has(e.id)).length;
      return { accepted, duplicates: batch.length - accepted };
    });
  };

  return { insertEventBatches };
}
