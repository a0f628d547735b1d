import type { GuardrailDefinition, SafetyInput, VariantInput } from '../src/index.js';
import { evaluateSafety, SafetyAction } from '../src/index.js';

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

/** mulberry32: a small, fast, seedable generator (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Knuth's method: fine for the small means used here. */
function poisson(random: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}

interface Arm {
  units: number;
  sum: number;
  sumSquares: number;
  count: number;
}

/** Runs `experiments` simulated experiments of one scenario; returns how many the monitor paused. */
export function simulateScenario(scenario: Scenario, experiments: number, seed: number): ScenarioResult {
  const random = seededRandom(seed);
  const result: ScenarioResult = { scenario: scenario.name, experiments, paused: 0, pausedBy: {}, failures: 0 };
  const guardrail: GuardrailDefinition = { metric: 'guard', type: scenario.type, ...scenario.guardrail };
  for (let e = 0; e < experiments; e++) {
    const arms: [Arm, Arm] = [
      { units: 0, sum: 0, sumSquares: 0, count: 0 },
      { units: 0, sum: 0, sumSquares: 0, count: 0 },
    ];
    let streak = 0;
    for (let pass = 0; pass < scenario.passes; pass++) {
      for (let u = 0; u < scenario.unitsPerPass; u++) {
        const i = random() < 0.5 ? 0 : 1;
        const arm = arms[i]!;
        const rate = i === 0 ? scenario.controlRate : scenario.treatmentRate;
        const value = scenario.type === 'conversion' ? (random() < rate ? 1 : 0) : poisson(random, rate);
        arm.units++;
        arm.sum += value;
        arm.sumSquares += value * value;
        if (value > 0) arm.count++;
      }
      const variant = (key: string, a: Arm): VariantInput => ({
        key,
        weight: 50,
        units: a.units,
        stats: { guard: { sum: a.sum, sumSquares: a.sumSquares, count: a.count } },
      });
      const input: SafetyInput = {
        variants: [variant('control', arms[0]), variant('treatment', arms[1])],
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
