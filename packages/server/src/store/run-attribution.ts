import { compileConfig, evaluate, type ConfigExperiment } from '@switchyard/core';
import { scoped } from './rows';
import type { ExperimentAggregates } from './types';

/**
 * Why an exposure (or, for `multiple_variants`, a unit) is left out of an experiment's results.
 * Kept as the API spells them: they are the keys of a results response's `exclusions`.
 */
export const EXCLUSION_REASONS = [
  'before_start',
  'after_completion',
  'unknown_variant',
  'multiple_variants',
  'assignment_mismatch',
] as const;
/** One of {@link EXCLUSION_REASONS}. */
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];
/** Counts per reason; every reason present, 0 when nothing was excluded for it. */
export type Exclusions = Record<ExclusionReason, number>;

/** Every reason at 0. */
export const noExclusions = (): Exclusions => ({
  before_start: 0,
  after_completion: 0,
  unknown_variant: 0,
  multiple_variants: 0,
  assignment_mismatch: 0,
});

/**
 * One run of an experiment as the results' summaries see it: the experiment that exists for a
 * key in an environment, named by its id (a key deleted and created again is a new run with a
 * new id, so it starts empty), and the window its exposures must fall in.
 */
export interface ExperimentRun {
  /** What the summaries are keyed by: the experiment's id. */
  id: string;
  /** Epoch ms of `started_at`; `null` while it never started (every exposure is then too early). */
  startedAt: number | null;
  /** Epoch ms of `completed_at`; `null` while it has not completed. */
  completedAt: number | null;
  variants: ReadonlySet<string>;
  /**
   * The variant core assigns a unit id (`null`: traffic or namespace leave it out); `null` when
   * the experiment cannot be compiled (then exposures are not checked against it).
   */
  assign: ((unitId: string) => string | null) | null;
}

/** A stored experiment row's data as far as attribution reads it. */
interface ExperimentData {
  key?: unknown;
  started_at?: unknown;
  completed_at?: unknown;
  variants?: unknown;
  traffic_allocation?: unknown;
  namespace?: unknown;
  bucket_by?: unknown;
  salt?: unknown;
}

/**
 * The assignment the server can compute from a unit id alone, with the same core code the SDKs
 * run: traffic allocation, namespace range and weighted split. Targeting is not checked: the
 * server does not see the attributes a unit was evaluated with. An exposure's `unit_id` is the
 * value of the experiment's `bucket_by` attribute (what the SDKs hash), so this holds for any
 * `bucket_by`, not only `key`.
 */
function assigner(data: ExperimentData): ExperimentRun['assign'] {
  const key = typeof data.key === 'string' ? data.key : 'experiment';
  const bucketBy = typeof data.bucket_by === 'string' ? data.bucket_by : 'key';
  const experiment = {
    status: 'RUNNING',
    variants: data.variants,
    traffic_allocation: data.traffic_allocation,
    namespace: data.namespace,
    bucket_by: bucketBy,
    salt: data.salt,
  } as ConfigExperiment;
  try {
    const compiled = compileConfig({
      schema_version: 1,
      version: 0,
      flags: {},
      segments: {},
      experiments: { [key]: experiment },
    });
    return (unitId) => evaluate(compiled, key, bucketBy === 'key' ? { key: unitId } : { key: unitId, [bucketBy]: unitId }, null).variant;
  } catch {
    return null;
  }
}

const epoch = (v: unknown): number | null => {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * The run of a stored experiment (its id and parsed data).
 *
 * @example
 * ```ts
 * const run = experimentRun(row.id, row.data);
 * classifyExposure(run, 'treatment', Date.now(), 'user-1'); // null when core assigns user-1 treatment
 * ```
 */
export function experimentRun(id: string, data: ExperimentData): ExperimentRun {
  const variants = Array.isArray(data.variants)
    ? (data.variants as { key?: unknown }[]).map((v) => v.key).filter((k): k is string => typeof k === 'string')
    : [];
  return {
    id,
    startedAt: epoch(data.started_at),
    completedAt: epoch(data.completed_at),
    variants: new Set(variants),
    assign: assigner(data),
  };
}

/**
 * Whether an exposure of `unitId` at `timestamp` reporting `variant` counts in `run`, or why not:
 * the window is `[started_at, completed_at)`, the variant must be one of the experiment's, and
 * the one core assigns the unit (a forged or corrupted exposure is left out).
 */
export function classifyExposure(run: ExperimentRun, variant: string, timestamp: number, unitId: string): ExclusionReason | null {
  if (run.startedAt === null || timestamp < run.startedAt) return 'before_start';
  if (run.completedAt !== null && timestamp >= run.completedAt) return 'after_completion';
  if (!run.variants.has(variant)) return 'unknown_variant';
  if (run.assign !== null && run.assign(unitId) !== variant) return 'assignment_mismatch';
  return null;
}

/**
 * What the summaries name an experiment by: its run's id when an experiment of that key exists
 * in the environment; otherwise `<environment>:<key>`, so exposures of a key no experiment has
 * are still summarized apart (and never read by any experiment's results, whose ids differ).
 */
export const summaryKey = (run: ExperimentRun | null, environment: string, key: string): string =>
  run === null ? scoped(environment, key) : run.id;

/** Adds stored exclusion rows to `out` (totals per reason, and per sender, largest first). */
export function readExclusions(out: ExperimentAggregates, rows: readonly { reason: string; sent_by: string; events: number }[]): void {
  for (const r of rows) {
    if (!(EXCLUSION_REASONS as readonly string[]).includes(r.reason)) continue;
    const reason = r.reason as ExclusionReason;
    out.exclusions[reason] += Number(r.events);
    out.exclusionsBySender.push({ reason, sentBy: r.sent_by, events: Number(r.events) });
  }
  out.exclusionsBySender.sort((a, b) => b.events - a.events || (a.sentBy < b.sentBy ? -1 : a.sentBy > b.sentBy ? 1 : 0));
}
