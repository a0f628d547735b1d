import type { ExclusionReason, Exclusions } from './run-attribution';

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
