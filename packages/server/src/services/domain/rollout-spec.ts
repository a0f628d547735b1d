import { z } from 'zod';
import { keySchema } from '@switchyard/core/schema';
import { invalid, type ErrorDetail } from '../../errors';

/** What a guarded rollout does when a guardrail regresses. */
export const ON_REGRESSION = ['rollback', 'pause'] as const;
/** One of {@link ON_REGRESSION}. */
export type OnRegression = (typeof ON_REGRESSION)[number];

/**
 * A rollout's status. `running` and `paused` are active (one per flag and environment);
 * `completed`, `rolled_back` and `stopped` are final.
 */
export const ROLLOUT_STATUSES = ['running', 'paused', 'completed', 'rolled_back', 'stopped'] as const;
/** One of {@link ROLLOUT_STATUSES}. */
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];
/** Statuses that hold the flag's one active rollout. */
export const ACTIVE_ROLLOUT_STATUSES: ReadonlySet<string> = new Set(['running', 'paused']);

const twoDecimals = (n: number) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-9;

const stageSchema = z.strictObject({
  percent: z
    .number()
    .gt(0)
    .max(100)
    .refine(twoDecimals, 'at most two decimals')
    .describe('share of units served the new variant in this stage, percent (0, 100]'),
  hold_minutes: z
    .number()
    .min(0)
    .max(525_600)
    .optional()
    .describe('how long the stage is held before it may advance; fractions allowed (0.05 = 3 s); default 0'),
});

const guardrailSchema = z.strictObject({
  metric: keySchema.describe('the event key of the metric'),
  type: z.enum(['conversion', 'mean']).describe('conversion: share of units with the event; mean: per-unit sum of its values'),
  max_relative_increase: z
    .number()
    .min(0)
    .max(100)
    .optional()
    .describe('the new arm may be worse than control by at most this fraction (0.05 = 5 %)'),
  max_value: z.number().min(-1e15).max(1e15).optional().describe("absolute ceiling of the new arm's per-unit mean or rate"),
});

/** `POST /feature-flags/{key}/environments/{env}/rollouts`. */
export const rolloutCreateBody = z
  .strictObject({
    variant: keySchema.describe('the flag variant being rolled out'),
    control: keySchema
      .optional()
      .describe(
        "the variant everyone else gets and a rollback serves; default: the variant the environment's default_serve serves, else the off variant",
      ),
    stages: z.array(stageSchema).min(1).max(20).describe('strictly increasing percents; the last is 100'),
    guardrails: z.array(guardrailSchema).min(1).max(20),
    on_regression: z.enum(ON_REGRESSION).optional().describe('default rollback'),
  })
  .meta({ id: 'RolloutInput' });

/** A parsed create body. */
export type RolloutInput = z.infer<typeof rolloutCreateBody>;

/** One stage as stored: `hold_minutes` defaulted. */
export interface RolloutStage {
  percent: number;
  hold_minutes: number;
}

/** One guardrail as stored. */
export interface RolloutGuardrail {
  metric: string;
  type: 'conversion' | 'mean';
  max_relative_increase?: number;
  max_value?: number;
}

/**
 * The checks zod cannot express on one field: percents strictly increasing and ending at 100,
 * each guardrail with a bound and a metric of its own. Throws one 400 naming every field.
 *
 * @example
 * ```ts
 * checkRolloutPlan({ variant: 'on', stages: [{ percent: 50 }, { percent: 100 }], guardrails: [{ metric: 'errors', type: 'conversion', max_value: 0.01 }] });
 * ```
 */
export function checkRolloutPlan(input: RolloutInput): void {
  const problems: ErrorDetail[] = [];
  input.stages.forEach((s, i) => {
    const prev = input.stages[i - 1];
    if (prev !== undefined && s.percent <= prev.percent)
      problems.push({ path: `stages.${i}.percent`, message: `must be greater than the previous stage's ${prev.percent}` });
  });
  const last = input.stages[input.stages.length - 1]!;
  if (last.percent !== 100) problems.push({ path: `stages.${input.stages.length - 1}.percent`, message: 'the last stage must be 100' });
  input.guardrails.forEach((g, i) => {
    if (g.max_relative_increase === undefined && g.max_value === undefined)
      problems.push({
        path: `guardrails.${i}.max_relative_increase`,
        message: 'a guardrail needs max_relative_increase, max_value or both',
      });
    if (input.guardrails.findIndex((x) => x.metric === g.metric) !== i)
      problems.push({ path: `guardrails.${i}.metric`, message: `duplicate guardrail metric '${g.metric}'` });
  });
  if (problems.length > 0) throw invalid('the rollout is invalid', problems);
}

/** The rollout's stored stages. */
export const storedStages = (input: RolloutInput): RolloutStage[] =>
  input.stages.map((s) => ({ percent: s.percent, hold_minutes: s.hold_minutes ?? 0 }));

/** The rollout's stored guardrails (only the bounds given). */
export const storedGuardrails = (input: RolloutInput): RolloutGuardrail[] =>
  input.guardrails.map((g) => ({
    metric: g.metric,
    type: g.type,
    ...(g.max_relative_increase === undefined ? {} : { max_relative_increase: g.max_relative_increase }),
    ...(g.max_value === undefined ? {} : { max_value: g.max_value }),
  }));
