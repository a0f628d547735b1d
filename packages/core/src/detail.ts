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
  extra?: { ruleId?: string | undefined; errorCode?: ErrorCode; inExperiment?: boolean | undefined; experiment?: string | undefined },
): EvaluationDetail {
  const d: Record<string, unknown> = { value, variant, reason };
  // Only the fields that are set: an absent optional field is absent, never `undefined`.
  for (const k in extra) if (extra[k as keyof typeof extra] !== undefined) d[k] = extra[k as keyof typeof extra];
  return Object.freeze(d) as unknown as EvaluationDetail;
}

/** A compiled serve: from a context to a prebuilt detail. */
export type Resolver = (context: EvaluationContext) => EvaluationDetail;

/** The unit id for bucketing: the protocol's one rule (an empty or missing id is no unit). */
export { unitIdOf } from './protocol/unit';
