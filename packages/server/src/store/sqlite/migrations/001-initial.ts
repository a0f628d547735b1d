import type { SqliteMigration } from './migration';

/** Migration 1: the schema of the first release. Released: never edit, add the next number. */
export const INITIAL_SCHEMA: readonly SqliteMigration[] = [
  {
    id: 1,
    name: 'initial',
    sql: `
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT,
  role TEXT NOT NULL CHECK (role IN ('VIEWER','EXPERIMENTER','ADMIN')),
  password_hash TEXT,
  source TEXT NOT NULL DEFAULT 'local',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE api_keys (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('server','client','management')),
  role TEXT,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_by TEXT,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE TABLE resources (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('flag','segment','experiment')),
  -- flags and experiments share one key namespace
  ns TEXT NOT NULL,
  key TEXT NOT NULL,
  owner_id TEXT,
  status TEXT,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (ns, key)
);
CREATE INDEX resources_kind ON resources (kind, seq);
CREATE TABLE config_log (
  version INTEGER PRIMARY KEY AUTOINCREMENT,
  patch TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT,
  actor_label TEXT,
  action TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT,
  resource_key TEXT,
  before TEXT,
  after TEXT,
  request_id TEXT,
  ip TEXT,
  user_agent TEXT
);
CREATE INDEX audit_resource ON audit_log (resource_type, resource_id);
-- append-only: the database itself refuses to rewrite history
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  experiment TEXT,
  variant TEXT,
  value REAL,
  properties TEXT,
  timestamp INTEGER NOT NULL,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_timestamp ON events (timestamp);
CREATE INDEX events_experiment ON events (experiment, unit_id) WHERE experiment IS NOT NULL;
`,
  },
];
