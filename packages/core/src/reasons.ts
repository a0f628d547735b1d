// Built from a list, as the SDK error codes are: the browser bundles carry each name once, not twice.
const REASONS = ['DEFAULT', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'PREREQUISITE_FAILED', 'CACHED', 'STALE', 'ERROR'] as const;
const ERROR_CODES = ['FLAG_NOT_FOUND', 'TYPE_MISMATCH', 'TARGETING_KEY_MISSING', 'PROVIDER_NOT_READY', 'PARSE_ERROR', 'GENERAL'] as const;
const named = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, k])) as { readonly [P in K]: P };

/** Why an evaluation returned what it did; the values match OpenFeature's reasons where they exist. */
export const Reason = /* @__PURE__ */ named(REASONS);

/** One of {@link Reason}. */
export type Reason = (typeof REASONS)[number];

/** Why an evaluation fell back to the caller's default; the values are OpenFeature's error codes. */
export const ErrorCode = /* @__PURE__ */ named(ERROR_CODES);

/** One of {@link ErrorCode}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The result of one evaluation. Never thrown, always returned.
 *
 * @example
 * ```ts
 * const d = evaluate(compiled, 'new-checkout', { key: 'u1' }, false);
 * if (d.reason === 'ERROR') console.warn(d.errorCode);
 * ```
 */
export interface EvaluationDetail<T = unknown> {
  value: T;
  /** The variant served, or `null` when the caller's default was returned. */
  variant: string | null;
  reason: Reason;
  ruleId?: string;
  errorCode?: ErrorCode;
  /** Present for experiment keys: `true` when the unit is enrolled and an exposure should be recorded. */
  inExperiment?: boolean;
  /** Set when a flag served this through an experiment: the key its exposure is recorded under. */
  experiment?: string;
}
