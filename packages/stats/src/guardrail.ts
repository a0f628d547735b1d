import { compareArms } from './compare.js';
import { metricMoments } from './moments.js';
import { rateIncreaseEValue } from './rate-test.js';
import type { Interval } from './result-types.js';
import { ComparisonError } from './result-types.js';
import { sequentialTest } from './sequential.js';
import type { MetricType } from './types.js';
import { MetricType as MetricTypes } from './types.js';

/**
 * The rules a guardrail check can breach on.
 *
 * @example
 * ```ts
 * if (check.rule === GuardrailRule.RATE_INCREASE) console.log('treatment events with a control of', check.controlMean);
 * ```
 */
export const GuardrailRule = {
  /** Always-valid interval of the relative lift entirely above `maxRelativeIncrease`. */
  RELATIVE_INCREASE: 'relative_increase',
  /** Count test (see {@link rateIncreaseEValue}): catches a control with no events at all. */
  RATE_INCREASE: 'rate_increase',
  /** Every control unit has the same value: the treatment's interval against that value times `1 + maxRelativeIncrease`. */
  CONSTANT_CONTROL: 'constant_control',
  /** Always-valid interval of the treatment's mean entirely above the absolute ceiling `maxValue`. */
  MAX_VALUE: 'max_value',
} as const;

/** One of {@link GuardrailRule}. */
export type GuardrailRule = (typeof GuardrailRule)[keyof typeof GuardrailRule];

/**
 * Outcome of one guardrail check of one treatment.
 *
 * @example
 * ```ts
 * if (check.status === GuardrailStatus.UNCOMPUTABLE) alert(check.reason);
 * ```
 */
export const GuardrailStatus = {
  OK: 'ok',
  BREACH: 'breach',
  /** An arm has no units: there is nothing to judge, which is not the same as passing. */
  INSUFFICIENT_DATA: 'insufficient_data',
  /** The statistics could not be computed (non-finite input, underflow): the guardrail is not protecting anything. */
  UNCOMPUTABLE: 'uncomputable',
} as const;

/** One of {@link GuardrailStatus}. */
export type GuardrailStatus = (typeof GuardrailStatus)[keyof typeof GuardrailStatus];

/**
 * A guardrail: at least one of `maxRelativeIncrease` (0.1 = the treatment may be at most 10 %
 * worse than control) and `maxValue` (an absolute ceiling on the treatment's per-unit mean or rate).
 *
 * @example
 * ```ts
 * const errors: GuardrailDefinition = { metric: 'errors', type: 'mean', maxRelativeIncrease: 0.1, maxValue: 0.02 };
 * ```
 */
export interface GuardrailDefinition {
  metric: string;
  type: MetricType;
  maxRelativeIncrease?: number;
  maxValue?: number;
}

/**
 * One arm's sufficient statistics for the guardrail's metric. `count` is the number of units with
 * at least one event; the count rule needs it for a `mean` metric (a conversion's count is its sum).
 *
 * @example
 * ```ts
 * const control: GuardrailArm = { key: 'control', units: 5000, sum: 0, sumSquares: 0, count: 0 };
 * ```
 */
export interface GuardrailArm {
  key: string;
  units: number;
  sum: number;
  sumSquares: number;
  count?: number | undefined;
}

/**
 * Settings of a guardrail check.
 *
 * @example
 * ```ts
 * const options: GuardrailOptions = { alpha: 0.05, sequentialTuning: 5000, minimumCount: 5 };
 * ```
 */
export interface GuardrailOptions {
  /** The guardrail's one-sided false-alarm budget over all looks, shared equally by its rules. */
  alpha: number;
  sequentialTuning: number;
  /** No count or constant-value rule breaches on fewer treatment events (or units) than this. */
  minimumCount: number;
}

