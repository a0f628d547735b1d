import { upgradeLegacyFlag } from '../../legacy-flags';
import type { SqliteMigration } from './migration';

/** Migrations 6-9: environments, token versions, webhooks and run-scoped results summaries. Released: never edit, add the next number. */
export const ENVIRONMENT_MIGRATIONS: readonly SqliteMigration[] = [
  {
    id: 6,
    name: 'environments',
    // Everything stored so far becomes the production environment's: experiments, SDK keys,
    // events (and the results' summaries), the config log. Flags keep one row whose JSON holds
    // the definition and an `environments` map of per-environment state (see `up`).
    sql: `
CREATE TABLE resources_v6 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('flag','segment','experiment','environment')),
  -- flags and experiments share one key namespace; experiments are unique per environment
  ns TEXT NOT NULL,
  -- '' for everything but experiments
  environment TEXT NOT NULL DEFAULT '',
  key TEXT NOT NULL,
  owner_id TEXT,
  status TEXT,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (ns, environment, key)
);
INSERT INTO resources_v6 (seq, id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at)
  SELECT seq, id, kind, ns, CASE kind WHEN 'experiment' THEN 'production' ELSE '' END, key, owner_id, status,
    CASE kind WHEN 'experiment' THEN json_set(data, '$.environment', 'production') ELSE data END, created_at, updated_at
  FROM resources ORDER BY seq;
DROP TABLE resources;
ALTER TABLE resources_v6 RENAME TO resources;
CREATE INDEX resources_kind ON resources (kind, environment, seq);
-- A flag's key is taken in every environment: no experiment anywhere may use it, nor a flag an
-- experiment's (two experiments of one key in one environment meet the UNIQUE constraint).
CREATE TRIGGER resources_shared_keys BEFORE INSERT ON resources WHEN NEW.ns = 'flag' BEGIN
  SELECT RAISE(ABORT, 'UNIQUE constraint failed: flags and experiments share one key namespace')
  WHERE EXISTS (SELECT 1 FROM resources WHERE ns = 'flag' AND key = NEW.key AND (kind = 'flag' OR NEW.kind = 'flag'));
END;
INSERT INTO resources (id, kind, ns, environment, key, owner_id, status, data, created_at, updated_at) VALUES
  (lower(hex(randomblob(16))), 'environment', 'environment', '', 'development', NULL, NULL,
    '{"key":"development","name":"Development","color":"#3b82f6","protected":false}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  (lower(hex(randomblob(16))), 'environment', 'environment', '', 'production', NULL, NULL,
    '{"key":"production","name":"Production","color":"#ef4444","protected":false}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
-- One contiguous version sequence per environment.
CREATE TABLE config_log_v6 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  environment TEXT NOT NULL,
  version INTEGER NOT NULL,
  patch TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (environment, version)
);
INSERT INTO config_log_v6 (seq, environment, version, patch, created_at)
  SELECT version, 'production', version, patch, created_at FROM config_log ORDER BY version;
DROP TABLE config_log;
ALTER TABLE config_log_v6 RENAME TO config_log;
ALTER TABLE api_keys ADD COLUMN environment TEXT;
UPDATE api_keys SET environment = 'production' WHERE kind IN ('server', 'client');
ALTER TABLE audit_log ADD COLUMN environment TEXT;
ALTER TABLE events ADD COLUMN environment TEXT NOT NULL DEFAULT 'production';
-- The results' summaries name experiments and units as '<environment>:<key>': an experiment key
-- is unique per environment, and a unit's events in one environment never count in another.
UPDATE experiment_units SET experiment = 'production:' || experiment, unit_id = 'production:' || unit_id;
UPDATE experiment_unit_counts SET experiment = 'production:' || experiment;
UPDATE unit_metrics SET experiment = 'production:' || experiment, unit_id = 'production:' || unit_id;
UPDATE unit_tracks SET unit_id = 'production:' || unit_id;
`,
    up(db) {
      const rows = db.prepare("SELECT id, data FROM resources WHERE kind = 'flag'").all() as { id: string; data: string }[];
      const update = db.prepare('UPDATE resources SET data = ? WHERE id = ?');
      for (const r of rows)
        update.run(JSON.stringify(upgradeLegacyFlag(JSON.parse(r.data) as Record<string, unknown>, 'production')), r.id);
    },
  },
  {
    id: 7,
    name: 'user token versions',
    // A token carries the version it was issued under; a password change, a role change or a
    // logout bumps it, which revokes every token issued before.
    sql: `ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    id: 8,
    name: 'webhooks and their delivery outbox',
    sql: `
CREATE TABLE webhooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  enabled INTEGER NOT NULL,
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
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  webhook_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  environment TEXT,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
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
    // The summaries named an experiment '<environment>:<key>', so a key deleted and created
    // again inherited the old experiment's units. They now name the run: the experiment's id
    // (summaries of a key no experiment has keep the old name). Exposures left out of a run
    // (outside its window, unknown variant, ...) are counted per reason and per sender, and each
    // stored event records who sent it ('api_key:<id>' or 'user:<id>').
    sql: `
UPDATE experiment_units SET experiment = COALESCE((SELECT r.id FROM resources r
  WHERE r.kind = 'experiment' AND r.environment || ':' || r.key = experiment_units.experiment), experiment);
UPDATE experiment_unit_counts SET experiment = COALESCE((SELECT r.id FROM resources r
  WHERE r.kind = 'experiment' AND r.environment || ':' || r.key = experiment_unit_counts.experiment), experiment);
UPDATE unit_metrics SET experiment = COALESCE((SELECT r.id FROM resources r
  WHERE r.kind = 'experiment' AND r.environment || ':' || r.key = unit_metrics.experiment), experiment);
CREATE TABLE experiment_exclusions (
  experiment TEXT NOT NULL,
  reason TEXT NOT NULL,
  sent_by TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY (experiment, reason, sent_by)
) WITHOUT ROWID;
ALTER TABLE events ADD COLUMN sent_by TEXT;
`,
  },
];
