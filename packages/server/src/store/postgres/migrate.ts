import type pg from 'pg';
import { num, type Row } from '../rows';
import { PG_MIGRATIONS } from './migrations';
import { LOCK_SPACE, MIGRATION_LOCK } from './locks';
import { translate, typesOf, type PostgresPoolOptions } from './connection';

/**
 * Applies pending migrations at open, on a connection of its own without the pool's statement
 * timeouts (a migration of a large table may run long).
 *
 * @example
 * ```ts
 * await migrateDatabase(driver, 'postgres://switchyard@db:5432/switchyard', { connectionTimeoutMs: 5000 });
 * ```
 */
export async function migrateDatabase(driver: typeof pg, url: string, sizing: Required<PostgresPoolOptions>): Promise<void> {
  const migrator = new driver.Client({
    connectionString: url,
    connectionTimeoutMillis: sizing.connectionTimeoutMs,
    types: typesOf(driver),
  });
  await migrator.connect().catch((e: unknown) => {
    throw translate(e);
  });
  try {
    await migrate(migrator);
  } finally {
    await migrator.end().catch(() => {});
  }
}

/** Applies pending migrations, one transaction each, under a session advisory lock. */
async function migrate(client: pg.Client): Promise<void> {
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_SPACE, MIGRATION_LOCK]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const applied = new Set((await client.query('SELECT id FROM schema_migrations')).rows.map((r: Row) => num(r.id)));
      for (const m of PG_MIGRATIONS) {
        if (applied.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await m.up?.(client);
          await client.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [
            m.id,
            m.name,
            new Date().toISOString(),
          ]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`PostgreSQL migration ${m.id} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
        }
      }
    } finally {
      // The caller closes the connection, which releases the lock if this fails.
      await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_SPACE, MIGRATION_LOCK]).catch(() => {});
    }
  } catch (e) {
    throw translate(e);
  }
}
