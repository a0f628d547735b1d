import type { CompiledConfig } from './compile';
import type { EvaluationContext } from './types';
import { ErrorCode, Reason, type EvaluationDetail } from './reasons';

function callerDefault<T>(value: T, reason: Reason, errorCode?: ErrorCode, from?: EvaluationDetail): EvaluationDetail<T> {
  // `from` (a detail without a variant) lends its optional fields: rule id, error code, enrolment.
  const d = { ...from, value, variant: null, reason } as EvaluationDetail<T>;
  if (errorCode !== undefined) d.errorCode = errorCode;
  return d;
}

/**
 * Evaluates one flag or experiment for a context. Never throws and never does I/O.
 *
 * Order: unknown key -> caller's default (`ERROR`, `FLAG_NOT_FOUND`); disabled -> off variant
 * (`DISABLED`); failed prerequisite -> off variant (`PREREQUISITE_FAILED`); first matching rule
 * (`TARGETING_MATCH` or `SPLIT`); default serve (`DEFAULT` or `SPLIT`). A value whose type
 * differs from `defaultValue` returns the default with `TYPE_MISMATCH`. Pass `null` or
 * `undefined` as the default to skip the type check.
 *
 * The returned object may be shared between calls: treat it as read-only.
 *
 * @example
 * ```ts
 * const d = evaluate(compiled, 'new-checkout', { key: 'user-1', country: 'US' }, false);
 * // { value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'staff' }
 * ```
 */
export function evaluate<T>(compiled: CompiledConfig, flagKey: string, context: EvaluationContext, defaultValue: T): EvaluationDetail<T> {
  const entry = compiled.entries.get(flagKey);
  if (entry === undefined) return callerDefault(defaultValue, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND);
  let d: EvaluationDetail;
  try {
    d = entry.resolve(context ?? {});
  } catch {
    // Only a hostile context (a throwing getter) can get here; evaluation still never throws.
    const e = callerDefault(defaultValue, Reason.ERROR, ErrorCode.GENERAL);
    if (entry.kind === 'experiment') e.inExperiment = false; // experiment keys always say whether to expose
    return e;
  }
  if (d.variant === null) return callerDefault(defaultValue, d.reason, undefined, d);
  if (defaultValue !== undefined && defaultValue !== null && typeof d.value !== typeof defaultValue) {
    const e = callerDefault(defaultValue, Reason.ERROR, ErrorCode.TYPE_MISMATCH);
    if (d.inExperiment !== undefined) e.inExperiment = false; // the caller's default is no exposure
    return e;
  }
  return d as EvaluationDetail<T>;
}

/**
 * Evaluates every flag and experiment for one context, without type checks (there is no
 * caller default): what the server's remote-evaluation endpoint returns. A guarded rollout's
 * internal experiment (one with `rollout` set) is left out: it is no flag of the application,
 * and the flag that serves it already names it in its own result (`experiment`). `evaluate()`
 * still answers it by key.
 *
 * @example
 * ```ts
 * const all = evaluateAll(compiled, { key: 'user-1' });
 * all['new-checkout']?.value;
 * ```
 */
export function evaluateAll(compiled: CompiledConfig, context: EvaluationContext): Record<string, EvaluationDetail> {
  const out: Record<string, EvaluationDetail> = {};
  const experiments = compiled.document.experiments;
  for (const [key, entry] of compiled.entries) {
    if (entry.kind === 'experiment' && experiments[key]?.rollout !== undefined) continue;
    out[key] = evaluate(compiled, key, context, null);
  }
  return out;
}
