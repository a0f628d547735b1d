import type { ConfigPatch } from '@switchyard/core';
import type { DailySeriesMetric, DailySeriesRows } from './daily-series-sql';
import type { OutboxEvent, WebhookReads, WebhookWriteOp } from './webhook-rows';
import type { ExclusionReason, Exclusions } from './run-attribution';
import { staleWriteError } from './store-errors';

/**
 * Resource kinds kept in the store. Flags and experiments share one key namespace; an
 * experiment's key is unique within its environment. A guarded rollout belongs to one environment;
 * while it is active its key is its flag's key (so the store's uniqueness allows one active rollout
 * per flag and environment), and its id once it has ended.
 */
export type ResourceKind = 'flag' | 'segment' | 'experiment' | 'environment' | 'rollout';

/** A flag, segment, experiment, environment or rollout row; `data` is the resource's attributes as JSON. */
export interface ResourceRow {
  seq: number;
  id: string;
  kind: ResourceKind;
  /** The environment an experiment or rollout belongs to; `null` for every other kind. */
  environment: string | null;
  key: string;
  ownerId: string | null;
  status: string | null;
  data: Record<string, unknown>;
  /** Starts at 1 and grows by one with every stored change: the resource's `version` and `ETag`. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Roles, lowest first. */
export const ROLES = ['VIEWER', 'EXPERIMENTER', 'ADMIN'] as const;
/** A user's or management key's role. */
export type Role = (typeof ROLES)[number];

export interface UserRow {
  seq: number;
  id: string;
  email: string;
  name: string | null;
  role: Role;
  /** `null` for users provisioned from an external OIDC issuer. */
  passwordHash: string | null;
  source: 'local' | 'oidc';
  /** Bumped by a password change, a role change and a logout: tokens carrying an older one are refused. */
  tokenVersion: number;
  /** See {@link ResourceRow.version}. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type ApiKeyKind = 'server' | 'client' | 'management';

export interface ApiKeyRow {
  seq: number;
  id: string;
  name: string;
  kind: ApiKeyKind;
  role: Role | null;
  /** The environment of a `server` or `client` key; `null` for management keys. */
  environment: string | null;
  prefix: string;
  hash: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /**
   * A client key limited to these metric keys: its track events with another key are refused.
   * Absent or `null`: any metric. Set at creation only.
   */
  allowedMetrics?: readonly string[] | null;
  /** See {@link ResourceRow.version}; recording a key's use does not change it. */
  version: number;
}

export interface AuditRecord {
  at: string;
  actorType: 'user' | 'api_key' | 'system';
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  resourceKey: string | null;
  /** The environment of what the action changed, when it belongs to one. */
  environment?: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditRow extends AuditRecord {
  seq: number;
}

/**
 * One write of a unit of work. Optimistic concurrency is the store's job: an `insert` stores
 * version 1; an `update` is a compare-and-set on `row.version`, the version the change was made
 * from (as read), and stores it + 1; a `delete` with a `version` is one too. When the stored
 * version differs (someone else's change committed first, or the row is gone), the whole unit
 * fails with {@link VERSION_CONFLICT_ERROR_CODE} and nothing of it is written.
 */
export type WriteOp =
  | {
      table: 'resources';
      action: 'insert' | 'update';
      row: ResourceRow;
      /**
       * Compare-and-set (updates only): the stored row must still have this status, else the
       * whole unit fails with a stale-write error (`isStaleWrite`) and nothing is written. Lets
       * two instances racing to act on one transition (a takeover of the background jobs) act once.
       */
      ifStatus?: string | null;
    }
  | { table: 'resources'; action: 'delete'; id: string; version?: number }
  | { table: 'users'; action: 'insert' | 'update'; row: UserRow }
  | { table: 'users'; action: 'delete'; id: string; version?: number }
  | { table: 'api_keys'; action: 'insert' | 'update'; row: ApiKeyRow }
  | WebhookWriteOp;

/**
 * The `code` of the error a unit of work fails with when one of its compare-and-set writes finds
 * another version stored (see {@link WriteOp}). A code, not a class, for the same reason as
 * {@link LAST_ADMIN_ERROR_CODE}.
 */
export const VERSION_CONFLICT_ERROR_CODE = 'SWITCHYARD_VERSION_CONFLICT';

/** The error described at {@link VERSION_CONFLICT_ERROR_CODE}. */
export function versionConflictError(table: WriteOp['table'], id: string, expected: number): Error {
  return Object.assign(new Error(`${table} row '${id}' is no longer at version ${expected}`), { code: VERSION_CONFLICT_ERROR_CODE });
}

/** A compare-and-set write (given the version it read) that changed no row lost the race (see {@link WriteOp}). Both stores. */
export function expectWritten(changed: number, table: WriteOp['table'], id: string, version: number | undefined): void {
  if (changed === 0 && version !== undefined) throw versionConflictError(table, id, version);
}

/**
 * Why a compare-and-set on version and status changed nothing, from the status stored now: a
 * status that moved on is a stale write (the transition happened elsewhere); the same status
 * with a newer version is a conflict to rebuild on. Both stores.
 */
export function statusCasFailure(row: ResourceRow, ifStatus: string | null, current: { status: string | null } | undefined): Error {
  if (current === undefined || current.status !== ifStatus) return staleWriteError(`the ${row.kind} '${row.key}'`);
  return versionConflictError('resources', row.id, row.version);
}

/** Whether an error is the one described at {@link VERSION_CONFLICT_ERROR_CODE}. */
export function isVersionConflict(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === VERSION_CONFLICT_ERROR_CODE;
}

/**
 * Everything one mutation writes, committed atomically: the rows, the config patches (each gets
 * the next config version of its environment) and the audit record. One call, so a PostgreSQL
 * store can map it to one transaction without routes or services knowing.
 */
export interface UnitOfWork {
  writes: WriteOp[];
  /** Per environment key; without `version`: the store assigns each environment's next one. */
  configPatches?: Record<string, Omit<ConfigPatch, 'version'>>;
  /** One record, or one per resource of a bulk change. */
  audit?: AuditRecord | AuditRecord[];
  /**
   * Checked inside the transaction, after the writes: at least one ADMIN must remain, else the
   * whole unit is rolled back (see {@link LAST_ADMIN_ERROR_CODE}). Two ADMINs demoting each other at
   * once cannot both pass it.
   */
  keepAnAdmin?: boolean;
  /**
   * Webhook events this change causes: in the same transaction, each becomes a pending delivery
   * for every enabled webhook subscribed to its type (the outbox), so an event is never sent for
   * a change that rolled back, nor lost for one that committed.
   */
  webhookEvents?: OutboxEvent[];
}

/**
 * The `code` of the error a unit of work with `keepAnAdmin` fails with when it would have left
 * no ADMIN (nothing of it is written). A code, not a class: SQLite commits on its writer thread
 * and only the message and code cross back.
 */
export const LAST_ADMIN_ERROR_CODE = 'SWITCHYARD_LAST_ADMIN';

/** The error described at {@link LAST_ADMIN_ERROR_CODE}. */
export function lastAdminError(): Error {
  return Object.assign(new Error('the server must keep at least one ADMIN'), { code: LAST_ADMIN_ERROR_CODE });
}

/** The audit records of a unit of work, as a list. */
export function auditsOf(work: UnitOfWork): AuditRecord[] {
  return work.audit === undefined ? [] : Array.isArray(work.audit) ? work.audit : [work.audit];
}

/** What a commit produced: the config version each patched environment got. */
export interface CommitResult {
  versions: Record<string, number>;
}

export interface Page<T> {
  items: T[];
  nextCursor: number | null;
}

export interface ResourceFilter {
  /** Experiments of this environment only. */
  environment?: string;
  /** Flags enabled (or not) in an environment: `status=enabled|disabled` of a flag list. */
  flagEnabled?: { environment: string; enabled: boolean };
  status?: string;
  ownerId?: string;
  q?: string;
  after?: number;
  limit: number;
}

export interface AuditFilter {
  environment?: string;
  actorId?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  after?: number;
  limit: number;
}

/** A config change as logged: the version it produced and its patch. */
export interface ConfigLogEntry {
  version: number;
  patch: ConfigPatch;
}

/** An analytics event as stored. */
export interface StoredEvent {
  /** The environment of the key that sent it. */
  environment: string;
  id: string;
  type: 'exposure' | 'track';
  key: string;
  unitId: string;
  experiment: string | null;
  variant: string | null;
  value: number | null;
  properties: Record<string, unknown> | null;
  timestamp: number;
  receivedAt: number;
  /** Who sent it: `api_key:<id>` or `user:<id>` (so a key sending forged events can be found); `null` when unknown. */
  sentBy?: string | null;
}

/** What {@link Store.experimentAggregates} returns. */
export interface ExperimentAggregates {
  units: Record<string, number>;
  /** Units exposed to more than one variant (the `multiple_variants` exclusion). */
  excludedUnits: number;
  /** Exposures left out of the run, per reason (`multiple_variants` counts units, as `excludedUnits`). */
  exclusions: Exclusions;
  /** The same exposures by who sent them, largest first (`multiple_variants` is not attributed to a sender). */
  exclusionsBySender: { reason: ExclusionReason; sentBy: string; events: number }[];
  /** metric -> variant -> sums over exposed units (units without events add 0). */
  metrics: Record<string, Record<string, { sum: number; sumSquares: number; unitsWithEvents: number }>>;
}

/** A metric whose CUPED covariate is wanted, and the pre-exposure window in milliseconds. */
export interface CovariateMetric {
  key: string;
  type: 'conversion' | 'mean';
  windowMs: number;
}

/** What {@link Store.experimentCovariates} returns: metric -> variant -> sums of x, x^2 and x*y. */
export type ExperimentCovariates = Record<string, Record<string, { sum: number; sumSquares: number; sumProducts: number }>>;

/** How a retention pass (see {@link Store.deleteEventsBefore}) proceeds. */
export interface RetentionPass {
  /** Events one transaction deletes at most (default {@link RETENTION_CHUNK}). */
  chunk?: number;
  /** Aborted: the pass stops after the transaction in progress; the next pass goes on from there. */
  signal?: AbortSignal;
  /** Called after each transaction with the number it deleted. */
  onChunk?: (deleted: number) => void;
}

/** Events one retention transaction deletes at most, by default. */
export const RETENTION_CHUNK = 10_000;

/**
 * Persistence behind the server. Async everywhere so a PostgreSQL implementation fits the same
 * shape; the SQLite one simply resolves synchronously computed values.
 */
export interface Store extends WebhookReads {
  readonly kind: 'sqlite' | 'postgres';
  ping(): Promise<boolean>;
  close(): Promise<void>;

