import type { Comparison, MetricResult, VariantInput } from '@switchyard/stats';

/**
 * Share of the variance of the estimated difference that CUPED removed:
 * `1 - se_adjusted^2 / se_unadjusted^2` of the absolute lift; `null` when either has no standard error.
 *
 * @example
 * ```ts
 * varianceReduction(adjusted.comparisons[0]!, plain.comparisons[0]!); // 0.64 with a covariate correlated at 0.8
 * ```
 */
export function varianceReduction(adjusted: Comparison, unadjusted: Comparison): number | null {
  const a = adjusted.absolute.se;
  const u = unadjusted.absolute.se;
  if (a === null || u === null || !(u > 0)) return null;
  return 1 - (a * a) / (u * u);
}

/**
 * The metric's comparisons for the results payload with CUPED: the adjusted figures stay where
 * they are, and each comparison's `cuped` gains `unadjusted` (the same comparison without the
 * covariate) and `variance_reduction`.
 *
 * @example
 * ```ts
 * Object.assign(metricOut, cupedReport(adjusted, plain, 14, toSnake));
 * ```
 */
export function cupedReport(
  adjusted: MetricResult,
  unadjusted: MetricResult,
  windowDays: number,
  snake: (v: unknown) => unknown,
): { cuped_window_days: number; comparisons: Record<string, unknown>[] } {
  return {
    cuped_window_days: windowDays,
    comparisons: adjusted.comparisons.map((c, i) => {
      const u = unadjusted.comparisons[i]!;
      const out = snake(c) as Record<string, unknown>;
      const plain = {
        absoluteLift: u.absoluteLift,
        relativeLift: u.relativeLift,
        error: u.error,
        absolute: u.absolute,
        relative: u.relative,
        chanceToBeatControl: u.chanceToBeatControl,
        ...(u.sequential === undefined ? {} : { sequential: u.sequential }),
      };
      return {
        ...out,
        cuped: { ...(out.cuped as Record<string, unknown>), variance_reduction: varianceReduction(c, u), unadjusted: snake(plain) },
      };
    }),
  };
}

/**
 * The same variants without any covariate: the plain analysis CUPED is reported beside.
 *
 * @example
 * ```ts
 * analyze({ ...input, variants: withoutCovariates(variants) });
 * ```
 */
export function withoutCovariates(variants: readonly VariantInput[]): VariantInput[] {
  return variants.map((v) => ({
    ...v,
    stats: Object.fromEntries(
      Object.entries(v.stats).map(([k, s]) => {
        if (s === undefined) return [k, s];
        const { covariate: _dropped, ...rest } = s;
        return [k, rest];
      }),
    ),
  }));
}