/**
 * What a check found for one treatment. `sequentialCi` is the interval the deciding rule judged
 * (relative lift, or the treatment mean for `max_value`); `eValue` the count rule's evidence.
 *
 * @example
 * ```ts
 * const c: GuardrailCheck = checkGuardrail(def, control, treatment, options);
 * if (c.status === 'breach') console.log(c.rule, c.threshold, c.sequentialCi);
 * ```
 */
export interface GuardrailCheck {
  metric: string;
  variant: string;
  status: GuardrailStatus;
  rule: GuardrailRule | null;
  /** The threshold the rule compared against: `maxRelativeIncrease`, or `maxValue`. */
  threshold: number | null;
  controlMean: number | null;
  treatmentMean: number | null;
  relativeLift: number | null;
  sequentialCi: Interval | null;
  sequentialPValue: number | null;
  eValue: number | null;
  /** Why the check could not run or has nothing to judge; `null` unless `status` is `uncomputable` or `insufficient_data`. */
  reason: string | null;
}

const finiteArm = (a: GuardrailArm): boolean =>
  [a.units, a.sum, a.sumSquares, a.count ?? 0].every(Number.isFinite) && a.units >= 0 && a.sumSquares >= 0 && (a.count ?? 0) >= 0;

/**
 * Checks one treatment against the control on one guardrail, with tests that stay valid however
 * often they are repeated (always-valid intervals and an e-value), so a monitor may run it on every
 * pass. The guardrail's one-sided budget `alpha` is split equally among the rules it uses: two
 * with `maxRelativeIncrease` (the relative-lift interval, or the constant-control interval when
 * the control has no variance; and the count rule), one more with `maxValue`.
 *
 * Never throws for data: statistics that cannot be computed give `status: 'uncomputable'` with a
 * reason, and an arm without units gives `status: 'insufficient_data'` (neither a pass nor a failure).
 *
 * @example
 * ```ts
 * const c = checkGuardrail({ metric: 'errors', type: 'conversion', maxRelativeIncrease: 0.1 },
 *   { key: 'control', units: 4000, sum: 0, sumSquares: 0 },
 *   { key: 'treatment', units: 4000, sum: 30, sumSquares: 30 },
 *   { alpha: 0.05, sequentialTuning: 5000, minimumCount: 5 });
 * c.status; // 'breach'
 * c.rule;   // 'rate_increase'
 * ```
 */
