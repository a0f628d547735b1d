/**
 * The two kinds of metric, as in the design contract: per-unit conversion (0/1) or per-unit mean.
 *
 * @example
 * ```ts
 * const metric = { key: 'purchase', type: MetricType.CONVERSION };
 * ```
 */
export const MetricType = {
  /** Share of units that converted; per-unit variance p(1 - p). */
  CONVERSION: 'conversion',
  /** Mean of a per-unit value (units without events count as 0); per-unit variance is the n - 1 sample variance. */
  MEAN: 'mean',
} as const;

/** One of {@link MetricType}. */
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/**
 * Sufficient statistics of a pre-exposure covariate (CUPED, beta), summed over the same units as the metric.
 * Units without a covariate value count as 0, exactly as for the metric.
 *
 * @example
 * ```ts
 * const covariate: CovariateStats = { sum: 10000, sumSquares: 120000, sumProducts: 122000 };
 * ```
 */
export interface CovariateStats {
  /** Sum of the covariate over the variant's units. */
  sum: number;
  /** Sum of the squared covariate. */
  sumSquares: number;
  /** Sum over units of metric value times covariate value. */
  sumProducts: number;
}

/**
 * Sufficient statistics of one metric in one variant. The analysis is per unit: `n` is the
 * variant's `units`, and units without events contribute 0 to `sum` and `sumSquares`.
 *
 * @example
 * ```ts
 * const purchase: MetricStats = { count: 10000, sum: 1000, sumSquares: 1000 };
 * ```
 */
export interface MetricStats {
  /** Units that contributed at least one event (informational; must not exceed the variant's units). Defaults to the variant's units. */
  count?: number;
  /** Sum of per-unit values; for a conversion metric, the number of converted units. */
  sum: number;
  /** Sum of squared per-unit values; ignored for conversion metrics, whose variance is p(1 - p). */
  sumSquares: number;
  /** Pre-exposure covariate for CUPED (beta). Give it for every variant of the metric or for none. */
  covariate?: CovariateStats;
}

/**
 * A metric to analyze.
 *
 * @example
 * ```ts
 * const metric: MetricDefinition = { key: 'revenue', type: 'mean' };
 * ```
 */
export interface MetricDefinition {
  key: string;
  type: MetricType;
}

/**
 * One arm of the experiment. The first variant of {@link AnalyzeInput.variants} is the control.
 *
 * @example
 * ```ts
 * const control: VariantInput = { key: 'control', weight: 50, units: 10000, stats: { purchase: { sum: 1000, sumSquares: 1000 } } };
 * ```
 */
export interface VariantInput {
  key: string;
  /** Traffic weight in percent, as configured (normalised by the sum of all weights). */
  weight: number;
  /** Units exposed to the variant: the `n` of every metric. */
  units: number;
  /** Statistics per metric key. A metric missing here means no unit had an event: count, sum and sumSquares 0. */
  stats: Readonly<Record<string, MetricStats | undefined>>;
}

/**
 * A normal prior on the relative lift for the Bayesian figures (e.g. `{ mean: 0, variance: 0.09 }`).
 *
 * @example
 * ```ts
 * analyze({ ...input, prior: { mean: 0, variance: 0.09 } as NormalPrior });
 * ```
 */
export interface NormalPrior {
  mean: number;
  /** Must be > 0. */
  variance: number;
}

/**
 * Input of {@link analyze}.
 *
 * @example
 * ```ts
 * const input: AnalyzeInput = {
 *   metrics: [{ key: 'purchase', type: 'conversion' }],
 *   variants: [
 *     { key: 'control', weight: 50, units: 10000, stats: { purchase: { sum: 1000, sumSquares: 1000 } } },
 *     { key: 'treatment', weight: 50, units: 10000, stats: { purchase: { sum: 1100, sumSquares: 1100 } } },
 *   ],
 * };
 * ```
 */
export interface AnalyzeInput {
  /** Two-sided significance level; the intervals have 1 - alpha coverage. Default 0.05. */
  alpha?: number;
  /** Compute sequential (always-valid) figures. Default: `true` when `sequentialTuning` is given, else `false`. */
  sequential?: boolean;
  /** N*, the total sample size at which the confidence sequence is tightest. Default 5000. */
  sequentialTuning?: number;
  /** Proper normal prior on the relative lift. Default: none (flat prior). */
  prior?: NormalPrior;
  metrics: readonly MetricDefinition[];
  /** Control first; at least two variants. */
  variants: readonly VariantInput[];
}
