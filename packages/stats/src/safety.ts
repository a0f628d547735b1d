import type { GuardrailCheck, GuardrailDefinition } from './guardrail.js';
import { checkGuardrail, GuardrailStatus } from './guardrail.js';
import { DEFAULT_SEQUENTIAL_TUNING } from './sequential.js';
import { SRM_P_VALUE_THRESHOLD, sampleRatioMismatch } from './srm.js';
import type { VariantInput } from './types.js';

/**
 * What a sustained sample ratio mismatch does to a running experiment.
 *
 * @example
 * ```ts
 * const experiment = { srm_action: SrmAction.WARN }; // record it, keep running
 * ```
 */
export const SrmAction = {
  /** Pause the experiment (the default): its results cannot be trusted while assignment or logging is broken. */
  PAUSE: 'pause',
  /** Only record it (audit record and log line); the experiment keeps running. */
  WARN: 'warn',
} as const;

/** One of {@link SrmAction}. */
export type SrmAction = (typeof SrmAction)[keyof typeof SrmAction];

/**
 * What the monitor should do after one pass over one experiment.
 *
 * @example
 * ```ts
 * if (decision.action === SafetyAction.PAUSE) pause(experiment);
 * ```
 */
export const SafetyAction = { NONE: 'none', PAUSE: 'pause', WARN: 'warn' } as const;

/** One of {@link SafetyAction}. */
export type SafetyAction = (typeof SafetyAction)[keyof typeof SafetyAction];

/** Passes in a row with SRM p below 0.001 before the mismatch counts as sustained. */
export const SRM_SUSTAINED_PASSES = 2;

/** The default one-sided false-alarm budget of one guardrail comparison, over all passes. */
export const DEFAULT_GUARDRAIL_ALPHA = 0.05;

/** The default minimum number of treatment events (or units) before a count rule may breach. */
export const DEFAULT_GUARDRAIL_MINIMUM_COUNT = 5;

/**
 * One pass of the safety monitor over one experiment.
 *
 * @example
 * ```ts
 * const input: SafetyInput = { variants, guardrails: [{ metric: 'errors', type: 'mean', maxRelativeIncrease: 0.1 }], previousSrmStreak: 1 };
 * ```
 */
export interface SafetyInput {
  /** Control first, with each guardrail metric's sufficient statistics (`count` = units with an event). */
  variants: readonly VariantInput[];
  guardrails: readonly GuardrailDefinition[];
  /** Default {@link SrmAction.PAUSE}. */
  srmAction?: SrmAction;
  /** Passes in a row, just before this one, that found a mismatch (the monitor's memory). Default 0. */
  previousSrmStreak?: number;
  /** Default {@link DEFAULT_GUARDRAIL_ALPHA}. */
  alpha?: number;
  /** N* of the always-valid intervals. Default 5000. */
  sequentialTuning?: number;
  /** Default {@link DEFAULT_GUARDRAIL_MINIMUM_COUNT}. */
  minimumCount?: number;
}

/**
 * A check that could not run, and why.
 *
 * @example
 * ```ts
 * for (const f of decision.failures) logger.error(f, 'safety check failed');
 * ```
 */
export interface SafetyFailure {
  check: 'guardrail' | 'srm';
  metric: string | null;
  variant: string | null;
  reason: string;
}

/**
 * The monitor's decision for one experiment, and everything it is based on.
 *
 * @example
 * ```ts
 * const d: SafetyDecision = evaluateSafety(input);
 * d.srm.streak; // give it back as previousSrmStreak on the next pass
 * ```
 */
export interface SafetyDecision {
  action: SafetyAction;
  /** Breached guardrail checks; any one of them pauses. */
  breaches: GuardrailCheck[];
  failures: SafetyFailure[];
  /** Every guardrail check, one per guardrail and treatment. */
  checks: GuardrailCheck[];
  srm: {
    pValue: number | null;
    mismatch: boolean;
    /** Passes in a row, this one included, with a mismatch. */
    streak: number;
    /** `streak >= 2`. */
    sustained: boolean;
    action: SrmAction;
  };
}

