export { analyze, DEFAULT_ALPHA } from './analyze.js';
export type { BayesianFigures } from './bayesian.js';
export { assertPrior, bayesianSummary } from './bayesian.js';
export type { ArmStats, CompareOptions } from './compare.js';
export { compareArms } from './compare.js';
export type { CupedAdjustment, CupedArmAdjustment, CupedArmStats } from './cuped.js';
export { cupedAdjust } from './cuped.js';
export { chiSquareCdf, chiSquarePdf, chiSquareSf } from './distributions/chi-square.js';
export { normalCdf, normalPdf, normalQuantile, normalSf } from './distributions/normal.js';
export {
  betaContinuedFraction,
  erfc,
  logBeta,
  logGamma,
  regularizedGammaP,
  regularizedGammaQ,
  regularizedIncompleteBeta,
} from './distributions/special-functions.js';
export { studentTCdf, studentTPdf, studentTQuantile, studentTSf } from './distributions/t.js';
export { StatsError, StatsErrorCode } from './errors.js';
export type { ArmEstimate, DifferenceEstimate } from './frequentist.js';
export type { GuardrailArm, GuardrailCheck, GuardrailDefinition, GuardrailOptions } from './guardrail.js';
export { checkGuardrail, GuardrailRule, GuardrailStatus } from './guardrail.js';
export type { RateArm } from './rate-test.js';
export { rateIncreaseEValue } from './rate-test.js';
export type { SafetyDecision, SafetyFailure, SafetyInput } from './safety.js';
export { decideRolloutStep, RolloutAction, type RolloutStep, type RolloutStepInput } from './rollout.js';
export {
  DEFAULT_GUARDRAIL_ALPHA,
  DEFAULT_GUARDRAIL_MINIMUM_COUNT,
  evaluateSafety,
  SafetyAction,
  SRM_SUSTAINED_PASSES,
  SrmAction,
} from './safety.js';
export {
  absoluteDifference,
  finiteInterval,
  finiteOrNull,
  relativeDifference,
  twoSidedTTest,
  welchDegreesOfFreedom,
} from './frequentist.js';
export type { Moments } from './moments.js';
export { metricMoments, sampleCovariance, sampleVariance } from './moments.js';
export {
  assertSequentialTuning,
  DEFAULT_SEQUENTIAL_TUNING,
  sequentialHalfWidth,
  sequentialPValue,
  sequentialRho,
  sequentialTest,
} from './sequential.js';
export { SRM_P_VALUE_THRESHOLD, sampleRatioMismatch } from './srm.js';
export type {
  AnalysisResult,
  Comparison,
  CupedArmFigures,
  CupedFigures,
  Interval,
  MetricResult,
  SequentialFigures,
  SequentialTestFigures,
  SrmResult,
  TestFigures,
  VariantSummary,
} from './result-types.js';
export { ComparisonError } from './result-types.js';
export type { AnalyzeInput, CovariateStats, MetricDefinition, MetricStats, NormalPrior, VariantInput } from './types.js';
export { MetricType } from './types.js';
export { validateAnalyzeInput } from './validate.js';
