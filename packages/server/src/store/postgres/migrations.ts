import { upgradeLegacyFlag } from '../legacy-flags';
import { LOCK_SPACE } from './locks';

/** What a migration's `up` runs its statements on: the migrating connection, inside the migration's transaction. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * PostgreSQL migrations, numbered like the SQLite ones (migration N means the same schema
 * change in both dialects). Applied in order at open, one transaction each, under an advisory
 * lock so instances starting together never race. Never edit a released one: add the next
 * number.
 *
 * Dialect notes: ids and timestamps are stored exactly as in SQLite (TEXT ids, ISO-8601 TEXT
 * timestamps, epoch-ms BIGINT event times) and JSON as TEXT, so rows round-trip byte for byte
 * (JSONB would reorder object keys). Sequences are identity columns; `config_log.version` is
 * the config versions shared by every instance. `up` runs after `sql` in the same transaction,
 * for changes SQL cannot express well (rewriting JSON documents while keeping their key order).
 */
export const PG_MIGRATIONS: readonly { id: number; name: string; sql: string; up?: (c: Queryable) => Promise<void> }[] = [
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
    // Number 5 was a SQLite-only change (its summaries behind ingestion); 6 matches SQLite's 6.
    id: 6,
    name: 'environments',
    // As SQLite migration 6: everything stored so far becomes the production environment's.
    sql: `
ALTER TABLE resources ADD COLUMN environment TEXT NOT NULL DEFAULT '';
UPDATE resources SET environment = 'production' WHERE kind = 'experiment';
ALTER TABLE resources DROP CONSTRAINT resources_ns_key_key;
ALTER TABLE resources ADD CONSTRAINT resources_ns_environment_key_key UNIQUE (ns, environment, key);
ALTER TABLE resources DROP CONSTRAINT resources_kind_check;
ALTER TABLE resources ADD CONSTRAINT resources_kind_check CHECK (kind IN ('flag','segment','experiment','environment'));
DROP INDEX resources_kind;
CREATE INDEX resources_kind ON resources (kind, environment, seq);
-- A flag's key is taken in every environment (see SQLite's 6); reported as a unique violation.
CREATE FUNCTION resources_shared_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM resources WHERE ns = 'flag' AND key = NEW.key AND (kind = 'flag' OR NEW.kind = 'flag')) THEN
    RAISE EXCEPTION 'flags and experiments share one key namespace' USING ERRCODE = 'unique_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER resources_shared_keys BEFORE INSERT ON resources FOR EACH ROW WHEN (NEW.ns = 'flag') EXECUTE FUNCTION resources_shared_keys();
INSERT INTO resources (id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at) VALUES
  (md5(random()::text || clock_timestamp()::text), 'environment', 'environment', '', 'development', NULL, NULL,
    '{"key":"development","name":"Development","color":"#3b82f6","protected":false}',
    to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  (md5(random()::text || clock_timestamp()::text || 'p'), 'environment', 'environment', '', 'production', NULL, NULL,
    '{"key":"production","name":"Production","color":"#ef4444","protected":false}',
    to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
-- One contiguous version sequence per environment.
CREATE TABLE config_log_v6 (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  environment TEXT NOT NULL,
  version BIGINT NOT NULL,
  patch TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (environment, version)
);
INSERT INTO config_log_v6 (environment, version, patch, created_at) SELECT 'production', version, patch, created_at FROM config_log ORDER BY version;
DROP TABLE config_log;
ALTER TABLE config_log_v6 RENAME TO config_log;
ALTER TABLE api_keys ADD COLUMN environment TEXT;
UPDATE api_keys SET environment = 'production' WHERE kind IN ('server', 'client');
ALTER TABLE audit_log ADD COLUMN environment TEXT;
ALTER TABLE events ADD COLUMN environment TEXT NOT NULL DEFAULT 'production';
-- The results' summaries name experiments and units as '<environment>:<key>' (see SQLite's 6).
UPDATE experiment_units SET experiment = 'production:' || experiment, unit_id = 'production:' || unit_id;
UPDATE experiment_unit_counts SET experiment = 'production:' || experiment;
UPDATE unit_metrics SET experiment = 'production:' || experiment, unit_id = 'production:' || unit_id;
`,
    async up(c) {
      const { rows } = await c.query("SELECT id, kind, data FROM resources WHERE kind IN ('flag', 'experiment')");
      for (const r of rows) {
        const data = JSON.parse(r.data as string) as Record<string, unknown>;
        const next = r.kind === 'flag' ? upgradeLegacyFlag(data, 'production') : { ...data, environment: 'production' };
        await c.query('UPDATE resources SET data = $1 WHERE id = $2', [JSON.stringify(next), r.id]);
      }
    },
  },
  {
    id: 7,
    name: 'user token versions',
    sql: `ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    id: 8,
    name: 'webhooks and their delivery outbox',
    sql: `
CREATE TABLE webhooks (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  enabled SMALLINT NOT NULL,
  description TEXT,
  secret TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  failure_streak INTEGER NOT NULL DEFAULT 0,
  failing_since TEXT,
  disabled_reason TEXT
);
CREATE TABLE webhook_deliveries (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  webhook_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  environment TEXT,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  last_attempt_at TEXT,
  response_status INTEGER,
  response_excerpt TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL,
  UNIQUE (webhook_id, message_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, seq);
`,
  },
  {
    id: 9,
    name: 'results summaries per experiment run',
    // As SQLite's 9: the summaries name an experiment's run (its id), exclusions are counted per
    // reason and sender, and each event records who sent it.
    sql: `
UPDATE experiment_units a SET experiment = r.id FROM resources r
  WHERE r.kind = 'experiment' AND r.environment || ':' || r.key = a.experiment;
UPDATE experiment_unit_counts n SET experiment = r.id FROM resources r
  WHERE r.kind = 'experiment' AND r.environment || ':' || r.key = n.experiment;
UPDATE unit_metrics m SET experiment = r.id FROM resources r
  WHERE r.kind = 'experiment' AND r.environment || ':' || r.key = m.experiment;
CREATE TABLE experiment_exclusions (
  experiment TEXT NOT NULL,
  reason TEXT NOT NULL,
  sent_by TEXT NOT NULL,
  events BIGINT NOT NULL,
  PRIMARY KEY (experiment, reason, sent_by)
);
ALTER TABLE events ADD COLUMN sent_by TEXT;
`,
  },
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
    // As SQLite's 12: rollouts are resources of their own kind.
    sql: `
ALTER TABLE resources DROP CONSTRAINT resources_kind_check;
ALTER TABLE resources ADD CONSTRAINT resources_kind_check CHECK (kind IN ('flag','segment','experiment','environment','rollout'));
`,
  },
  {
    id: 13,
    name: 'index for the shared flag and experiment key namespace',
    // As SQLite's 13: the shared-keys trigger's lookup across environments gets its own index.
    sql: `CREATE INDEX resources_ns_key ON resources (ns, key);`,
  },
  {
    // PostgreSQL only: SQLite's summaries have been kept behind ingestion since its 5.
    id: 14,
    name: 'summaries behind ingestion',
    // Ingestion only appends; the aggregator (aggregator.ts) summarizes events by the id of the
    // transaction that stored them, past a cursor moved in its own transactions. Events stored
    // before were summarized at ingestion: their xid 0 is below the cursor.
    sql: `
ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX events_xid ON events (xid);
CREATE TABLE event_aggregation (id SMALLINT PRIMARY KEY CHECK (id = 1), xid xid8 NOT NULL);
INSERT INTO event_aggregation (id, xid) VALUES (1, pg_current_xact_id());
`,
  },
  {
    // PostgreSQL only.
    id: 15,
    name: 'aggregator cursor with the transactions in progress',
    // The aggregator's cursor becomes a snapshot's bounds: the events below `xid` count, except
    // those of the transactions in `xip` (running at that snapshot), read once they have ended,
    // so a transaction left open no longer holds the cursor back. The cursor so far was at most
    // the oldest running transaction: nothing below it was running, the list starts empty.
    sql: `ALTER TABLE event_aggregation ADD COLUMN xip xid8[] NOT NULL DEFAULT '{}';`,
  },
  {
    // PostgreSQL only.
    id: 16,
    name: 'summaries written by older instances refused',
    // During a rolling upgrade past 14, an older instance still summarizes the events it stores
    // in their own transaction, and the aggregator would count them again. That code holds the
    // old ingestion lock (3) while it writes the summaries: such a write now fails, the whole
    // event transaction with it (nothing stored, the batch answered 5xx), and the SDKs resend it,
    // to an instance of this version once the old ones are gone. Statement triggers: they fire
    // even for a statement that changes no row; the new code never takes lock 3.
    sql: `
CREATE FUNCTION refuse_inline_summaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
      AND classid = ${LOCK_SPACE} AND objid = 3 AND objsubid = 2) THEN
    RAISE EXCEPTION 'an instance older than migration 14 is storing events: the results'' summaries are kept by the aggregator now; stop or upgrade that instance (SDKs resend the batch)'
      USING ERRCODE = '55000';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER refuse_inline_summaries BEFORE INSERT OR UPDATE OR DELETE ON experiment_units
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_inline_summaries();
CREATE TRIGGER refuse_inline_summaries BEFORE INSERT OR UPDATE OR DELETE ON experiment_unit_counts
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_inline_summaries();
CREATE TRIGGER refuse_inline_summaries BEFORE INSERT OR UPDATE OR DELETE ON unit_metrics
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_inline_summaries();
CREATE TRIGGER refuse_inline_summaries BEFORE INSERT OR UPDATE OR DELETE ON experiment_exclusions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_inline_summaries();
`,
  },
];
