import { describe, expect, it } from 'vitest';
import { checkGuardrail, GuardrailRule, GuardrailStatus, type GuardrailArm } from './guardrail.js';

const options = { alpha: 0.05, sequentialTuning: 5000, minimumCount: 5 };
const arm = (key: string, units: number, sum: number, sumSquares = sum, count?: number): GuardrailArm => ({
  key,
  units,
  sum,
  sumSquares,
  ...(count === undefined ? {} : { count }),
});

describe('checkGuardrail', () => {
  it('breaches on the relative lift when both arms vary (the usual case)', () => {
    const c = checkGuardrail(
      { metric: 'errors', type: 'conversion', maxRelativeIncrease: 0.1 },
      arm('control', 6000, 300),
      arm('treatment', 6000, 720),
      options,
    );
    expect(c.status).toBe(GuardrailStatus.BREACH);
    expect(c.rule).toBe(GuardrailRule.RELATIVE_INCREASE);
    expect(c.sequentialCi![0]).toBeGreaterThan(0.1);
  });

  it('breaches when the control never had the event (an error only the treatment emits)', () => {
    for (const type of ['conversion', 'mean'] as const) {
      const c = checkGuardrail(
        { metric: 'errors', type, maxRelativeIncrease: 0.1 },
        arm('control', 3000, 0, 0, 0),
        arm('treatment', 3000, 40, 40, 40),
        options,
      );
      expect([type, c.status, c.rule]).toEqual([type, 'breach', 'rate_increase']);
      expect(c.eValue).toBeGreaterThanOrEqual(40);
    }
  });

  it('waits for the minimum count even when the split is lopsided enough', () => {
    // 4 events in a 5 % arm against none in a 95 % arm is strong evidence, but under the minimum count.
    const check = (t: number) =>
      checkGuardrail({ metric: 'e', type: 'conversion', maxRelativeIncrease: 0.1 }, arm('control', 9500, 0), arm('t', 500, t), options);
    expect(check(4).status).toBe('ok');
    expect(check(4).eValue).toBeNull();
    expect(check(5).status).toBe('breach');
  });

  it('does not breach on a handful of treatment events or equal rates', () => {
    const few = checkGuardrail(
      { metric: 'e', type: 'conversion', maxRelativeIncrease: 0.1 },
      arm('c', 3000, 0),
      arm('t', 3000, 6),
      options,
    );
    expect(few.status).toBe('ok');
    const equal = checkGuardrail(
      { metric: 'e', type: 'conversion', maxRelativeIncrease: 0 },
      arm('c', 3000, 60),
      arm('t', 3000, 60),
      options,
    );
    expect(equal.status).toBe('ok');
  });

  it('judges a treatment against a constant non-zero control', () => {
    // Every control unit had exactly one event of value 1; treatment units have 1 or 3.
    const c = checkGuardrail(
      { metric: 'calls', type: 'mean', maxRelativeIncrease: 0.1 },
      arm('control', 2000, 2000, 2000, 2000),
      arm('treatment', 2000, 3000, 5000, 2000),
      options,
    );
    expect([c.status, c.rule]).toEqual(['breach', 'constant_control']);
    expect(c.relativeLift).toBeCloseTo(0.5, 12);
    // Both constant: a plain comparison of the two values once both arms have the minimum count.
    const both = checkGuardrail(
      { metric: 'calls', type: 'mean', maxRelativeIncrease: 0.1 },
      arm('control', 10, 10, 10, 10),
      arm('treatment', 10, 20, 40, 10),
      options,
    );
    expect([both.status, both.rule]).toEqual(['breach', 'constant_control']);
  });

  it('breaches an absolute ceiling, alone or beside a relative one', () => {
    const ceiling = { metric: 'latency_errors', type: 'conversion' as const, maxValue: 0.02 };
    const over = checkGuardrail(ceiling, arm('c', 5000, 250), arm('t', 5000, 250), options);
    expect([over.status, over.rule, over.threshold]).toEqual(['breach', 'max_value', 0.02]);
    expect(over.sequentialCi![0]).toBeGreaterThan(0.02);
    const under = checkGuardrail(ceiling, arm('c', 5000, 50), arm('t', 5000, 60), options);
    expect(under.status).toBe('ok');
    const both = checkGuardrail({ ...ceiling, maxRelativeIncrease: 5 }, arm('c', 5000, 250), arm('t', 5000, 260), options);
    expect(both.rule).toBe('max_value');
  });

  it('reports statistics it cannot compute instead of skipping them', () => {
    const def = { metric: 'errors', type: 'mean' as const, maxRelativeIncrease: 0.1 };
    const nan = checkGuardrail(def, arm('c', 100, Number.NaN, 1), arm('t', 100, 5), options);
    expect(nan.status).toBe(GuardrailStatus.UNCOMPUTABLE);
    expect(nan.reason).toMatch(/non-finite/);
    const inf = checkGuardrail(def, arm('c', 100, 5, 5), arm('t', 100, 5, Number.POSITIVE_INFINITY), options);
    expect(inf.status).toBe('uncomputable');
    const none = checkGuardrail({ metric: 'e', type: 'mean' }, arm('c', 1, 1), arm('t', 1, 1), options);
    expect(none.status).toBe('uncomputable');
  });

  it('says there is nothing to judge while an arm has no units, rather than passing it', () => {
    const def = { metric: 'e', type: 'mean', maxRelativeIncrease: 0.1, maxValue: 1 } as const;
    const noControl = checkGuardrail(def, arm('c', 0, 0), arm('t', 10, 10), options);
    expect(noControl).toMatchObject({ status: GuardrailStatus.INSUFFICIENT_DATA, reason: 'the control arm has no units' });
    const noTreatment = checkGuardrail(def, arm('c', 10, 10), arm('t', 0, 0), options);
    expect(noTreatment).toMatchObject({ status: 'insufficient_data', reason: 'the treatment arm has no units', treatmentMean: null });
    // Units without events are data: a zero rate in both arms passes.
    expect(checkGuardrail(def, arm('c', 10, 0), arm('t', 10, 0), options)).toMatchObject({ status: 'ok', reason: null });
  });
});