export function checkGuardrail(
  def: GuardrailDefinition,
  control: GuardrailArm,
  treatment: GuardrailArm,
  options: GuardrailOptions,
): GuardrailCheck {
  const base: GuardrailCheck = {
    metric: def.metric,
    variant: treatment.key,
    status: GuardrailStatus.OK,
    rule: null,
    threshold: null,
    controlMean: null,
    treatmentMean: null,
    relativeLift: null,
    sequentialCi: null,
    sequentialPValue: null,
    eValue: null,
    reason: null,
  };
  const fail = (reason: string): GuardrailCheck => ({ ...base, status: GuardrailStatus.UNCOMPUTABLE, reason });
  if (!finiteArm(control) || !finiteArm(treatment)) return fail('non-finite or negative sufficient statistics');
  try {
    return decide(def, control, treatment, options, base, fail);
  } catch (err) {
    return fail(`statistics failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function decide(
  def: GuardrailDefinition,
  control: GuardrailArm,
  treatment: GuardrailArm,
  options: GuardrailOptions,
  base: GuardrailCheck,
  fail: (reason: string) => GuardrailCheck,
): GuardrailCheck {
  const { alpha, sequentialTuning, minimumCount } = options;
  const m = def.maxRelativeIncrease;
  const rules = (m !== undefined ? 2 : 0) + (def.maxValue !== undefined ? 1 : 0);
  if (rules === 0) return fail('the guardrail has neither max_relative_increase nor max_value');
  const oneSided = alpha / rules;
  // Each interval rule looks at one end of a two-sided interval: its level is twice its share.
  const intervalAlpha = 2 * oneSided;
  const c = metricMoments(def.type, control.units, control.sum, control.sumSquares);
  const t = metricMoments(def.type, treatment.units, treatment.sum, treatment.sumSquares);
  base.controlMean = c.mean;
  base.treatmentMean = t.mean;
  if (c.mean === null || t.mean === null) {
    const empty = c.mean === null ? 'control' : 'treatment';
    return { ...base, status: GuardrailStatus.INSUFFICIENT_DATA, reason: `the ${empty} arm has no units` };
  }
  const vc = c.variance ?? 0;
  const vt = t.variance ?? 0;
  const breach = (rule: GuardrailRule, threshold: number, extra: Partial<GuardrailCheck>): GuardrailCheck => ({
    ...base,
    ...extra,
    status: GuardrailStatus.BREACH,
    rule,
    threshold,
  });

  if (def.maxValue !== undefined) {
    if (vt > 0) {
      const s = sequentialTest(
        { estimate: t.mean - def.maxValue, variance: vt / treatment.units },
        treatment.units,
        intervalAlpha,
        sequentialTuning,
      );
      if (s.ci === null) return fail('no interval for the treatment mean');
      if (s.ci[0] > 0) {
        const ci: Interval = [s.ci[0] + def.maxValue, s.ci[1] + def.maxValue];
        return breach(GuardrailRule.MAX_VALUE, def.maxValue, { sequentialCi: ci, sequentialPValue: s.pValue });
      }
    } else if (t.mean > def.maxValue && treatment.units >= minimumCount) {
      // Every treatment unit has the same value, above the ceiling.
      return breach(GuardrailRule.MAX_VALUE, def.maxValue, { sequentialCi: [t.mean, t.mean] });
    }
  }
  if (m === undefined) return base;

  const cmp = compareArms(def.type, control, treatment, { alpha: intervalAlpha, sequentialTuning });
  base.relativeLift = cmp.relativeLift;
  if (cmp.error === null) {
    const ci = cmp.sequential?.ci ?? null;
    if (ci === null) return fail('no sequential interval for the relative lift');
    base.sequentialCi = ci;
    base.sequentialPValue = cmp.sequential?.pValue ?? null;
    if (ci[0] > m) return breach(GuardrailRule.RELATIVE_INCREASE, m, {});
  } else if (cmp.error === ComparisonError.ZERO_VARIANCE && vc > 0 && vt > 0) {
    return fail('the variances underflow: no test is possible');
  } else if (c.mean !== 0 && vc === 0) {
    // A constant control (every unit the same non-zero value): only the treatment varies.
    const lift = (t.mean - c.mean) / Math.abs(c.mean);
    base.relativeLift = lift;
    if (vt > 0) {
      const variance = vt / (treatment.units * c.mean * c.mean);
      const s = sequentialTest({ estimate: lift, variance }, control.units + treatment.units, intervalAlpha, sequentialTuning);
      if (s.ci === null) return fail('no interval against the constant control');
      base.sequentialCi = s.ci;
      base.sequentialPValue = s.pValue;
      if (s.ci[0] > m) return breach(GuardrailRule.CONSTANT_CONTROL, m, {});
    } else if (lift > m && Math.min(control.units, treatment.units) >= minimumCount) {
      return breach(GuardrailRule.CONSTANT_CONTROL, m, { sequentialCi: [lift, lift] });
    }
  }

  // The count rule: conversions count converted units; a mean metric counts units with an event.
  const count = (a: GuardrailArm) => (def.type === MetricTypes.CONVERSION ? a.sum : a.count);
  const ct = count(treatment);
  const cc = count(control);
  if (ct !== undefined && cc !== undefined && ct >= minimumCount) {
    const e = rateIncreaseEValue({ units: control.units, count: cc }, { units: treatment.units, count: ct }, m);
    if (!Number.isFinite(e)) return fail('the count test gave no finite evidence');
    base.eValue = e;
    if (e >= 1 / oneSided) return breach(GuardrailRule.RATE_INCREASE, m, {});
  }
  return base;
}
