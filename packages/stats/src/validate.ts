import { assertPrior } from './bayesian.js';
import { StatsError, StatsErrorCode } from './errors.js';
import { assertSequentialTuning } from './sequential.js';
import type { AnalyzeInput, CovariateStats, MetricDefinition, MetricStats, VariantInput } from './types.js';
import { MetricType } from './types.js';

const METRIC_TYPES: ReadonlySet<string> = new Set(Object.values(MetricType));

function fail(code: StatsErrorCode, message: string): never {
  throw new StatsError(code, message);
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function checkOptions(input: AnalyzeInput): void {
  if (input.alpha !== undefined && !(isFiniteNumber(input.alpha) && input.alpha > 0 && input.alpha < 1)) {
    fail(StatsErrorCode.INVALID_OPTIONS, `alpha must be in (0, 1), got ${String(input.alpha)}`);
  }
  if (input.sequential !== undefined && typeof input.sequential !== 'boolean') {
    fail(StatsErrorCode.INVALID_OPTIONS, 'sequential must be a boolean');
  }
  if (input.sequentialTuning !== undefined) assertSequentialTuning(input.sequentialTuning);
  if (input.prior !== undefined) assertPrior(input.prior);
}

function checkMetrics(metrics: readonly MetricDefinition[]): void {
  if (!Array.isArray(metrics)) fail(StatsErrorCode.INVALID_METRICS, 'metrics must be an array');
  const seen = new Set<string>();
  for (const m of metrics) {
    if (typeof m?.key !== 'string' || m.key === '') fail(StatsErrorCode.INVALID_METRICS, 'every metric needs a non-empty key');
    if (seen.has(m.key)) fail(StatsErrorCode.INVALID_METRICS, `duplicate metric key "${m.key}"`);
    if (!METRIC_TYPES.has(m.type)) fail(StatsErrorCode.INVALID_METRICS, `metric "${m.key}" has unknown type "${String(m.type)}"`);
    seen.add(m.key);
  }
}

function checkCovariate(where: string, covariate: CovariateStats): void {
  const { sum, sumSquares, sumProducts } = covariate;
  if (!isFiniteNumber(sum) || !isFiniteNumber(sumSquares) || !isFiniteNumber(sumProducts) || sumSquares < 0) {
    fail(StatsErrorCode.INVALID_STATS, `${where}: covariate needs finite sum, sumSquares (>= 0) and sumProducts`);
  }
}

function checkStats(where: string, metric: MetricDefinition, units: number, stats: MetricStats): void {
  const { sum, sumSquares, count } = stats;
  if (!isFiniteNumber(sum) || !isFiniteNumber(sumSquares))
    fail(StatsErrorCode.INVALID_STATS, `${where}: sum and sumSquares must be finite numbers`);
  if (sumSquares < 0) fail(StatsErrorCode.INVALID_STATS, `${where}: sumSquares must be >= 0`);
  if (count !== undefined && !(isFiniteNumber(count) && count >= 0 && count <= units)) {
    fail(StatsErrorCode.INVALID_STATS, `${where}: count must be between 0 and the variant's units (${units})`);
  }
  if (metric.type === MetricType.CONVERSION && !(sum >= 0 && sum <= units)) {
    fail(StatsErrorCode.INVALID_STATS, `${where}: conversions (sum) must be between 0 and the variant's units (${units})`);
  }
  if (stats.covariate !== undefined) checkCovariate(where, stats.covariate);
}

function checkVariants(variants: readonly VariantInput[], metrics: readonly MetricDefinition[]): void {
  if (!Array.isArray(variants) || variants.length < 2)
    fail(StatsErrorCode.INVALID_VARIANTS, 'at least two variants are needed (control first)');
  const seen = new Set<string>();
  let totalWeight = 0;
  for (const v of variants) {
    if (typeof v?.key !== 'string' || v.key === '') fail(StatsErrorCode.INVALID_VARIANTS, 'every variant needs a non-empty key');
    if (seen.has(v.key)) fail(StatsErrorCode.INVALID_VARIANTS, `duplicate variant key "${v.key}"`);
    seen.add(v.key);
    if (!(isFiniteNumber(v.weight) && v.weight >= 0))
      fail(StatsErrorCode.INVALID_VARIANTS, `variant "${v.key}": weight must be a finite number >= 0`);
    if (!(isFiniteNumber(v.units) && v.units >= 0))
      fail(StatsErrorCode.INVALID_VARIANTS, `variant "${v.key}": units must be a finite number >= 0`);
    if (typeof v.stats !== 'object' || v.stats === null) fail(StatsErrorCode.INVALID_STATS, `variant "${v.key}": stats must be an object`);
    totalWeight += v.weight;
    for (const m of metrics) {
      const s = v.stats[m.key];
      if (s !== undefined) checkStats(`variant "${v.key}", metric "${m.key}"`, m, v.units, s);
    }
  }
  if (!(totalWeight > 0)) fail(StatsErrorCode.INVALID_VARIANTS, 'variant weights must sum to more than 0');
  for (const m of metrics) {
    const withCovariate = variants.filter((v) => v.stats[m.key]?.covariate !== undefined).length;
    if (withCovariate > 0 && withCovariate < variants.length) {
      fail(StatsErrorCode.INVALID_STATS, `metric "${m.key}": give a covariate for every variant or for none`);
    }
  }
}

/**
 * Throws {@link StatsError} when `input` is not a well-formed {@link AnalyzeInput}. Data that are
 * merely awkward (zero variance, empty arms) pass: they are reported in the result.
 *
 * @example
 * ```ts
 * validateAnalyzeInput({ metrics: [], variants: [] }); // throws StatsError INVALID_VARIANTS
 * ```
 */
export function validateAnalyzeInput(input: AnalyzeInput): void {
  if (typeof input !== 'object' || input === null) fail(StatsErrorCode.INVALID_OPTIONS, 'input must be an object');
  checkOptions(input);
  checkMetrics(input.metrics);
  checkVariants(input.variants, input.metrics);
}
