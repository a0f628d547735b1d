/**
 * Config document types. Field names are snake_case because the document is exactly what the
 * management API serves and the SSE stream pushes; TypeScript APIs around it are camelCase.
 */

/** A JSON value a flag variant may carry. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Every operator a condition leaf may use. */
export const OPERATORS = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'matches',
  'gt',
  'gte',
  'lt',
  'lte',
  'semver_eq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
  'before',
  'after',
  'exists',
  'not_exists',
] as const;

/** A condition operator, e.g. `'ends_with'`. */
export type Operator = (typeof OPERATORS)[number];

/** A primitive a leaf compares against. */
export type ConditionValue = string | number | boolean;

/** A leaf: `{attr: 'country', op: 'in', values: ['US', 'CA']}`. */
export interface LeafCondition {
  attr: string;
  op: Operator;
  values?: ConditionValue[];
}

/** A targeting condition: a leaf, a boolean combination, or a segment reference. */
export type Condition = LeafCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition } | { segment: string };

/** A flag variant: a key and the value it serves. */
export interface Variant {
  key: string;
  value: JsonValue;
}

/** One slice of a weighted split; `weight` is a percentage with up to two decimals. */
export interface SplitEntry {
  variant: string;
  weight: number;
}

/**
 * What a rule or the default serves: one variant, a weighted split, or an experiment. An
 * experiment serve gives a unit the experiment enrols the flag variant named like its experiment
 * variant; a unit it does not enrol falls through to the next rule (after the last: the off variant).
 */
export type Serve = { variant: string } | { split: SplitEntry[] } | { experiment: string };

/** A targeting rule: the first one whose `when` matches serves. A rule without `when` always matches. */
export interface Rule {
  id: string;
  when?: Condition;
  serve: Serve;
}

/** A prerequisite: `flag` must serve one of `variants` for this flag to be evaluated. */
export interface Prerequisite {
  flag: string;
  variants: string[];
}

/** The value types a flag may declare. */
export const FLAG_TYPES = ['boolean', 'string', 'number', 'json'] as const;

/** A flag's declared value type. */
export type FlagType = (typeof FLAG_TYPES)[number];

/** A feature flag as stored, served and evaluated. */
export interface Flag {
  key: string;
  name?: string;
  description?: string;
  type: FlagType;
  enabled: boolean;
  variants: Variant[];
  /** Served when the flag is disabled or a prerequisite fails; absent means the caller's default. */
  off_variant?: string;
  bucket_by?: string;
  salt?: string;
  prerequisites?: Prerequisite[];
  rules?: Rule[];
  default_serve: Serve;
}

/** A reusable audience: explicit unit lists plus an optional condition. */
export interface Segment {
  key: string;
  name?: string;
  included?: string[];
  excluded?: string[];
  when?: Condition;
}

/** Experiment lifecycle states. */
export const EXPERIMENT_STATUSES = ['DRAFT', 'RUNNING', 'PAUSED', 'COMPLETED', 'ARCHIVED'] as const;

/** An experiment's lifecycle state. */
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

/** An experiment arm; the first one is control. A missing `value` serves the variant key. */
export interface ExperimentVariant {
  key: string;
  weight: number;
  value?: JsonValue;
}

/** A mutual-exclusion range: percent `[start, end)` of the namespace's units. */
export interface NamespaceRange {
  key: string;
  start: number;
  end: number;
}

/** The part of an experiment the config document carries. */
export interface ConfigExperiment {
  /** The document's map key names the experiment; the server omits this field. */
  key?: string;
  status: ExperimentStatus;
  variants: ExperimentVariant[];
  targeting?: Condition;
  traffic_allocation?: number;
  namespace?: NamespaceRange;
  bucket_by?: string;
  salt?: string;
  /**
   * Set on the internal experiment of a guarded rollout: the rollout and the flag that serves it.
   * Such an experiment is evaluable by its key but left out of {@link evaluateAll}'s listing.
   */
  rollout?: { id: string; flag: string };
}

/** The document the server streams and every SDK compiles. */
export interface ConfigDocument {
  schema_version: 1;
  version: number;
  flags: Record<string, Flag>;
  segments: Record<string, Segment>;
  experiments: Record<string, ConfigExperiment>;
}

/** Who a flag is evaluated for: `key` identifies the unit, other attributes feed targeting. */
export interface EvaluationContext {
  key?: string;
  [attribute: string]: unknown;
}
