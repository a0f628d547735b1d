import type Database from 'better-sqlite3';

/**
 * One numbered SQLite migration. `up` runs after `sql`, in the same transaction, for changes
 * SQL cannot express well (rewriting JSON documents).
 *
 * @example
 * ```ts
 * const m: SqliteMigration = { id: 7, name: 'user token versions', sql: 'ALTER TABLE users ADD COLUMN token_version INTEGER' };
 * ```
 */
export interface SqliteMigration {
  id: number;
  name: string;
  sql: string;
  up?: (db: Database.Database) => void;
}
