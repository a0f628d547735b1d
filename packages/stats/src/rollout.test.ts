import { describe, expect, it } from 'vitest';
import { decideRolloutStep, RolloutAction } from './index.js';
import type { VariantInput } from './types.js';

const arm = (key: string, weight: number, units: number, errors: number): VariantInput => ({
  key,
  weight,
  units,
  stats: { errors: { sum: errors, sumSquares: errors, count: errors } },
});
const guardrails = [{ metric: 'errors', type: 'conversion' as const, maxRelativeIncrease: 0.05 }];

describe('decideRolloutStep', () => {
  it('holds a healthy stage until its hold elapses, then advances', () => {
    const healthy = { control: arm('off', 75, 7500, 75), treatment: arm('on', 25, 2500, 25), guardrails };
    expect(decideRolloutStep({ ...healthy, holdElapsed: false }).action).toBe(RolloutAction.HOLD);
    const step = decideRolloutStep({ ...healthy, holdElapsed: true });
    expect(step.action).toBe(RolloutAction.ADVANCE);
    expect(step.breaches).toEqual([]);
    expect(step.checks).toHaveLength(1);
    expect(step.checks[0]!.metric).toBe('errors');
  });

  it('reports a regression at once, before the hold elapses', () => {
    const step = decideRolloutStep({ control: arm('off', 95, 9500, 95), treatment: arm('on', 5, 500, 30), guardrails, holdElapsed: false });
    expect(step.action).toBe(RolloutAction.REGRESSED);
    expect(step.breaches.map((b) => b.metric)).toEqual(['errors']);
  });

  it('catches errors only the new arm emits (a control with none at all)', () => {
    const step = decideRolloutStep({
      control: arm('off', 90, 9000, 0),
      treatment: arm('on', 10, 1000, 12),
      guardrails,
      holdElapsed: false,
    });
    expect(step.action).toBe(RolloutAction.REGRESSED);
    expect(step.breaches[0]!.rule).toBe('rate_increase');
  });

  it('ignores the sample ratio: units accumulated over growing stages match no single weight', () => {
    // 5 % then 50 %: far from either weight, yet healthy.
    const step = decideRolloutStep({
      control: arm('off', 50, 7000, 70),
      treatment: arm('on', 50, 3000, 30),
      guardrails,
      holdElapsed: true,
    });
    expect(step.action).toBe(RolloutAction.ADVANCE);
  });

  it('says an arm without units has nothing to judge: neither a pass nor a failure', () => {
    const step = decideRolloutStep({ control: arm('off', 100, 40, 0), treatment: arm('on', 0, 0, 0), guardrails, holdElapsed: false });
    expect(step.checks.map((c) => [c.status, c.reason])).toEqual([['insufficient_data', 'the treatment arm has no units']]);
    expect(step.failures).toEqual([]);
    expect(step.action).toBe(RolloutAction.HOLD);
  });

  it('holds (never advances) when a check cannot be computed', () => {
    const step = decideRolloutStep({
      control: arm('off', 50, 1000, 10),
      treatment: { key: 'on', weight: 50, units: 1000, stats: { errors: { sum: Number.NaN, sumSquares: 1, count: 1 } } },
      guardrails,
      holdElapsed: true,
    });
    expect(step.failures.length).toBeGreaterThan(0);
    expect(step.action).toBe(RolloutAction.HOLD);
  });
});