  commit(work: UnitOfWork): Promise<CommitResult>;

  /** By id, or by key; an experiment only within `environment` when one is given. */
  getResource(kind: ResourceKind, idOrKey: string, environment?: string): Promise<ResourceRow | null>;
  /**
   * A row of one of `kinds` with this key (flags and experiments share a namespace). With
   * `environment`, experiments of other environments do not count.
   */
  findByKey(kinds: readonly ResourceKind[], key: string, environment?: string): Promise<ResourceRow | null>;
  listResources(kind: ResourceKind, filter: ResourceFilter): Promise<Page<ResourceRow>>;
  /** Every row of a kind; experiments of one environment when it is given. */
  allResources(kind: ResourceKind, environment?: string): Promise<ResourceRow[]>;

  /** The latest config version of an environment (0 before its first change). */
  configVersion(environment: string): Promise<number>;
  /** The latest config version of every environment with a logged change. */
  configVersions(): Promise<Record<string, number>>;
  configLogSince(environment: string, version: number, limit: number): Promise<ConfigLogEntry[]>;

  getUser(id: string): Promise<UserRow | null>;
  getUserByEmail(email: string): Promise<UserRow | null>;
  listUsers(after: number | undefined, limit: number): Promise<Page<UserRow>>;
  countUsers(): Promise<number>;

