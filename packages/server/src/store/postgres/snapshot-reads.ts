import type pg from 'pg';
import type { Row } from '../rows';
import { checkout, translate } from './connection';

/**
 * Reads that share a snapshot: queries issued in the same tick (as `ConfigState.load()` issues
 * `allResources()` and `configVersion()`) run one after another in one REPEATABLE READ READ ONLY
 * transaction, so a reload never pairs a config version with resources from before or after it.
 * The transaction commits once every query of the tick has settled.
 *
 * @example
 * ```ts
 * const read = snapshotReader(pool);
 * const [rows, version] = await Promise.all([read('SELECT * FROM resources', []), read('SELECT MAX(version) AS v FROM config_log', [])]);
 * ```
 */
export function snapshotReader(pool: pg.Pool): (sql: string, params: unknown[]) => Promise<Row[]> {
  let snapshot: { client: Promise<pg.PoolClient>; pending: Promise<unknown>[]; tail: Promise<unknown> } | null = null;
  return (sql: string, params: unknown[]): Promise<Row[]> => {
    let s = snapshot;
    if (s === null) {
      const client = (async () => {
        const c = await checkout(pool);
        try {
          await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        } catch (e) {
          c.release(e as Error);
          throw translate(e);
        }
        return c;
      })();
      const created = { client, pending: [] as Promise<unknown>[], tail: client as Promise<unknown> };
      s = created;
      snapshot = created;
      setImmediate(() => {
        snapshot = null;
        void Promise.allSettled(created.pending).then(async () => {
          let c: pg.PoolClient;
          try {
            c = await created.client;
          } catch {
            return;
          }
          try {
            await c.query('COMMIT');
            c.release();
          } catch (e) {
            c.release(e as Error);
          }
        });
      });
    }
    // One query at a time on the connection: each waits for the previous one.
    const client = s.client;
    const result = s.tail
      .then(() => client)
      .then((c) => c.query(sql, params))
      .then(
        (r) => r.rows as Row[],
        (e: unknown) => {
          throw translate(e);
        },
      );
    const settled = result.catch(() => {});
    s.tail = settled;
    s.pending.push(settled);
    return result;
  };
}
