import { INITIAL_SCHEMA } from './migrations/001-initial';
import { EVENT_SUMMARY_MIGRATIONS } from './migrations/002-005-event-summaries';
import { ENVIRONMENT_MIGRATIONS } from './migrations/006-009-environments-webhooks-runs';
import { VERSION_AND_ROLLOUT_MIGRATIONS } from './migrations/010-013-versions-and-rollouts';
import { UNIT_NUMBER_MIGRATIONS } from './migrations/014-unit-numbers';
import type { SqliteMigration } from './migrations/migration';

export type { SqliteMigration } from './migrations/migration';

/**
 * Numbered migrations, applied in order at start inside one transaction each. Never edit a
 * released one: add the next number (in the newest group's file under migrations/, or a new
 * file for a new group listed here). `up` runs after `sql`, in the same transaction, for
 * changes SQL cannot express well (rewriting JSON documents).
 *
 * @example
 * ```ts
 * const latest = MIGRATIONS[MIGRATIONS.length - 1]?.id;
 * ```
 */
export const MIGRATIONS: readonly SqliteMigration[] = [
  ...INITIAL_SCHEMA,
  ...EVENT_SUMMARY_MIGRATIONS,
  ...ENVIRONMENT_MIGRATIONS,
  ...VERSION_AND_ROLLOUT_MIGRATIONS,
  ...UNIT_NUMBER_MIGRATIONS,
];