/**
 * The safety monitor's decision, as a pure function of the experiment's sufficient statistics and
 * of how many previous passes in a row saw a sample ratio mismatch. The server's monitor and the
 * A/A simulation both call it, so the simulated false-alarm rate is the monitor's own.
 *
 * Pauses on any guardrail breach ({@link checkGuardrail}, one check per guardrail and treatment) and
 * on a sustained sample ratio mismatch (p < 0.001 on two passes in a row) unless `srmAction` is
 * `warn`, which asks for a warning instead. Checks that cannot run are listed in `failures`; they
 * never pause and are never silently dropped.
 *
 * @example
 * ```ts
 * const d = evaluateSafety({
 *   variants: [
 *     { key: 'control', weight: 50, units: 4000, stats: { errors: { sum: 0, sumSquares: 0, count: 0 } } },
 *     { key: 'treatment', weight: 50, units: 4000, stats: { errors: { sum: 40, sumSquares: 40, count: 40 } } },
 *   ],
 *   guardrails: [{ metric: 'errors', type: 'mean', maxRelativeIncrease: 0.1 }],
 * });
 * d.action;            // 'pause'
 * d.breaches[0]?.rule; // 'rate_increase'
 * ```
 */
export function evaluateSafety(input: SafetyInput): SafetyDecision {
  const options = {
    alpha: input.alpha ?? DEFAULT_GUARDRAIL_ALPHA,
    sequentialTuning: input.sequentialTuning ?? DEFAULT_SEQUENTIAL_TUNING,
    minimumCount: input.minimumCount ?? DEFAULT_GUARDRAIL_MINIMUM_COUNT,
  };
  const srmAction = input.srmAction ?? SrmAction.PAUSE;
  const failures: SafetyFailure[] = [];
  const [control, ...treatments] = input.variants;

  let pValue: number | null = null;
  let mismatch = false;
  try {
    const srm = sampleRatioMismatch(
      input.variants.map((v) => v.units),
      input.variants.map((v) => v.weight),
    );
    pValue = srm.pValue;
    mismatch = srm.pValue !== null && srm.pValue < SRM_P_VALUE_THRESHOLD;
  } catch (err) {
    failures.push({ check: 'srm', metric: null, variant: null, reason: err instanceof Error ? err.message : String(err) });
  }
  // A pass whose SRM test failed neither extends nor resets the streak.
  const previous = input.previousSrmStreak ?? 0;
  const streak = failures.length > 0 ? previous : mismatch ? previous + 1 : 0;
  const sustained = streak >= SRM_SUSTAINED_PASSES;

  const checks: GuardrailCheck[] = [];
  if (control === undefined || treatments.length === 0) {
    failures.push({ check: 'guardrail', metric: null, variant: null, reason: 'an experiment needs a control and at least one treatment' });
  } else {
    for (const g of input.guardrails) {
      const arm = (v: VariantInput) => {
        const s = v.stats[g.metric];
        return { key: v.key, units: v.units, sum: s?.sum ?? 0, sumSquares: s?.sumSquares ?? 0, count: s === undefined ? 0 : s.count };
      };
      for (const t of treatments) checks.push(checkGuardrail(g, arm(control), arm(t), options));
    }
  }
  for (const c of checks) {
    if (c.status === GuardrailStatus.UNCOMPUTABLE) {
      failures.push({ check: 'guardrail', metric: c.metric, variant: c.variant, reason: c.reason ?? 'uncomputable' });
    }
  }
  const breaches = checks.filter((c) => c.status === GuardrailStatus.BREACH);
  let action: SafetyAction = SafetyAction.NONE;
  if (breaches.length > 0 || (sustained && srmAction === SrmAction.PAUSE)) action = SafetyAction.PAUSE;
  else if (sustained) action = SafetyAction.WARN;
  return { action, breaches, failures, checks, srm: { pValue, mismatch, streak, sustained, action: srmAction } };
}
