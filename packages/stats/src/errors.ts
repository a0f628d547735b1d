/**
 * Codes of {@link StatsError}: each names a kind of malformed input, never a property of the data.
 *
 * @example
 * ```ts
 * if (e instanceof StatsError && e.code === StatsErrorCode.INVALID_STATS) showInputError(e.message);
 * ```
 */
export const StatsErrorCode = {
  /** `alpha`, `sequentialTuning` or `prior` is out of range. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** Fewer than two variants, a duplicate key, or a negative, non-finite or non-integer unit count or weight. */
  INVALID_VARIANTS: 'INVALID_VARIANTS',
  /** No metrics, a duplicate metric key or an unknown metric type. */
  INVALID_METRICS: 'INVALID_METRICS',
  /** Sufficient statistics that cannot come from real data (non-finite, negative, more conversions than units). */
  INVALID_STATS: 'INVALID_STATS',
  /** A distribution function was called with a parameter outside its domain. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;

/** One of {@link StatsErrorCode}. */
export type StatsErrorCode = (typeof StatsErrorCode)[keyof typeof StatsErrorCode];

/**
 * The one error class of `@switchyard/stats`. It is thrown only for programmer errors
 * (input of the wrong shape); awkward data such as zero variance is reported in the result instead.
 *
 * @example
 * ```ts
 * try { analyze({ metrics: [], variants: [] }); }
 * catch (e) { if (e instanceof StatsError) console.error(e.code); } // 'INVALID_VARIANTS'
 * ```
 */
export class StatsError extends Error {
  readonly code: StatsErrorCode;

  constructor(code: StatsErrorCode, message: string) {
    super(message);
    this.name = 'StatsError';
    this.code = code;
  }
}
