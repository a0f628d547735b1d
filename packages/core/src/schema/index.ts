export { conditionSchema, checkCondition, segmentRefs, MAX_CONDITION_DEPTH } from './condition';
export {
  keySchema,
  KEY_PATTERN,
  percentSchema,
  serveSchema,
  flagSchema,
  FLAG_STATE_FIELDS,
  type FlagStateField,
  segmentSchema,
  experimentVariantSchema,
  namespaceSchema,
  configExperimentSchema,
  checkWeights,
  checkExperimentVariants,
} from './resources';
export { configDocumentSchema, checkReferences, validateConfig, formatPath, type ConfigIssue, type ValidationResult } from './document';
export { unsafePatternReason, MAX_PATTERN_LENGTH } from './regex-safety';
export { compileRegex, MAX_STATES, type RegexTest } from '../re2/engine';
export { checkRegexSyntax, MAX_REPEAT, type SyntaxProblem } from '../re2/syntax';
export { checkPatchReferences } from './patch-references';
