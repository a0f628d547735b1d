import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/postgres-store';
import type { StoredEvent } from '../src/store/types';
import { startPostgres, type TestPostgres } from './services';
import { storedEvent as event } from './stored-events';

/**
 * PostgreSQL's append path: a group of batches goes in by `COPY ... FROM STDIN` (text format),
 * and again by `INSERT ... ON CONFLICT DO NOTHING` when it holds an event stored before. What
 * comes out of the table must be exactly what went in, whatever characters the fields hold.
 */

let postgres: TestPostgres;
let url: string;
let store: PostgresStore;
let raw: pg.Client;

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});
beforeEach(async () => {
  url = await postgres.createDatabase();
  store = await openPostgresStore(url);
  raw = new pg.Client({ connectionString: url });
  await raw.connect();
});
afterEach(async () => {
  await raw?.end();
  await store?.close();
});

/** The stored rows, as the store's events (ordered by id). */
async function storedRows(): Promise<StoredEvent[]> {
  const { rows } = await raw.query(
    `SELECT id, type, key, unit_id, experiment, variant, value, properties, timestamp::text AS ts, received_at::text AS ra, environment, sent_by
     FROM events ORDER BY id`,
  );
  return rows.map((r: Record<string, unknown>) => ({
    environment: r.environment as string,
    id: r.id as string,
    type: r.type as StoredEvent['type'],
    key: r.key as string,
    unitId: r.unit_id as string,
    experiment: r.experiment as string | null,
    variant: r.variant as string | null,
    value: r.value as number | null,
    properties: r.properties === null ? null : (JSON.parse(r.properties as string) as Record<string, unknown>),
    timestamp: Number(r.ts),
    receivedAt: Number(r.ra),
    sentBy: r.sent_by as string | null,
  }));
}

/** Field text COPY's text format gives a meaning to, and text it does not. */
const AWKWARD = [
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  'back\\slash',
  '\\N',
  '\\',
  "quote\"s and 'apostrophes'",
  'ünïcødé 日本 🚀',
  ' ',
  '{"a":1}',
  'NULL',
];

describe('PostgreSQL event append', () => {
  it('stores every field exactly as given, whatever characters it holds (COPY text escaping)', async () => {
    const events: StoredEvent[] = AWKWARD.flatMap((s, i) => [
      event(`t${String(i).padStart(2, '0')}-${s}`, {
        key: `k-${s}`,
        unitId: s,
        value: [null, 0, -0.5, 1e-7, 123456.789, 2 ** 53 - 1][i % 6]!,
        properties: i % 2 === 0 ? null : { note: s, nested: { list: [s, 1, null, true] }, [s]: 'key too' },
        timestamp: 1_733_000_000_000 + i,
        receivedAt: 1_733_000_000_500 + i,
        sentBy: i % 3 === 0 ? null : `key-${s}`,
      }),
      event(`x${String(i).padStart(2, '0')}-${s}`, {
        type: 'exposure',
        key: `flag-${s}`,
        unitId: `u-${s}`,
        experiment: `exp-${s}`,
        variant: s,
        environment: i % 2 === 0 ? 'production' : 'staging',
      }),
    ]);
    expect(await store.insertEventBatches([events])).toEqual([{ accepted: events.length, duplicates: 0 }]);
    const expected = [...events].sort((a, b) => (a.id < b.id ? -1 : 1)).map((e) => ({ ...e, sentBy: e.sentBy ?? null }));
    expect(await storedRows()).toEqual(expected);
  });

  it('a group holding one resent event stores every new one of every batch once, in one transaction', async () => {
    await store.insertEventBatches([[event('old-1', { unitId: 'a\tb' })]]);
    const fresh = Array.from({ length: 1200 }, (_, i) => event(`new-${String(i).padStart(4, '0')}`, { unitId: `u\\${i % 7}` }));
    const results = await store.insertEventBatches([fresh.slice(0, 700), [event('old-1'), ...fresh.slice(700)], [fresh[3]!]]);
    expect(results).toEqual([
      { accepted: 700, duplicates: 0 },
      { accepted: 500, duplicates: 1 },
      { accepted: 0, duplicates: 1 },
    ]);
    const rows = await storedRows();
    expect(rows).toHaveLength(1201);
    // The resent one kept what was stored first.
    expect(rows.find((r) => r.id === 'old-1')?.unitId).toBe('a\tb');
    // The new events of the group were stored by one transaction (the retry), not split over two.
    const { rows: xids } = await raw.query(`SELECT COUNT(DISTINCT xid)::int AS n FROM events WHERE id LIKE 'new-%'`);
    expect(xids[0].n).toBe(1);
  });

  it('a group with no stored event goes in by one transaction that stores all of it', async () => {
    const batches = [0, 1, 2].map((b) =>
      Array.from({ length: 3000 }, (_, i) => event(`g${b}-${String(i).padStart(4, '0')}`, { unitId: `u${i}` })),
    );
    expect(await store.insertEventBatches(batches)).toEqual(batches.map(() => ({ accepted: 3000, duplicates: 0 })));
    const { rows } = await raw.query('SELECT COUNT(*)::int AS n, COUNT(DISTINCT xid)::int AS x FROM events');
    expect(rows[0]).toEqual({ n: 9000, x: 1 });
  });
});
