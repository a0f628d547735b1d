import type { GuardrailDefinition, SafetyInput } from '../src/index.js';
import { evaluateSafety, SafetyAction } from '../src/index.js';
import { addUnit, emptyArms, seededRandom, variantOf } from './simulated-units.js';

/**
 * Simulated experiments checked by the safety monitor's own decision ({@link evaluateSafety}) after
 * every batch of new units, as the server's monitor checks a running experiment on every pass.
 * Deterministic: a seeded generator, so a run can be reproduced and its output committed.
 */

/** One simulated set-up: how units arrive, how their guardrail metric is drawn, which guardrail watches it. */
export interface Scenario {
  name: string;
  /** `conversion`: each unit converts with its arm's rate as probability; `mean`: each unit has Poisson(rate) events of value 1. */
  type: 'conversion' | 'mean';
  controlRate: number;
  /** The treatment's rate: equal to `controlRate` in an A/A test. */
  treatmentRate: number;
  unitsPerPass: number;
  passes: number;
  guardrail: Omit<GuardrailDefinition, 'metric' | 'type'>;
}

/** What happened to a set of simulated experiments. */
export interface ScenarioResult {
  scenario: string;
  experiments: number;
  paused: number;
  /** Pauses by the rule that caused them (`srm` for a sustained sample ratio mismatch). */
  pausedBy: Record<string, number>;
  /** Checks that could not run (must stay 0). */
  failures: number;
}

/** Runs `experiments` simulated experiments of one scenario; returns how many the monitor paused. */
export function simulateScenario(scenario: Scenario, experiments: number, seed: number): ScenarioResult {
  const random = seededRandom(seed);
  const result: ScenarioResult = { scenario: scenario.name, experiments, paused: 0, pausedBy: {}, failures: 0 };
  const guardrail: GuardrailDefinition = { metric: 'guard', type: scenario.type, ...scenario.guardrail };
  for (let e = 0; e < experiments; e++) {
    const arms = emptyArms();
    let streak = 0;
    for (let pass = 0; pass < scenario.passes; pass++) {
      for (let u = 0; u < scenario.unitsPerPass; u++) {
        const i = random() < 0.5 ? 0 : 1;
        addUnit(arms[i]!, scenario.type, i === 0 ? scenario.controlRate : scenario.treatmentRate, random);
      }
      const input: SafetyInput = {
        variants: [variantOf('control', 50, arms[0], 'guard'), variantOf('treatment', 50, arms[1], 'guard')],
        guardrails: [guardrail],
        previousSrmStreak: streak,
      };
      const d = evaluateSafety(input);
      streak = d.srm.streak;
      result.failures += d.failures.length;
      if (d.action === SafetyAction.PAUSE) {
        const why = d.breaches[0]?.rule ?? 'srm';
        result.pausedBy[why] = (result.pausedBy[why] ?? 0) + 1;
        result.paused++;
        break;
      }
    }
  }
  return result;
}

/** The scenarios of the committed A/A report: rare and common rates, zero-control territory, and the worst-case margin of 0. */
export const AA_SCENARIOS: readonly Scenario[] = [
  {
    name: 'rare errors, conversion 0.1 % (control often at 0 early)',
    type: 'conversion',
    controlRate: 0.001,
    treatmentRate: 0.001,
    unitsPerPass: 400,
    passes: 30,
    guardrail: { maxRelativeIncrease: 0.1 },
  },
  {
    name: 'errors per unit, Poisson mean 0.02',
    type: 'mean',
    controlRate: 0.02,
    treatmentRate: 0.02,
    unitsPerPass: 400,
    passes: 30,
    guardrail: { maxRelativeIncrease: 0.1 },
  },
  {
    name: 'conversion 10 %',
    type: 'conversion',
    controlRate: 0.1,
    treatmentRate: 0.1,
    unitsPerPass: 400,
    passes: 30,
    guardrail: { maxRelativeIncrease: 0.1 },
  },
  {
    name: 'worst case: margin 0 (any increase breaches), conversion 1 %',
    type: 'conversion',
    controlRate: 0.01,
    treatmentRate: 0.01,
    unitsPerPass: 400,
    passes: 30,
    guardrail: { maxRelativeIncrease: 0 },
  },
  {
    name: 'worst case: margin 0 and a ceiling at the true rate, errors per unit, Poisson mean 0.01',
    type: 'mean',
    controlRate: 0.01,
    treatmentRate: 0.01,
    unitsPerPass: 400,
    passes: 30,
    guardrail: { maxRelativeIncrease: 0, maxValue: 0.01 },
  },
];
