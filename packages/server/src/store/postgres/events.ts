import type { StoredEvent } from '../types';
import type { Row } from '../rows';
import type { Queryable, Transaction } from './transaction';

/**
 * Rows per statement. The events go in as one array per column (`unnest`), so a statement has
 * 12 parameters whatever its size: PostgreSQL parses and plans one short statement instead of
 * a 12,000-placeholder VALUES list.
 */
const EVENT_CHUNK = 5000;

/** One chunk of events, inserted; resolves to the ids that were new (`null`: all of them). */
async function insertChunk(c: Queryable, chunk: StoredEvent[]): Promise<string[] | null> {
  const ids = chunk.map((e) => e.id);
  const r = await c.query(
    `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment, sent_by)
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

/**
 * Event ingestion on PostgreSQL: `insertEventBatches()` is one transaction per group of batches
 * (see EventWriter) that only appends: the events of every batch in one `INSERT ... SELECT FROM
 * unnest(...) ON CONFLICT (id) DO NOTHING` per 5,000 rows. Each row records the
 * inserting transaction's id (the `xid` column's default); the aggregator (aggregator.ts)
 * summarizes the rows behind ingestion by that id, so ingesting transactions share no lock.
 *
 * @example
 * ```ts
 * const events = postgresEventWrites(tx);
 * const [{ accepted, duplicates }] = await events.insertEventBatches([batch]);
 * ```
 */
export function postgresEventWrites(tx: Transaction) {
  const insertEventBatches = (batches: StoredEvent[][]): Promise<{ accepted: number; duplicates: number }[]> =>
    tx(async (c) => {
      const results: { accepted: number; duplicates: number }[] = [];
      // Repeats inside a batch count as duplicates, as in SQLite (the first occurrence wins);
      // the same id in two batches of one group is stored once, for the first batch.
      const firstOf = new Map<string, number>();
      const unique: StoredEvent[] = [];
      batches.forEach((batch, b) => {
        for (const e of batch)
          if (!firstOf.has(e.id)) {
            firstOf.set(e.id, b);
            unique.push(e);
          }
      });
      // A stable order of ids keeps two instances inserting overlapping batches from deadlocking;
      // UUIDv7 ids sort by time, so the rows land at the right edge of the id index.
      unique.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const inserted = new Set<string>();
      for (let i = 0; i < unique.length; i += EVENT_CHUNK) {
        const chunk = unique.slice(i, i + EVENT_CHUNK);
        for (const id of (await insertChunk(c, chunk)) ?? chunk.map((e) => e.id)) inserted.add(id);
      }
      batches.forEach((batch, b) => {
        let accepted = 0;
        for (const e of batch) {
          // Only a new event is stored (and summarized later); a resent one is a duplicate.
          if (firstOf.get(e.id) !== b || !inserted.delete(e.id)) continue;
          accepted++;
        }
        results.push({ accepted, duplicates: batch.length - accepted });
      });
      return results;
    });

  return { insertEventBatches };
}
