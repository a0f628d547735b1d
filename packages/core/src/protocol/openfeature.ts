import type { EvaluationDetail } from '../reasons';

/** Human messages for OpenFeature's `errorMessage`, by error code. */
export const ERROR_MESSAGES: Readonly<Record<string, string>> = {
  FLAG_NOT_FOUND: 'no flag or experiment with this key in the config',
  TYPE_MISMATCH: "the flag's value type differs from the default's",
  TARGETING_KEY_MISSING: 'the context has no unit attribute to bucket by (targetingKey, or the bucket_by attribute)',
  PROVIDER_NOT_READY: 'the Switchyard client has no config yet',
  PARSE_ERROR: 'the config could not be parsed',
  GENERAL: 'evaluation failed',
};

/** OpenFeature's `ResolutionDetails`, structurally (no dependency on an OpenFeature package). */
export interface Resolution<T> {
  value: T;
  variant?: string;
  reason: string;
  errorCode?: string;
  errorMessage?: string;
  flagMetadata?: Record<string, string | number | boolean>;
}

/**
 * Maps a Switchyard detail onto OpenFeature's resolution: reasons and error codes keep their
 * names (they are OpenFeature's; `PREREQUISITE_FAILED` passes through as a custom reason), a
 * `null` variant is left out, and the rule id, experiment enrolment and config version go to
 * `flagMetadata`.
 *
 * @example
 * ```ts
 * toResolution({ value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'staff' }, 42);
 * // { value: true, variant: 'on', reason: 'TARGETING_MATCH', flagMetadata: { ruleId: 'staff', configVersion: 42 } }
 * ```
 */
export function toResolution<T>(d: EvaluationDetail<T>, configVersion?: number | null): Resolution<T> {
  const out: Resolution<T> = { value: d.value, reason: d.reason };
  if (d.variant !== null) out.variant = d.variant;
  if (d.errorCode !== undefined) {
    out.errorCode = d.errorCode;
    out.errorMessage = ERROR_MESSAGES[d.errorCode] ?? d.errorCode;
  }
  const meta: Record<string, string | number | boolean> = {};
  if (d.ruleId !== undefined) meta.ruleId = d.ruleId;
  if (d.inExperiment !== undefined) meta.inExperiment = d.inExperiment;
  if (d.experiment !== undefined) meta.experiment = d.experiment;
  if (configVersion !== undefined && configVersion !== null) meta.configVersion = configVersion;
  out.flagMetadata = meta;
  return out;
}
