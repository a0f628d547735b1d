import type { ConfigPatch } from '@switchyard/core';
import type { DailySeriesMetric, DailySeriesRows } from './daily-series-sql';
import type { WebhookReads } from './webhook-rows';
import type { ApiKeyRow, AuditRow, ResourceKind, ResourceRow, UserRow } from './row-types';
import type { CommitResult, UnitOfWork } from './unit-of-work';
import type {
  CovariateMetric,
  ExperimentAggregates,
  ExperimentCovariates,
  RetentionPass,
  StoredEvent,
  SummaryRebuild,
} from './event-types';

// The store's vocabulary lives in one file per concept; importers keep using this module.
export * from './row-types';
export * from './unit-of-work';
export * from './event-types';

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
