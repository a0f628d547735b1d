import { decideRolloutStep, GuardrailStatus, type GuardrailCheck, type GuardrailDefinition, type RolloutStep } from '@switchyard/stats';
import type { ResourceRow } from '../../store/types';
import { stateIn, type FlagState } from './flag-spec';
import type { ResultsService } from '../results/results';
import type { RolloutGuardrail, RolloutStage } from './rollout-spec';

/** A stored rollout's attributes, as the API shows them (plus the live figures added by the view). */
export interface RolloutData {
  flag: string;
  environment: string;
  variant: string;
  control: string;
  stages: RolloutStage[];
  guardrails: RolloutGuardrail[];
  on_regression: 'rollback' | 'pause';
  status: string;
  /** 1-based number of the current stage. */
  stage: number;
  /** Share of units the new variant is served to now, percent. */
  share: number;
  stage_started_at: string;
  /** The key of the internal experiment the flag serves while the rollout is active. */
  experiment: string;
  /** What the environment's `default_serve` was before the rollout (for the record). */
  previous_default_serve: unknown;
  history: RolloutHistoryEntry[];
  ended_at?: string;
  end_reason?: string;
}

/** One transition of a rollout. */
export interface RolloutHistoryEntry {
  at: string;
  action: 'started' | 'advanced' | 'paused' | 'rolled_back' | 'completed' | 'stopped';
  stage: number;
  percent: number;
  by: 'user' | 'rollout-monitor';
  reason?: string;
  /** The guardrail checks the decision rested on (monitor decisions only). */
  checks?: GuardrailView[];
}

/** One guardrail's figures as the API shows them. */
export interface GuardrailView {
  metric: string;
  /** `ok`, `breach`, `insufficient_data` (an arm has no units) or `uncomputable` (see the statistics docs). */
  verdict: GuardrailStatus;
  rule: string | null;
  control_mean: number | null;
  variant_mean: number | null;
  /** Relative change of the new arm's mean against control's (0.05 = 5 % higher). */
  estimate: number | null;
  /** Always-valid interval of `estimate`. */
  interval: [number, number] | null;
  p_value: number | null;
  reason: string | null;
}

/** The rollout's figures for one pass: units per arm and each guardrail's check, and the decision. */
export interface RolloutFigures {
  units: { variant: number; control: number; excluded: number };
  guardrails: GuardrailView[];
  step: RolloutStep;
}

/** The serve a rollout puts in the environment's `default_serve` while it is active. */
export const servesExperiment = (key: string) => ({ experiment: key });

/** Whether a flag's state in `environment` still serves the rollout's experiment as its default. */
export function flagServes(flag: ResourceRow, environment: string, experiment: string): boolean {
  const serve = stateIn(flag.data, environment).default_serve as { experiment?: unknown } | undefined;
  return serve?.experiment === experiment;
}

/** Whether the flag is enabled in `environment` (a disabled flag serves its off variant to everyone). */
export const flagEnabledIn = (flag: ResourceRow, environment: string): boolean => stateIn(flag.data, environment).enabled === true;

/** The flag's data with `default_serve` of one environment replaced. */
export function withDefaultServe(flag: ResourceRow, environment: string, serve: unknown): Record<string, unknown> {
  const environments = { ...((flag.data.environments as Record<string, FlagState> | undefined) ?? {}) };
  environments[environment] = { ...stateIn(flag.data, environment), default_serve: serve };
  return { ...flag.data, environments };
}

/** The experiment's variants at a share: the new variant first, so a unit whose bucket is below the share keeps it as the share grows. */
export const armsAt = (variant: string, control: string, percent: number) => [
  { key: variant, weight: percent },
  { key: control, weight: Math.round((100 - percent) * 100) / 100 },
];

/** The internal experiment's stored data. */
export function experimentData(
  rollout: { id: string; flag: string; environment: string; variant: string; control: string; percent: number },
  flag: ResourceRow,
  key: string,
  guardrails: readonly RolloutGuardrail[],
  startedAt: string,
): Record<string, unknown> {
  return {
    key,
    name: `Guarded rollout of ${rollout.flag} (${rollout.environment})`,
    description: `Internal experiment of guarded rollout ${rollout.id}: the flag '${rollout.flag}' serves it while the rollout runs.`,
    environment: rollout.environment,
    status: 'RUNNING',
    variants: armsAt(rollout.variant, rollout.control, rollout.percent),
    traffic_allocation: 100,
    // The flag's own unit and salt: the same units get the new variant first as with a percentage rollout of the flag.
    bucket_by: flag.data.bucket_by ?? 'key',
    salt: flag.data.salt ?? flag.key,
    metrics: guardrails.map((g) => ({ key: g.metric, type: g.type })),
    guardrails: [],
    // The share changes stage by stage, so a sample-ratio check against one split would be wrong.
    srm_action: 'warn',
    started_at: startedAt,
    rollout: { id: rollout.id, flag: rollout.flag },
  };
}

const definitionOf = (g: RolloutGuardrail): GuardrailDefinition => ({
  metric: g.metric,
  type: g.type,
  ...(g.max_relative_increase === undefined ? {} : { maxRelativeIncrease: g.max_relative_increase }),
  ...(g.max_value === undefined ? {} : { maxValue: g.max_value }),
});

const view = (c: GuardrailCheck): GuardrailView => ({
  metric: c.metric,
  verdict: c.status,
  rule: c.rule,
  control_mean: c.controlMean,
  variant_mean: c.treatmentMean,
  estimate: c.relativeLift,
  interval: c.sequentialCi === null ? null : [c.sequentialCi[0], c.sequentialCi[1]],
  p_value: c.sequentialPValue,
  reason: c.reason,
});

/**
 * The figures of one pass over a rollout's internal experiment: units per arm (units exposed to
 * both arms are excluded by the results pipeline and counted apart) and `decideRolloutStep`'s
 * checks, with `holdElapsed` as given.
 */
export async function rolloutFigures(
  results: ResultsService,
  experiment: ResourceRow,
  data: Pick<RolloutData, 'variant' | 'control' | 'guardrails'>,
  holdElapsed: boolean,
  alpha?: number,
): Promise<RolloutFigures> {
  const stats = await results.sufficientStats(experiment);
  const arm = (key: string) => stats.variants.find((v) => v.key === key) ?? { key, weight: 0, units: 0, stats: {} };
  const treatment = arm(data.variant);
  const control = arm(data.control);
  const step = decideRolloutStep({
    control,
    treatment,
    guardrails: data.guardrails.map(definitionOf),
    holdElapsed,
    ...(alpha === undefined ? {} : { alpha }),
  });
  const byMetric = new Map(step.checks.map((c) => [c.metric, c]));
  const guardrails = data.guardrails.map((g): GuardrailView =>
    byMetric.has(g.metric)
      ? view(byMetric.get(g.metric)!)
      : {
          metric: g.metric,
          verdict: GuardrailStatus.UNCOMPUTABLE,
          rule: null,
          control_mean: null,
          variant_mean: null,
          estimate: null,
          interval: null,
          p_value: null,
          reason: step.failures.find((f) => f.metric === g.metric)?.reason ?? 'no figures yet',
        },
  );
  return { units: { variant: treatment.units, control: control.units, excluded: stats.excludedUnits }, guardrails, step };
}
