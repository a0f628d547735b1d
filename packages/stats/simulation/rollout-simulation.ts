import type { GuardrailDefinition } from '../src/index.js';
import { decideRolloutStep, RolloutAction } from '../src/index.js';
import { addUnit, emptyArms, seededRandom, variantOf } from './simulated-units.js';

/**
 * Simulated guarded rollouts decided by {@link decideRolloutStep}, the rollout job's own decision,
 * after every pass. New units arrive each pass and join the new arm with the current stage's share
 * (a unit never leaves its arm); a stage advances after its hold when no guardrail regressed; a
 * regression ends the rollout (rolled back). Deterministic: seeded.
 */

/** One simulated set-up. */
export interface RolloutScenario {
  name: string;
  /** `conversion`: a unit has an error with its arm's rate as probability; `mean`: Poisson(rate) errors per unit. */
  type: 'conversion' | 'mean';
  controlRate: number;
  /** The new arm's rate: equal to `controlRate` for a healthy rollout. */
  treatmentRate: number;
  /** Percent of units in the new arm at each stage before 100 %. */
  stages: readonly number[];
  /** Passes each stage is held (a pass is a minute of traffic). */
  holdPasses: number;
  unitsPerPass: number;
  guardrail: Omit<GuardrailDefinition, 'metric' | 'type'>;
}

/** What happened to a set of simulated rollouts. */
export interface RolloutScenarioResult {
  rollouts: number;
  shipped: number;
  rolledBack: number;
  /** Passes from the start until the rollback, one entry per rolled-back rollout. */
  passesToRollback: number[];
  /** New-arm units exposed before the rollback, one entry per rolled-back rollout. */
  exposedBeforeRollback: number[];
  /** Rollbacks by the stage percent they happened at. */
  rolledBackAtStage: Record<string, number>;
  /** Checks that could not run (must stay 0). */
  failures: number;
}

/** Runs `rollouts` simulated rollouts of one scenario. */
export function simulateRollouts(s: RolloutScenario, rollouts: number, seed: number): RolloutScenarioResult {
  const random = seededRandom(seed);
  const out: RolloutScenarioResult = {
    rollouts,
    shipped: 0,
    rolledBack: 0,
    passesToRollback: [],
    exposedBeforeRollback: [],
    rolledBackAtStage: {},
    failures: 0,
  };
  const guardrail: GuardrailDefinition = { metric: 'errors', type: s.type, ...s.guardrail };
  for (let r = 0; r < rollouts; r++) {
    const arms = emptyArms();
    let stage = 0;
    let held = 0;
    let pass = 0;
    let done = false;
    while (!done) {
      const percent = s.stages[stage]!;
      for (let u = 0; u < s.unitsPerPass; u++) {
        const i = random() < percent / 100 ? 1 : 0;
        addUnit(arms[i]!, s.type, i === 0 ? s.controlRate : s.treatmentRate, random);
      }
      pass++;
      held++;
      const step = decideRolloutStep({
        control: variantOf('off', 100 - percent, arms[0], 'errors'),
        treatment: variantOf('on', percent, arms[1], 'errors'),
        guardrails: [guardrail],
        holdElapsed: held >= s.holdPasses,
      });
      out.failures += step.failures.length;
      if (step.action === RolloutAction.REGRESSED) {
        out.rolledBack++;
        out.passesToRollback.push(pass);
        out.exposedBeforeRollback.push(arms[1].units);
        const at = `${percent} %`;
        out.rolledBackAtStage[at] = (out.rolledBackAtStage[at] ?? 0) + 1;
        done = true;
      } else if (step.action === RolloutAction.ADVANCE) {
        stage++;
        held = 0;
        if (stage === s.stages.length) {
          out.shipped++; // the next stage is 100 %: the rollout ships
          done = true;
        }
      }
    }
  }
  return out;
}

const BASE = { stages: [5, 25, 50], holdPasses: 15, unitsPerPass: 400 } as const;

/** Healthy rollouts: any rollback is a false one. */
export const HEALTHY_ROLLOUTS: readonly RolloutScenario[] = [
  {
    ...BASE,
    name: 'errors 1 % (conversion), margin 5 %',
    type: 'conversion',
    controlRate: 0.01,
    treatmentRate: 0.01,
    guardrail: { maxRelativeIncrease: 0.05 },
  },
  {
    ...BASE,
    name: 'rare errors 0.1 % (conversion), margin 5 %',
    type: 'conversion',
    controlRate: 0.001,
    treatmentRate: 0.001,
    guardrail: { maxRelativeIncrease: 0.05 },
  },
  {
    ...BASE,
    name: 'errors per unit, Poisson mean 0.02, margin 5 %',
    type: 'mean',
    controlRate: 0.02,
    treatmentRate: 0.02,
    guardrail: { maxRelativeIncrease: 0.05 },
  },
  {
    ...BASE,
    name: 'worst case: margin 0, errors 1 % (conversion)',
    type: 'conversion',
    controlRate: 0.01,
    treatmentRate: 0.01,
    guardrail: { maxRelativeIncrease: 0 },
  },
];

/** Regressed rollouts: how soon they are rolled back. */
export const REGRESSED_ROLLOUTS: readonly RolloutScenario[] = [
  {
    ...BASE,
    name: 'errors 1 % -> 2 % (conversion), margin 5 %',
    type: 'conversion',
    controlRate: 0.01,
    treatmentRate: 0.02,
    guardrail: { maxRelativeIncrease: 0.05 },
  },
  {
    ...BASE,
    name: 'errors 1 % -> 1.5 % (conversion), margin 5 %',
    type: 'conversion',
    controlRate: 0.01,
    treatmentRate: 0.015,
    guardrail: { maxRelativeIncrease: 0.05 },
  },
  {
    ...BASE,
    name: 'errors only the new arm emits, 0 -> 0.5 % (conversion)',
    type: 'conversion',
    controlRate: 0,
    treatmentRate: 0.005,
    guardrail: { maxRelativeIncrease: 0.05 },
  },
];
