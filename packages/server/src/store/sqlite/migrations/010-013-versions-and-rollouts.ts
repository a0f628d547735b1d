import type { SqliteMigration } from './migration';

/** Migrations 10-13: row versions, metric allowlists, guarded rollouts and the shared key index. Released: never edit, add the next number. */
export const VERSION_AND_ROLLOUT_MIGRATIONS: readonly SqliteMigration[] = [
  {
    id: 10,
    name: 'row versions',
    // Optimistic concurrency: each change is a compare-and-set on the version it was made from.
    // Rows stored before start at 1.
    sql: `
ALTER TABLE resources ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE api_keys ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
`,
  },
  {
    id: 11,
    name: 'metric allowlists of API keys',
    // A public client key may be limited to the metric keys it is meant to send (JSON array; NULL = any).
    sql: `ALTER TABLE api_keys ADD COLUMN allowed_metrics TEXT;`,
  },
  {
    id: 12,
    name: 'guarded rollouts',
    // Rollouts are resources of their own kind (own key namespace, one environment each). SQLite
    // cannot change a CHECK constraint in place: the table is rebuilt as in 6, with its index and trigger.
    sql: `
CREATE TABLE resources_v12 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('flag','segment','experiment','environment','rollout')),
  ns TEXT NOT NULL,
  environment TEXT NOT NULL DEFAULT '',
  key TEXT NOT NULL,
  owner_id TEXT,
  status TEXT,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (ns, environment, key)
);
INSERT INTO resources_v12 (seq, id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at, version)
  SELECT seq, id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at, version FROM resources ORDER BY seq;
DROP TABLE resources;
ALTER TABLE resources_v12 RENAME TO resources;
CREATE INDEX resources_kind ON resources (kind, environment, seq);
CREATE TRIGGER resources_shared_keys BEFORE INSERT ON resources WHEN NEW.ns = 'flag' BEGIN
  SELECT RAISE(ABORT, 'UNIQUE constraint failed: flags and experiments share one key namespace')
  WHERE EXISTS (SELECT 1 FROM resources WHERE ns = 'flag' AND key = NEW.key AND (kind = 'flag' OR NEW.kind = 'flag'));
END;
`,
  },
  {
    id: 13,
    name: 'index for the shared flag and experiment key namespace',
    // The trigger that keeps flag and experiment keys apart looks a key up across environments;
    // the (ns, environment, key) index cannot serve that, so each insert scanned every flag and a
    // bulk import of n flags cost n^2 row visits.
    sql: `CREATE INDEX resources_ns_key ON resources (ns, key);`,
  },
];
