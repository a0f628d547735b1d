/** The two kinds of metric, as in the design contract: per-unit conversion (0/1) or per-unit mean. */
export const MetricType = {
  /** Share of units that converted; per-unit variance p(1 - p). */
  CONVERSION: 'conversion',
  /** Mean of a per-unit value (units without events count as 0); per-unit variance is the n - 1 sample variance. */
  MEAN: 'mean',
} as const;

/** One of {@link MetricType}. */
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** Why the inferential figures of a comparison are `null`. */
export const ComparisonError = {
  /** An arm's per-unit variance is 0 or cannot be estimated (no units, or one unit of a mean metric): every inferential figure is `null`. */
  ZERO_VARIANCE: 'ZERO_VARIANCE',
  /** The control mean is 0, so the relative lift is undefined: relative figures, chance to beat control and credible interval are `null`; absolute ones are kept. */
  BASELINE_ZERO: 'BASELINE_ZERO',
} as const;

/** One of {@link ComparisonError}. */
export type ComparisonError = (typeof ComparisonError)[keyof typeof ComparisonError];

/** A two-sided interval `[lower, upper]`. */
export type Interval = [number, number];

/**
 * Sufficient statistics of a pre-exposure covariate (CUPED, beta), summed over the same units as the metric.
 * Units without a covariate value count as 0, exactly as for the metric.
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

/** A metric to analyze. */
export interface MetricDefinition {
  key: string;
  type: MetricType;
}

/** One arm of the experiment. The first variant of {@link AnalyzeInput.variants} is the control. */
export interface VariantInput {
  key: string;
  /** Traffic weight in percent, as configured (normalised by the sum of all weights). */
  weight: number;
  /** Units exposed to the variant: the `n` of every metric. */
  units: number;
  /** Statistics per metric key. A metric missing here means no unit had an event: count, sum and sumSquares 0. */
  stats: Readonly<Record<string, MetricStats | undefined>>;
}

/** A normal prior on the relative lift for the Bayesian figures (e.g. `{ mean: 0, variance: 0.09 }`). */
export interface NormalPrior {
  mean: number;
  /** Must be > 0. */
  variance: number;
}

/** Input of {@link analyze}. */
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

/** A frequentist test of one difference (relative or absolute). Every field is `null` when the test cannot be run. */
export interface TestFigures {
  /** Standard error of the difference. */
  se: number | null;
  /** Welch-Satterthwaite degrees of freedom, shared by the relative and absolute tests. */
  dof: number | null;
  /** 1 - alpha confidence interval, `estimate -/+ t(1 - alpha/2, dof) * se`. */
  ci: Interval | null;
  /** Two-sided p-value of Welch's t. */
  pValue: number | null;
}

/** Always-valid figures of one difference; `null` fields when the test cannot be run. */
export interface SequentialTestFigures {
  ci: Interval | null;
  pValue: number | null;
}

/** Sequential figures of a comparison: the relative lift at top level (as the spec's shape), the absolute difference nested. */
export interface SequentialFigures extends SequentialTestFigures {
  absolute: SequentialTestFigures;
}

/** Mean and per-unit variance of one arm after CUPED. */
export interface CupedArmFigures {
  mean: number;
  variance: number;
}

/** What CUPED (beta) did to a comparison. */
export interface CupedFigures {
  /** Regression coefficient of the metric on the covariate, pooled over control and this treatment. */
  theta: number;
  control: CupedArmFigures;
  treatment: CupedArmFigures;
}

/** One treatment against the control for one metric. */
export interface Comparison {
  /** Key of the treatment variant. */
  variant: string;
  /** Treatment mean minus control mean (CUPED-adjusted when a covariate was given); `null` when an arm has no units. */
  absoluteLift: number | null;
  /** Absolute lift over |control mean|; `null` when the control mean is 0 or an arm has no units. */
  relativeLift: number | null;
  error: ComparisonError | null;
  relative: TestFigures;
  absolute: TestFigures;
  /** Posterior probability that the relative lift is positive. */
  chanceToBeatControl: number | null;
  /** 1 - alpha credible interval of the relative lift. */
  credibleInterval: Interval | null;
  /** Posterior of the relative lift (equal to the estimate and its SE without a prior). */
  posterior: { mean: number; se: number } | null;
  /** Present only when sequential testing is on ({@link AnalysisResult.sequential}). */
  sequential?: SequentialFigures;
  /** Present (non-null) only when the metric has covariate statistics. */
  cuped: CupedFigures | null;
}

/** Per-variant summary of one metric (never CUPED-adjusted). */
export interface VariantSummary {
  key: string;
  /** n of the analysis. */
  units: number;
  /** Units that contributed events (the input's `count`, or `units` when it was not given). */
  count: number;
  /** Conversion rate or mean per unit; `null` without units. */
  mean: number | null;
  /** Per-unit variance; `null` when it cannot be estimated (no units, or one unit of a mean metric). */
  variance: number | null;
}

/** Everything computed for one metric. */
export interface MetricResult {
  key: string;
  type: MetricType;
  /** Whether CUPED (beta) was applied. */
  cuped: boolean;
  /** In input order, control first. */
  variants: VariantSummary[];
  /** One per treatment, in input order. */
  comparisons: Comparison[];
}

/** Sample ratio mismatch check. */
export interface SrmResult {
  /** Pearson's chi-square statistic; `null` when there are no units. */
  chiSquare: number | null;
  /** Number of variants with positive weight minus one. */
  dof: number;
  pValue: number | null;
  /** `pValue < 0.001`, or any unit in a variant whose weight is 0. */
  mismatch: boolean;
}

/** Output of {@link analyze}. */
export interface AnalysisResult {
  alpha: number;
  /** Whether the comparisons carry sequential figures, and the N* used. */
  sequential: { included: boolean; tuning: number | null };
  prior: NormalPrior | null;
  srm: SrmResult;
  metrics: Record<string, MetricResult>;
}
