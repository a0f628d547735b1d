import { OptionError, decimalOf, parsePositiveInt, wholeNumberOf, type OptionParser, type OptionSpec } from './option-specs';

/** A whole number of at least 0 (0 switches the setting off). */
export const parseNonNegativeInt: OptionParser<number> = (raw, source) => {
  const n = wholeNumberOf(raw);
  if (!Number.isSafeInteger(n)) throw new OptionError(`${source}: '${raw}' is not a whole number of at least 0`);
  return n;
};

/** A fraction above 0 and at most 1, spelled as any other number setting (`0.04`, `.5`, `1`, `5e-2`). */
export const parseShare: OptionParser<number> = (raw, source) => {
  const n = decimalOf(raw);
  if (!(n > 0 && n <= 1)) throw new OptionError(`${source}: '${raw}' is not a fraction above 0 and at most 1 (e.g. 0.04)`);
  return n;
};

/** Deferred: this module and option-specs.ts import each other, so nothing of it is read at load time. */
const positiveInt: OptionParser<number> = (raw, source) => parsePositiveInt(raw, source);

const op = (
  key: string,
  flag: string,
  env: string,
  value: string,
  defaultText: string,
  help: string,
  parse: OptionParser<unknown>,
): OptionSpec => ({ key, flag, env: [env], value, defaultText, help, parse });

/**
 * Settings of running several instances: the PostgreSQL pool and its timeouts, the leader
 * lease, the credential cache and retention's pace (see docs/scaling.md for sizing).
 */
export const OPERATIONS_OPTION_SPECS: readonly OptionSpec[] = [
  op('pgPoolMax', 'pg-pool-max', 'SWITCHYARD_PG_POOL_MAX', '<n>', '10', 'PostgreSQL connections per instance.', positiveInt),
  op(
    'pgIdleTimeoutMs',
    'pg-idle-timeout-ms',
    'SWITCHYARD_PG_IDLE_TIMEOUT_MS',
    '<ms>',
    '10000',
    'An idle PostgreSQL connection is closed after this long.',
    positiveInt,
  ),
  op(
    'pgMaxLifetimeSeconds',
    'pg-max-lifetime-s',
    'SWITCHYARD_PG_MAX_LIFETIME_S',
    '<s>',
    '3600',
    'A PostgreSQL connection is replaced after this many seconds (0 = never).',
    parseNonNegativeInt,
  ),
  op(
    'pgConnectTimeoutMs',
    'pg-connect-timeout-ms',
    'SWITCHYARD_PG_CONNECT_TIMEOUT_MS',
    '<ms>',
    '5000',
    'Give up opening (or waiting for) a PostgreSQL connection after this long: 503.',
    positiveInt,
  ),
  op(
    'pgStatementTimeoutMs',
    'pg-statement-timeout-ms',
    'SWITCHYARD_PG_STATEMENT_TIMEOUT_MS',
    '<ms>',
    '30000',
    'PostgreSQL cancels a longer statement; the server stops waiting 2 s later: 503.',
    positiveInt,
  ),
  op(
    'leaderCheckMs',
    'leader-check-ms',
    'SWITCHYARD_LEADER_CHECK_MS',
    '<ms>',
    '1000',
    'How often instances try to take the background-jobs lease (takeover time after a leader dies).',
    positiveInt,
  ),
  op(
    'redisBudgetMs',
    'redis-budget-ms',
    'SWITCHYARD_REDIS_BUDGET_MS',
    '<ms>',
    '100',
    'Longest a request waits for Redis (shared rate limits) before deciding locally and opening the circuit.',
    positiveInt,
  ),
  op(
    'credentialCacheTtlMs',
    'credential-cache-ttl-ms',
    'SWITCHYARD_CREDENTIAL_CACHE_TTL_MS',
    '<ms>',
    '30000',
    'API keys and users are re-read from the database after this long (0 = every request).',
    parseNonNegativeInt,
  ),
  op(
    'retentionIntervalMs',
    'retention-interval-ms',
    'SWITCHYARD_RETENTION_INTERVAL_MS',
    '<ms>',
    '3600000',
    'How often the retention job deletes events older than the retention window.',
    positiveInt,
  ),
  op(
    'retentionChunk',
    'retention-chunk',
    'SWITCHYARD_RETENTION_CHUNK',
    '<n>',
    '10000',
    'Events one retention transaction deletes at most (event batches are stored between them).',
    positiveInt,
  ),
  op(
    'aggregatorShare',
    'aggregator-share',
    'SWITCHYARD_AGGREGATOR_SHARE',
    '<fraction>',
    '0.04',
    'SQLite: share of the writer thread the results aggregator takes while events keep arriving (more: fresher results, fewer events/s).',
    parseShare,
  ),
];
