import { GuardrailStatus } from '@switchyard/stats';
import { z } from 'zod';
import { route, type RouteDef } from '../http/route';
import { originOf, type ServerContext } from '../services/context';
import { ResultsService } from '../services/results/results';
import { ON_REGRESSION, ROLLOUT_STATUSES, rolloutCreateBody } from '../services/domain/rollout-spec';
import { RolloutService } from '../services/domain/rollouts';

const stage = z.object({ percent: z.number(), hold_minutes: z.number() });
const guardrail = z.object({
  metric: z.string(),
  type: z.enum(['conversion', 'mean']),
  max_relative_increase: z.number().optional(),
  max_value: z.number().optional(),
});
const check = z
  .object({
    metric: z.string(),
    verdict: z
      .enum(GuardrailStatus)
      .describe('insufficient_data: an arm has no units, nothing to judge; uncomputable: statistics that cannot run (see reason)'),
    rule: z.string().nullable().describe('the rule that breached (relative_increase, rate_increase, constant_control, max_value)'),
    control_mean: z.number().nullable(),
    variant_mean: z.number().nullable(),
    estimate: z.number().nullable().describe("relative change of the new arm's mean against control's (0.05 = 5 % higher)"),
    interval: z.array(z.number()).nullable().describe('always-valid interval [low, high] of the estimate'),
    p_value: z.number().nullable().describe('always-valid p-value'),
    reason: z.string().nullable(),
  })
  .meta({ id: 'RolloutGuardrailCheck' });
const historyEntry = z.object({
  at: z.string(),
  action: z.enum(['started', 'advanced', 'paused', 'rolled_back', 'completed', 'stopped']),
  stage: z.number().int(),
  percent: z.number(),
  by: z.enum(['user', 'rollout-monitor']),
  reason: z.string().optional(),
  checks: z.array(check).optional().describe('the guardrail checks a monitor decision rested on'),
});
const rolloutObject = z
  .object({
    id: z.string(),
    type: z.literal('rollout'),
    attributes: z.object({
      flag: z.string(),
      environment: z.string(),
      variant: z.string(),
      control: z.string(),
      stages: z.array(stage),
      guardrails: z.array(guardrail),
      on_regression: z.enum(ON_REGRESSION),
      status: z.enum(ROLLOUT_STATUSES),
      stage: z.number().int().describe('1-based number of the current (or last) stage'),
      share: z.number().describe('percent of units served the new variant now'),
      stage_started_at: z.string(),
      hold_ends_at: z.string().nullable().describe('when the current stage may advance at the earliest; null once ended'),
      experiment: z.string().describe('key of the internal experiment the flag serves while the rollout is active'),
      previous_default_serve: z.unknown(),
      history: z.array(historyEntry),
      ended_at: z.string().optional(),
      end_reason: z.string().optional(),
      units: z
        .object({ variant: z.number().int(), control: z.number().int(), excluded: z.number().int() })
        .nullable()
        .describe('exposed units per arm; excluded: units exposed to both arms'),
      guardrail_checks: z.array(check).nullable().describe("each guardrail's estimate, interval and verdict now"),
      figures_error: z.string().nullable().describe('why units and guardrail_checks are missing, when they are'),
      version: z.number().int(),
      created_at: z.string(),
      updated_at: z.string(),
    }),
    relationships: z.object({}).optional(),
  })
  .meta({ id: 'Rollout' });
const one = (item: z.ZodType) => z.object({ data: item });
const many = (item: z.ZodType) => z.object({ data: z.array(item) });

/** Guarded rollouts of a flag in one environment. */
export function rolloutRoutes(ctx: ServerContext): RouteDef<any, any>[] {
  const service = new RolloutService(ctx, new ResultsService(ctx));
  const tag = 'Rollouts';
  const base = '/feature-flags/:key/environments/:env/rollouts';
  return [
    route({
      method: 'post',
      path: base,
      summary: 'Start a guarded rollout of a flag variant in one environment (one active rollout per flag and environment)',
      tag,
      auth: 'user',
      body: rolloutCreateBody,
      success: { status: 201, description: 'The rollout, at its first stage', schema: one(rolloutObject) },
      errors: ['CONFLICT'],
      handler: async (c, { body, params }) => {
        const row = await service.create(originOf(c), params.key!, params.env!, body);
        return { data: await service.view(row) };
      },
    }),
    route({
      method: 'get',
      path: base,
      summary: "List a flag's rollouts in one environment, newest first",
      tag,
      auth: 'user',
      success: { status: 200, description: 'Every rollout of the flag in the environment', schema: many(rolloutObject) },
      handler: async (c, { params }) => {
        const rows = await service.list(originOf(c), params.key!, params.env!);
        return { data: await Promise.all(rows.map((r) => service.view(r))) };
      },
    }),
    route({
      method: 'get',
      path: `${base}/:id`,
      summary: "A rollout: stage, share, units per arm, each guardrail's estimate, interval and verdict, and its history",
      tag,
      auth: 'user',
      versioned: 'read',
      success: { status: 200, description: 'The rollout', schema: one(rolloutObject) },
      handler: async (c, { params }) => {
        const row = await service.get(originOf(c), params.key!, params.env!, params.id!);
        return { data: await service.view(row) };
      },
    }),
    route({
      method: 'post',
      path: `${base}/:id/stop`,
      summary: 'Stop an active rollout: the environment serves the control again',
      tag,
      auth: 'user',
      versioned: 'write',
      errors: ['INVALID_STATE_TRANSITION'],
      success: { status: 200, description: 'The stopped rollout', schema: one(rolloutObject) },
      handler: async (c, { params }) => {
        const row = await service.stop(originOf(c), params.key!, params.env!, params.id!);
        return { data: await service.view(row) };
      },
    }),
  ];
}
