import { describe, expect, it } from 'vitest';
import { AA_SCENARIOS, simulateScenario } from '../simulation/aa-simulation.js';
import { evaluateSafety, SafetyAction, SrmAction } from './safety.js';
import type { VariantInput } from './types.js';

const variant = (key: string, units: number, errors: number): VariantInput => ({
  key,
  weight: 50,
  units,
  stats: { errors: { sum: errors, sumSquares: errors, count: errors } },
});
const guardrails = [{ metric: 'errors', type: 'mean' as const, maxRelativeIncrease: 0.1 }];

describe('evaluateSafety', () => {
  it('pauses on a guardrail breach and says which', () => {
    const d = evaluateSafety({ variants: [variant('control', 4000, 0), variant('treatment', 4000, 40)], guardrails });
    expect(d.action).toBe(SafetyAction.PAUSE);
    expect(d.breaches.map((b) => [b.metric, b.variant, b.rule])).toEqual([['errors', 'treatment', 'rate_increase']]);
    expect(d.failures).toEqual([]);
  });

  it('acts on a sample ratio mismatch only on the second pass in a row, as configured', () => {
    const skewed = [variant('control', 5000, 50), variant('treatment', 5600, 56)];
    const first = evaluateSafety({ variants: skewed, guardrails });
    expect(first.srm).toMatchObject({ mismatch: true, streak: 1, sustained: false });
    expect(first.action).toBe(SafetyAction.NONE);
    const second = evaluateSafety({ variants: skewed, guardrails, previousSrmStreak: first.srm.streak });
    expect(second.srm).toMatchObject({ streak: 2, sustained: true, action: 'pause' });
    expect(second.action).toBe(SafetyAction.PAUSE);
    expect(second.breaches).toEqual([]);
    const warned = evaluateSafety({ variants: skewed, guardrails, previousSrmStreak: 1, srmAction: SrmAction.WARN });
    expect(warned.action).toBe(SafetyAction.WARN);
    // A pass without a mismatch resets the streak.
    const fine = evaluateSafety({
      variants: [variant('control', 5000, 50), variant('treatment', 5010, 50)],
      guardrails,
      previousSrmStreak: 1,
    });
    expect(fine.srm.streak).toBe(0);
    expect(fine.action).toBe(SafetyAction.NONE);
  });

  it('lists checks that cannot run and never pauses because of them', () => {
    const d = evaluateSafety({
      variants: [
        variant('control', 4000, 10),
        { ...variant('treatment', 4000, 10), stats: { errors: { sum: Number.NaN, sumSquares: 1 } } },
      ],
      guardrails,
    });
    expect(d.action).toBe(SafetyAction.NONE);
    expect(d.failures).toEqual([
      { check: 'guardrail', metric: 'errors', variant: 'treatment', reason: expect.stringMatching(/non-finite/) },
    ]);
    const srm = evaluateSafety({
      variants: [variant('control', Number.POSITIVE_INFINITY, 1), variant('treatment', 10, 1)],
      guardrails,
      previousSrmStreak: 1,
    });
    expect(srm.failures.some((f) => f.check === 'srm')).toBe(true);
    expect(srm.srm.streak).toBe(1);
  });
});

describe('A/A simulation (the same decision the monitor runs, checked at every pass)', () => {
  // A smaller run than the committed 1,000-experiment report (packages/stats/simulation/aa-results.md).
  const EXPERIMENTS = 200;

  it('pauses at most the nominal 5 % of experiments without a real difference', () => {
    for (const [i, s] of AA_SCENARIOS.entries()) {
      const r = simulateScenario({ ...s, passes: 20 }, EXPERIMENTS, 7 + i);
      expect(r.failures, s.name).toBe(0);
      expect(r.paused / r.experiments, `${s.name}: ${JSON.stringify(r)}`).toBeLessThanOrEqual(0.05);
    }
  }, 60_000);

  it('does pause when the treatment really is worse (the check above is not vacuous)', () => {
    const s = { ...AA_SCENARIOS[1]!, treatmentRate: AA_SCENARIOS[1]!.controlRate * 2, passes: 20 };
    const r = simulateScenario(s, EXPERIMENTS, 99);
    expect(r.paused / r.experiments).toBeGreaterThan(0.5);
    const zero = simulateScenario({ ...AA_SCENARIOS[0]!, controlRate: 0, treatmentRate: 0.003, passes: 20 }, EXPERIMENTS, 100);
    expect(zero.paused / zero.experiments).toBeGreaterThan(0.5);
    expect(zero.pausedBy.rate_increase).toBeGreaterThan(0);
  }, 60_000);
});
