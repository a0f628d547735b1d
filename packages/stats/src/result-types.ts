import type { MetricType, NormalPrior } from './types.js';

/**
 * Why the inferential figures of a comparison are `null`.
 *
 * @example
 * ```ts
 * if (c.error === ComparisonError.BASELINE_ZERO) console.log('absolute only:', c.absolute.ci);
 * ```
 */
export const ComparisonError = {
  /**
   * An arm's per-unit variance is 0 or cannot be estimated (no units, or one unit of a mean metric), or the
   * variances are so small (~1e-300) that they underflow: every inferential figure is `null`.
   */
  ZERO_VARIANCE: 'ZERO_VARIANCE',
  /**
   * The control mean is 0 (or so close to 0 that the relative lift overflows), so the relative lift is undefined:
   * relative figures, chance to beat control, credible interval and posterior are `null`; absolute ones are kept.
   */
  BASELINE_ZERO: 'BASELINE_ZERO',
} as const;

/** One of {@link ComparisonError}. */
export type ComparisonError = (typeof ComparisonError)[keyof typeof ComparisonError];

/**
 * A two-sided interval `[lower, upper]`.
 *
 * @example
 * ```ts
 * const [lo, hi]: Interval = [0.01, 0.19];
 * ```
 */
export type Interval = [number, number];

/**
 * A frequentist test of one difference (relative or absolute). Every field is `null` when the test cannot be run.
 *
 * @example
 * ```ts
 * const { se, dof, ci, pValue }: TestFigures = comparison.relative;
 * ```
 */
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

/**
 * Always-valid figures of one difference; `null` fields when the test cannot be run.
 *
 * @example
 * ```ts
 * const { ci, pValue }: SequentialTestFigures = sequentialTest({ estimate: 0.1, variance: 0.002068 }, 20000, 0.05, 5000);
 * ```
 */
export interface SequentialTestFigures {
  ci: Interval | null;
  pValue: number | null;
}

/**
 * Sequential figures of a comparison: the relative lift at top level (as the spec's shape), the absolute difference nested.
 *
 * @example
 * ```ts
 * const s: SequentialFigures | undefined = comparison.sequential;
 * s?.pValue; s?.absolute.ci;
 * ```
 */
export interface SequentialFigures extends SequentialTestFigures {
  absolute: SequentialTestFigures;
}

/**
 * Mean and per-unit variance of one arm after CUPED.
 *
 * @example
 * ```ts
 * const adjusted: CupedArmFigures | undefined = comparison.cuped?.treatment;
 * ```
 */
export interface CupedArmFigures {
  mean: number;
  variance: number;
}

/**
 * What CUPED (beta) did to a comparison.
 *
 * @example
 * ```ts
 * const theta = comparison.cuped?.theta; // undefined when the metric has no covariate
 * ```
 */
export interface CupedFigures {
  /** Regression coefficient of the metric on the covariate, pooled over control and this treatment. */
  theta: number;
  control: CupedArmFigures;
  treatment: CupedArmFigures;
}

/**
 * One treatment against the control for one metric.
 *
 * @example
 * ```ts
 * const c: Comparison | undefined = analyze(input).metrics.purchase?.comparisons[0];
 * if (c && c.error === null) console.log(c.relativeLift, c.relative.ci, c.chanceToBeatControl);
 * ```
 */
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

/**
 * Per-variant summary of one metric (never CUPED-adjusted).
 *
 * @example
 * ```ts
 * const v: VariantSummary | undefined = analyze(input).metrics.purchase?.variants[0];
 * v?.mean; // conversion rate of the control
 * ```
 */
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

/**
 * Everything computed for one metric.
 *
 * @example
 * ```ts
 * const m: MetricResult | undefined = analyze(input).metrics.revenue;
 * m?.variants.map((v) => v.mean);
 * ```
 */
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

/**
 * Sample ratio mismatch check.
 *
 * @example
 * ```ts
 * const { chiSquare, pValue, mismatch }: SrmResult = sampleRatioMismatch([5000, 5300], [50, 50]);
 * ```
 */
export interface SrmResult {
  /** Pearson's chi-square statistic; `null` when there are no units. */
  chiSquare: number | null;
  /** Number of variants with positive weight minus one. */
  dof: number;
  pValue: number | null;
  /** `pValue < 0.001`, or any unit in a variant whose weight is 0. */
  mismatch: boolean;
}

/**
 * Output of {@link analyze}.
 *
 * @example
 * ```ts
 * const r: AnalysisResult = analyze(input);
 * if (r.srm.mismatch) console.warn('sample ratio mismatch: do not trust these results');
 * ```
 */
export interface AnalysisResult {
  alpha: number;
  /** Whether the comparisons carry sequential figures, and the N* used. */
  sequential: { included: boolean; tuning: number | null };
  prior: NormalPrior | null;
  srm: SrmResult;
  metrics: Record<string, MetricResult>;
}
