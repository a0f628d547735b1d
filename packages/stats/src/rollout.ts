import type { GuardrailCheck, GuardrailDefinition } from './guardrail.js';
import { evaluateSafety, SrmAction, type SafetyFailure } from './safety.js';
import type { VariantInput } from './types.js';

/**
 * What a guarded rollout does after one pass over its two arms.
 *
 * @example
 * ```ts
 * if (step.action === RolloutAction.REGRESSED) rollBack();
 * ```
 */
export const RolloutAction = {
  /** Stay at the current stage: its hold has not elapsed yet. */
  HOLD: 'hold',
  /** The hold elapsed and no guardrail regressed: move to the next stage (or ship at 100 %). */
  ADVANCE: 'advance',
  /** A guardrail regressed: roll back or pause at once, whatever the hold. */
  REGRESSED: 'regressed',
} as const;

/** One of {@link RolloutAction}. */
export type RolloutAction = (typeof RolloutAction)[keyof typeof RolloutAction];

/**
 * One pass of a guarded rollout.
 *
 * @example
 * ```ts
 * const input: RolloutStepInput = { control, treatment, guardrails: [{ metric: 'errors', type: 'conversion', maxRelativeIncrease: 0.05 }], holdElapsed: true };
 * ```
 */
export interface RolloutStepInput {
  /** The arm that keeps the old variant, with each guardrail metric's sufficient statistics since the rollout began. */
  control: VariantInput;
  /** The arm that gets the new variant. */
  treatment: VariantInput;
  guardrails: readonly GuardrailDefinition[];
  /** Whether the current stage has been held for its `hold_minutes`. */
  holdElapsed: boolean;
  /** One-sided false-alarm budget per guardrail over all passes. Default 0.05, as the safety monitor. */
  alpha?: number;
  /** N* of the always-valid intervals. Default 5000. */
  sequentialTuning?: number;
  /** Minimum treatment events before a count rule may breach. Default 5. */
  minimumCount?: number;
}

/**
 * The decision for one pass, and what it rests on.
 *
 * @example
 * ```ts
 * const step: RolloutStep = decideRolloutStep(input);
 * step.checks.map((c) => [c.metric, c.status]);
 * ```
 */
export interface RolloutStep {
  action: RolloutAction;
  /** Breached guardrail checks; any one is a regression. */
  breaches: GuardrailCheck[];
  /** One check per guardrail (estimate and always-valid interval of the relative change). */
  checks: GuardrailCheck[];
  /** Checks that could not run; they never advance a stage silently (see {@link decideRolloutStep}). */
  failures: SafetyFailure[];
}

/**
 * The stage decision of a guarded rollout, as a pure function of the two arms' sufficient
 * statistics: the same sequential guardrail checks and zero- or constant-control handling as the
 * safety monitor ({@link evaluateSafety}), so looking after every pass keeps the false-alarm rate
 * at `alpha`. A regression wins over everything; a stage advances only after its hold, with every
 * guardrail checked and none breached. A check that cannot run holds the stage. A check of an arm
 * without units says `insufficient_data`: it is no failure (a stage at 100 % has no control left to
 * compare), so the caller decides whether a stage with no exposed unit of the new arm may advance.
 *
 * The sample-ratio check of the safety monitor is not applied: the share of the new arm grows
 * stage by stage, so the units accumulated since the start are not split by any single weight.
 *
 * @example
 * ```ts
 * const step = decideRolloutStep({
 *   control: { key: 'off', weight: 95, units: 9500, stats: { errors: { sum: 95, sumSquares: 95, count: 95 } } },
 *   treatment: { key: 'on', weight: 5, units: 500, stats: { errors: { sum: 30, sumSquares: 30, count: 30 } } },
 *   guardrails: [{ metric: 'errors', type: 'conversion', maxRelativeIncrease: 0.05 }],
 *   holdElapsed: true,
 * });
 * step.action; // 'regressed': 6 % errors against 1 %
 * ```
 */
export function decideRolloutStep(input: RolloutStepInput): RolloutStep {
  const { control, treatment, holdElapsed: _holdElapsed, ...options } = input;
  const decision = evaluateSafety({ ...options, variants: [control, treatment], srmAction: SrmAction.WARN });
  const failures = decision.failures.filter((f) => f.check === 'guardrail');
  const regressed = decision.breaches.length > 0;
  const action = regressed
    ? RolloutAction.REGRESSED
    : input.holdElapsed && failures.length === 0
      ? RolloutAction.ADVANCE
      : RolloutAction.HOLD;
  return { action, breaches: decision.breaches, checks: decision.checks, failures };
}
