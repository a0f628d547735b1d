import type { SqliteMigration } from './migration';

/** Migration 14: the results' summaries key units by a number. Released: never edit, add the next number. */
export const UNIT_NUMBER_MIGRATIONS: readonly SqliteMigration[] = [
  {
    id: 14,
    name: 'units numbered in first-seen order for the summaries',
    // The summaries keyed every row by the scoped unit id text (random UUIDs, typically), so each
    // new unit inserted a row at a random place in three B-trees and every aggregator slice
    // dirtied (and wrote to the WAL) nearly every page of all three. Numbered in the order the
    // aggregator first meets them, a new unit's rows land at the right edge of experiment_units,
    // unit_metrics (per experiment, metric and variant) and unit_tracks; only `units`' index of
    // the text takes a random insert per new unit. Retention deletes a number once no summary row
    // names it (event-tables.ts); a freed number handed out again names nothing old.
    sql: `
CREATE TABLE units (
  no INTEGER PRIMARY KEY,
  unit_id TEXT NOT NULL UNIQUE
);
INSERT INTO units (unit_id)
  SELECT unit_id FROM experiment_units UNION SELECT unit_id FROM unit_metrics UNION SELECT unit_id FROM unit_tracks ORDER BY 1;

CREATE TABLE experiment_units_v14 (
  experiment TEXT NOT NULL,
  unit_no INTEGER NOT NULL,
  variant TEXT NOT NULL,
  first_ts INTEGER NOT NULL,
  conflicted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (unit_no, experiment)
) WITHOUT ROWID;
INSERT INTO experiment_units_v14 (experiment, unit_no, variant, first_ts, conflicted)
  SELECT a.experiment, n.no, a.variant, a.first_ts, a.conflicted FROM experiment_units a JOIN units n ON n.unit_id = a.unit_id
  ORDER BY n.no, a.experiment;
DROP TABLE experiment_units;
ALTER TABLE experiment_units_v14 RENAME TO experiment_units;

CREATE TABLE unit_metrics_v14 (
  experiment TEXT NOT NULL,
  metric TEXT NOT NULL,
  variant TEXT NOT NULL,
  unit_no INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (experiment, metric, variant, unit_no)
) WITHOUT ROWID;
INSERT INTO unit_metrics_v14 (experiment, metric, variant, unit_no, value)
  SELECT m.experiment, m.metric, m.variant, n.no, m.value FROM unit_metrics m JOIN units n ON n.unit_id = m.unit_id
  ORDER BY m.experiment, m.metric, m.variant, n.no;
DROP TABLE unit_metrics;
ALTER TABLE unit_metrics_v14 RENAME TO unit_metrics;

CREATE TABLE unit_tracks_v14 (
  unit_no INTEGER NOT NULL,
  key TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (unit_no, key, timestamp, seq)
) WITHOUT ROWID;
INSERT INTO unit_tracks_v14 (unit_no, key, timestamp, seq, value)
  SELECT n.no, t.key, t.timestamp, t.seq, t.value FROM unit_tracks t JOIN units n ON n.unit_id = t.unit_id
  ORDER BY n.no, t.key, t.timestamp, t.seq;
DROP TABLE unit_tracks;
ALTER TABLE unit_tracks_v14 RENAME TO unit_tracks;
`,
  },
];
