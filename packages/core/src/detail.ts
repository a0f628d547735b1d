import type { EvaluationDetail, ErrorCode, Reason } from './reasons';
import type { EvaluationContext } from './types';

/**
 * Details are built once at compile time and shared by every call that lands on them, so
 * they are frozen. A detail whose `variant` is `null` stands for "the caller's default":
 * `evaluate` copies it with the caller's value, the only allocation on those paths.
 */
export function detail(
  value: unknown,
  variant: string | null,
  reason: Reason,
  extra?: { ruleId?: string | undefined; errorCode?: ErrorCode; inExperiment?: boolean },
): EvaluationDetail {
  const d: EvaluationDetail = { value, variant, reason };
  if (extra?.ruleId !== undefined) d.ruleId = extra.ruleId;
  if (extra?.errorCode !== undefined) d.errorCode = extra.errorCode;
  if (extra?.inExperiment !== undefined) d.inExperiment = extra.inExperiment;
  return Object.freeze(d);
}

/** A compiled serve: from a context to a prebuilt detail. */
export type Resolver = (context: EvaluationContext) => EvaluationDetail;

/** The unit id for bucketing: the protocol's one rule (an empty or missing id is no unit). */
export { unitIdOf } from './protocol/unit';
