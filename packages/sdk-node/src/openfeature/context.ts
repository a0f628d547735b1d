import type { EvaluationContext as OpenFeatureContext } from '@openfeature/server-sdk';
import type { EvaluationContext } from '@switchyard/core';

/**
 * OpenFeature's context to Switchyard's: `targetingKey` becomes `key` (the unit), every other
 * attribute passes through unchanged (Dates included: the date operators read them).
 *
 * @example
 * ```ts
 * toSwitchyardContext({ targetingKey: 'user-1', country: 'US' }); // { key: 'user-1', country: 'US' }
 * ```
 */
export function toSwitchyardContext(context: OpenFeatureContext | undefined): EvaluationContext {
  if (context === undefined || context === null) return {};
  const { targetingKey, ...rest } = context;
  const out: EvaluationContext = rest;
  if (targetingKey !== undefined) out.key = targetingKey;
  return out;
}
