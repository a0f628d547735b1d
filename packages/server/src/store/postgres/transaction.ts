import type pg from 'pg';
import { isPostgresUnavailable } from '../store-errors';
import { checkout, translate } from './connection';

/** What a statement runs on: a pooled connection inside a transaction. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Runs `fn` in one transaction; see {@link transactionRunner}. */
export type Transaction = <T>(fn: (c: Queryable) => Promise<T>) => Promise<T>;

/** Deadlock or serialization failure: the transaction can simply run again. */
export const retryable = (e: unknown): boolean => {
  const code = (e as { code?: string } | null)?.code;
  return code === '40P01' || code === '40001';
};

/**
 * Transactions on `pool`: `fn` runs between BEGIN and COMMIT on one connection, and runs again
 * (up to 4 times) on a deadlock or serialization failure. A connection that timed out or
 * dropped is discarded instead of rolled back.
 *
 * @example
 * ```ts
 * const tx = transactionRunner(pool);
 * await tx((c) => c.query('UPDATE settings SET value = $1 WHERE key = $2', ['on', 'k']));
 * ```
 */
export function transactionRunner(pool: pg.Pool): Transaction {
  return async <T>(fn: (c: Queryable) => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const client = await checkout(pool);
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        if (isPostgresUnavailable(e)) {
          // A timed-out or dropped connection cannot roll back (the server does when it notices): discard it.
          broken = e as Error;
          throw translate(e);
        }
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
        if (attempt < 4 && retryable(e)) continue;
        throw translate(e);
      } finally {
        client.release(broken);
      }
    }
  };
}

/**
 * Statements on `pool` outside a transaction block: each statement `fn` runs is a transaction of
 * its own, committed before its answer arrives (one round trip instead of BEGIN, the statement
 * and COMMIT). A connection that timed out or dropped is discarded; after any other error it
 * is as good as before (there is no transaction to roll back).
 *
 * @example
 * ```ts
 * const statement = autocommitRunner(pool);
 * await statement((c) => c.query('UPDATE settings SET value = $1 WHERE key = $2', ['on', 'k']));
 * ```
 */
export function autocommitRunner(pool: pg.Pool): Transaction {
  return async <T>(fn: (c: Queryable) => Promise<T>): Promise<T> => {
    const client = await checkout(pool);
    let broken: Error | undefined;
    try {
      return await fn(client);
    } catch (e) {
      if (isPostgresUnavailable(e)) broken = e as Error;
      throw translate(e);
    } finally {
      client.release(broken);
    }
  };
}