  getApiKey(id: string): Promise<ApiKeyRow | null>;
  getApiKeyByHash(hash: string): Promise<ApiKeyRow | null>;
  listApiKeys(createdBy: string | undefined, after: number | undefined, limit: number): Promise<Page<ApiKeyRow>>;
  countApiKeys(): Promise<number>;
  touchApiKey(id: string, at: string): Promise<void>;

  listAudit(filter: AuditFilter): Promise<Page<AuditRow>>;

  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;

  /**
   * Stores several batches in one transaction (group commit) and resolves only once it is
   * durable; per batch, how many events were new and how many ids were already stored. New
   * events (never resent ids) update the results' summaries: the exposed units of each
   * experiment and each unit's metric sums, whatever order events arrive in. Both stores do that
   * in a background aggregator behind ingestion, which {@link Store.experimentAggregates} waits for.
   */
  insertEventBatches(batches: StoredEvent[][]): Promise<{ accepted: number; duplicates: number }[]>;
  /**
   * `true` when the store itself puts concurrent {@link Store.insertEventBatches} calls into one
   * transaction (SQLite's writer thread takes every batch queued behind the one it commits), so
   * callers hand batches over as they arrive instead of waiting for the previous commit.
   */
  readonly groupsEventBatches?: boolean;
  /**
   * How many {@link Store.insertEventBatches} transactions may run at once (default 1). PostgreSQL
   * ingestion takes no lock shared between event transactions, so several commits overlap and
   * one instance is not held to one round trip and one WAL flush at a time.
   */
  readonly eventTransactions?: number;
  countEvents(): Promise<number>;
  /**
   * Stored events the results' summaries do not count yet (both stores' aggregators run behind
   * ingestion).
   */
  aggregatorBacklog(): Promise<number>;
  /**
   * Sufficient statistics of the run of the experiment `experiment` (its key) that exists now in
   * `environment`: exposed units per variant (units exposed to more than one variant are excluded
   * and counted apart) and, per metric, the sum and sum of squares over units of each unit's value
   * after its first exposure. Only exposures inside the run's window (`started_at` to
   * `completed_at`) with one of its variants count; the others are counted per reason in
   * `exclusions`. Reads the summaries kept at ingestion (range scans), not the events, once they
   * count every event stored before the call.
   */
  experimentAggregates(
    environment: string,
    experiment: string,
    metrics: readonly { key: string; type: 'conversion' | 'mean' }[],
  ): Promise<ExperimentAggregates>;
  /**
   * CUPED covariates of one experiment of `environment`: per metric and variant, over its
   * non-excluded units, the sums of x, x^2 and x*y, where x is the unit's value of the metric in
   * the window before its first exposure (`[first - windowMs, first)`) and y its value after, as
   * in {@link Store.experimentAggregates} (for a conversion metric both are 0/1). A variant
   * without any unit with a pre-exposure event is absent (all its sums are 0). Queried from the
   * stored events, not kept at ingestion; events already deleted by retention no longer count.
   */
  experimentCovariates(environment: string, experiment: string, metrics: readonly CovariateMetric[]): Promise<ExperimentCovariates>;
  /**
   * Retention: deletes the events with a timestamp before `epochMs`, in short transactions of at
   * most `pass.chunk` events with event batches stored in between, until none is left or
   * `pass.signal` is aborted (resolving to the number deleted so far). Deletes events only, and
   * only those the results' summaries already count (they keep counting them).
   */
  deleteEventsBefore(epochMs: number, pass?: RetentionPass): Promise<number>;
  /**
   * Replaces the results' summaries of the experiment `key` of `environment` (its current run)
   * with ones recomputed from the stored events (see summary-rebuild.ts), in one transaction that
   * ingestion waits for; track values outside `maxValue` are skipped. `null`: no such experiment.
   */
  rebuildExperimentSummaries(environment: string, key: string, maxValue: number): Promise<SummaryRebuild | null>;
  /**
   * An experiment's day-by-day series from the stored events (see daily-series-sql.ts): new
   * units per variant and UTC day, and per metric its daily new converters (conversion) or sums
   * (mean), for exposures between `window.from` and `window.to` (epoch ms).
   */
  experimentDailySeries(
    environment: string,
    experiment: string,
    window: { from: number; to: number },
    metrics: readonly DailySeriesMetric[],
  ): Promise<DailySeriesRows>;
}

/** What rebuilding an experiment's summaries read and wrote. */
export interface SummaryRebuild {
  /** The run rebuilt (the experiment's id). */
  experimentId: string;
  exposuresRead: number;
  tracksRead: number;
  /** Units counted (conflicted ones included). */
  units: number;
  excludedExposures: number;
  /** Track events skipped because their value is out of bounds. */
  skippedValues: number;
}
