export { hash32, bucket, createBucketer, toBasisPoints, BUCKETS, type Bucketer } from './hash';
export { compileConfig, patchCompiledConfig, type CompiledConfig } from './compile';
export { evaluate, evaluateAll } from './evaluate';
export { applyPatch, emptyConfig, type ConfigPatch } from './patch';
export { parseSemver, compareSemver, type SemVer } from './semver';
export { Reason, ErrorCode, type EvaluationDetail } from './reasons';
export { MAX_ATTRIBUTE_LENGTH } from './limits';
export { CoreError, CoreErrorCode } from './errors';
export type { CompiledEntry } from './flag';
export type { EvaluationVector, EvaluationVectorConfig, EvaluationVectors } from './spec-vectors';
export {
  OPERATORS,
  FLAG_TYPES,
  EXPERIMENT_STATUSES,
  type Operator,
  type ConditionValue,
  type LeafCondition,
  type Condition,
  type JsonValue,
  type Variant,
  type SplitEntry,
  type Serve,
  type Rule,
  type Prerequisite,
  type FlagType,
  type Flag,
  type Segment,
  type ExperimentStatus,
  type ExperimentVariant,
  type NamespaceRange,
  type ConfigExperiment,
  type ConfigDocument,
  type EvaluationContext,
} from './types';
