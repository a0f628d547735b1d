/**
 * PostgreSQL migrations, numbered like the SQLite ones (migration N means the same schema
 * change in both dialects). Applied in order at open, one transaction each, under an advisory
 * lock so instances starting together never race. Never edit a released one: add the next
 * number.
 *
 * Dialect notes: ids and timestamps are stored exactly as in SQLite (TEXT ids, ISO-8601 TEXT
 * timestamps, epoch-ms BIGINT event times) and JSON as TEXT, so rows round-trip byte for byte
 * (JSONB would reorder object keys). Sequences are identity columns; `config_log.version` is
 * the one config version sequence shared by every instance.
 */
export const PG_MIGRATIONS: readonly { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'initial',
    sql: `
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  name TEXT,
  role TEXT NOT NULL CHECK (role IN ('VIEWER','EXPERIMENTER','ADMIN')),
  password_hash TEXT,
  source TEXT NOT NULL DEFAULT 'local',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- SQLite: email UNIQUE COLLATE NOCASE
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE TABLE api_keys (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
  version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patch TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE audit_log (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  experiment TEXT,
  variant TEXT,
  value DOUBLE PRECISION,
  properties TEXT,
  timestamp BIGINT NOT NULL,
  received_at BIGINT NOT NULL
);
CREATE INDEX events_timestamp ON events (timestamp);
CREATE INDEX events_experiment ON events (experiment, unit_id) WHERE experiment IS NOT NULL;
`,
  },
  {
    id: 2,
    name: 'experiment units and metric index',
    sql: `
-- One row per (experiment, unit), maintained as exposures arrive: first exposure time, the
-- variant, and whether the unit was ever exposed to a second variant (then it is excluded).
CREATE TABLE experiment_units (
  experiment TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  variant TEXT NOT NULL,
  first_ts BIGINT NOT NULL,
  conflicted SMALLINT NOT NULL DEFAULT 0,
  PRIMARY KEY (experiment, unit_id)
);
-- Covering index for results: metric events of a unit in time order.
CREATE INDEX events_track ON events (key, unit_id, timestamp) INCLUDE (value) WHERE type = 'track';
`,
  },
  {
    id: 3,
    name: 'drop the unused experiment index',
    // No query reads it; every ingested event paid for it (SQLite migration 3 drops it too).
    sql: `DROP INDEX IF EXISTS events_experiment;`,
  },
  {
    id: 4,
    name: 'per-unit metric sums and unit counts maintained at ingestion',
    // As SQLite migration 4: results become a few range scans, everything maintained by
    // insertEventBatches in the events' transaction and backfilled here from what is stored.
    sql: `
-- Keyed by unit first: a track event finds every experiment its unit is in with the key.
ALTER TABLE experiment_units DROP CONSTRAINT experiment_units_pkey;
ALTER TABLE experiment_units ADD PRIMARY KEY (unit_id, experiment);
-- COUNT(*) of experiment_units per (experiment, conflicted, variant). A conflicted unit stays
-- under its first variant.
CREATE TABLE experiment_unit_counts (
  experiment TEXT NOT NULL,
  conflicted SMALLINT NOT NULL,
  variant TEXT NOT NULL,
  units BIGINT NOT NULL,
  PRIMARY KEY (experiment, conflicted, variant)
);
INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units)
  SELECT experiment, conflicted, variant, COUNT(*) FROM experiment_units GROUP BY experiment, conflicted, variant;
-- One row per non-excluded (experiment, metric key, unit) with at least one counted event
-- (timestamp at or after the unit's first exposure): the sum of those events' values, an
-- event without a value counting 1. Rows of a unit that becomes conflicted are deleted;
-- retention does not touch this table.
CREATE TABLE unit_metrics (
  experiment TEXT NOT NULL,
  metric TEXT NOT NULL,
  variant TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (experiment, metric, variant, unit_id)
);
-- A unit's track events, all keys at once (a new exposure backfills from them).
DROP INDEX IF EXISTS events_track;
CREATE INDEX events_track ON events (unit_id, key, timestamp) INCLUDE (value) WHERE type = 'track';
INSERT INTO unit_metrics (experiment, metric, variant, unit_id, value)
  SELECT a.experiment, e.key, a.variant, a.unit_id, SUM(COALESCE(e.value, 1))
  FROM experiment_units a JOIN events e ON e.type = 'track' AND e.unit_id = a.unit_id AND e.timestamp >= a.first_ts
  WHERE a.conflicted = 0
  GROUP BY a.experiment, e.key, a.variant, a.unit_id;
`,
  },
  {
    id: 7,
    name: 'user token versions',
    sql: `ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;`,
  },
];
