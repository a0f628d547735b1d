import type { SqliteMigration } from './migration';

/** Migrations 2-5: how events are stored and how the results' summaries are kept up to date. Released: never edit, add the next number. */
export const EVENT_SUMMARY_MIGRATIONS: readonly SqliteMigration[] = [
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
  first_ts INTEGER NOT NULL,
  conflicted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (experiment, unit_id)
) WITHOUT ROWID;
-- Covering index for results: metric events of a unit in time order.
CREATE INDEX events_track ON events (key, unit_id, timestamp, value) WHERE type = 'track';
`,
  },
  {
    id: 3,
    name: 'events as an append-only rowid table',
    // A WITHOUT ROWID table keyed by client-made random ids inserted every row at a random
    // place in the B-tree (one dirty page per event); a rowid table appends rows and keeps
    // only the small id index random. The unused (experiment, unit_id) index goes.
    sql: `
CREATE TABLE events_v3 (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  experiment TEXT,
  variant TEXT,
  value REAL,
  properties TEXT,
  timestamp INTEGER NOT NULL,
  received_at INTEGER NOT NULL
);
INSERT INTO events_v3 (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at)
  SELECT id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at FROM events ORDER BY received_at;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_timestamp ON events (timestamp);
CREATE INDEX events_track ON events (key, unit_id, timestamp, value) WHERE type = 'track';
`,
  },
  {
    id: 4,
    name: 'per-unit metric sums and unit counts maintained at ingestion',
    // Results become a few range scans instead of a join of every exposed unit with its metric
    // events. Everything here is maintained by insertEventBatches in the same transaction as
    // the events (see the store) and backfilled below from what is stored.
    sql: `
-- experiment_units keyed by unit first: a track event finds every experiment its unit is in
-- with the primary key, so no second index pays for each new unit.
CREATE TABLE experiment_units_v4 (
  experiment TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  variant TEXT NOT NULL,
  first_ts INTEGER NOT NULL,
  conflicted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (unit_id, experiment)
) WITHOUT ROWID;
INSERT INTO experiment_units_v4 (experiment, unit_id, variant, first_ts, conflicted)
  SELECT experiment, unit_id, variant, first_ts, conflicted FROM experiment_units ORDER BY unit_id, experiment;
DROP TABLE experiment_units;
ALTER TABLE experiment_units_v4 RENAME TO experiment_units;
-- COUNT(*) of experiment_units per (experiment, conflicted, variant): units per variant and
-- excluded units without scanning every unit. A conflicted unit stays under its first variant.
CREATE TABLE experiment_unit_counts (
  experiment TEXT NOT NULL,
  conflicted INTEGER NOT NULL,
  variant TEXT NOT NULL,
  units INTEGER NOT NULL,
  PRIMARY KEY (experiment, conflicted, variant)
) WITHOUT ROWID;
INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units)
  SELECT experiment, conflicted, variant, COUNT(*) FROM experiment_units GROUP BY experiment, conflicted, variant;
-- One row per non-excluded (experiment, metric key, unit) with at least one counted event
-- (timestamp at or after the unit's first exposure): the sum of those events' values, an
-- event without a value counting 1. The variant sits before unit_id so that results read
-- each variant as one contiguous range (no sort); ingestion knows it from experiment_units.
-- Rows of a unit that becomes conflicted are deleted; retention does not touch this table.
CREATE TABLE unit_metrics (
  experiment TEXT NOT NULL,
  metric TEXT NOT NULL,
  variant TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (experiment, metric, variant, unit_id)
) WITHOUT ROWID;
-- A unit's track events, all keys at once (a new exposure backfills from them); still serves
-- lookups by unit and key.
DROP INDEX events_track;
CREATE INDEX events_track ON events (unit_id, key, timestamp, value) WHERE type = 'track';
INSERT INTO unit_metrics (experiment, metric, variant, unit_id, value)
  SELECT a.experiment, e.key, a.variant, a.unit_id, SUM(COALESCE(e.value, 1))
  FROM experiment_units a JOIN events e ON e.type = 'track' AND e.unit_id = a.unit_id AND e.timestamp >= a.first_ts
  WHERE a.conflicted = 0
  GROUP BY a.experiment, e.key, a.variant, a.unit_id;
`,
  },
  {
    id: 5,
    name: 'results summaries maintained behind ingestion',
    // Ingestion only appends events (rowid order plus the id index); the summaries of migration 4
    // are brought up to date by an aggregator that reads events past a cursor (see
    // event-tables.ts). The per-unit track index moves off the events table into a table the
    // aggregator writes, and the timestamp index gives way to per-chunk time ranges, so that
    // acknowledging a batch never waits for random-key index inserts.
    sql: `
-- Every aggregated track event by unit: a new or earlier first exposure takes in the unit's
-- tracks from then on. value is the counted value (1 for an event without one).
CREATE TABLE unit_tracks (
  unit_id TEXT NOT NULL,
  key TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (unit_id, key, timestamp, seq)
) WITHOUT ROWID;
INSERT INTO unit_tracks (unit_id, key, timestamp, seq, value)
  SELECT unit_id, key, timestamp, seq, COALESCE(value, 1) FROM events WHERE type = 'track' ORDER BY unit_id, key, timestamp, seq;
DROP INDEX events_track;
-- How far the aggregator has read: events with seq above it are stored but not yet summarized.
-- Everything stored so far was summarized at ingestion by migration 4's code.
CREATE TABLE event_aggregation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
INSERT INTO event_aggregation (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events;
-- Retention without a timestamp index (one more B-tree per stored event): the aggregator keeps
-- the oldest and newest timestamp of every run of 65,536 seqs, and retention scans only the
-- runs that hold something older than its cutoff.
CREATE TABLE event_chunks (
  chunk INTEGER PRIMARY KEY,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL
);
INSERT INTO event_chunks (chunk, min_ts, max_ts) SELECT seq >> 16, MIN(timestamp), MAX(timestamp) FROM events GROUP BY seq >> 16;
DROP INDEX events_timestamp;
`,
  },
];
