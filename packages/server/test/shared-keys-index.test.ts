import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

/**
 * Flags and experiments share one key namespace across environments, enforced by an insert
 * trigger that looks the key up in every environment. Without an index on (ns, key) that lookup
 * scanned every flag, so each create cost O(flags) and a bulk import O(flags^2). These tests check
 * the mechanism (the lookup's plan), not a duration.
 */
const LOOKUP = "SELECT 1 FROM resources WHERE ns = 'flag' AND key = $1 AND (kind = 'flag' OR $2 = 'flag')";

describe('the shared flag/experiment key lookup is indexed', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  it('SQLite: the trigger lookup searches an index instead of scanning the flags', async () => {
    const t = await startTestServer();
    try {
      const db = new Database(t.dbPath, { readonly: true });
      try {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${LOOKUP.replace('$1', '?').replace('$2', '?')}`).all('some-flag', 'flag') as {
          detail: string;
        }[];
        expect(plan.map((p) => p.detail).join('; ')).toMatch(
          /SEARCH resources USING (COVERING )?INDEX resources_ns_key \(ns=\? AND key=\?\)/,
        );
      } finally {
        db.close();
      }
    } finally {
      await t.stop();
    }
  });

  it('PostgreSQL: the lookup uses the (ns, key) index', async () => {
    const url = await postgres.createDatabase();
    const t = await startTestServer({ databaseUrl: url });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // A small table is cheaper to scan; forbid that so the plan shows which index can serve it.
      await client.query('SET enable_seqscan = off');
      const plan = await client.query(`EXPLAIN ${LOOKUP}`, ['some-flag', 'flag']);
      expect(plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')).toMatch(/resources_ns_key/);
    } finally {
      await client.end();
      await t.stop();
    }
  });
});
