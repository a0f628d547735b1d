/** Why an evaluation returned what it did; the values match OpenFeature's reasons where they exist. */
export const Reason = {
  DEFAULT: 'DEFAULT',
  TARGETING_MATCH: 'TARGETING_MATCH',
  SPLIT: 'SPLIT',
  DISABLED: 'DISABLED',
  PREREQUISITE_FAILED: 'PREREQUISITE_FAILED',
  CACHED: 'CACHED',
  STALE: 'STALE',
  ERROR: 'ERROR',
} as const;

/** One of {@link Reason}. */
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Why an evaluation fell back to the caller's default; the values are OpenFeature's error codes. */
export const ErrorCode = {
  FLAG_NOT_FOUND: 'FLAG_NOT_FOUND',
  TYPE_MISMATCH: 'TYPE_MISMATCH',
  TARGETING_KEY_MISSING: 'TARGETING_KEY_MISSING',
  PROVIDER_NOT_READY: 'PROVIDER_NOT_READY',
  PARSE_ERROR: 'PARSE_ERROR',
  GENERAL: 'GENERAL',
} as const;

/** One of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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
}
