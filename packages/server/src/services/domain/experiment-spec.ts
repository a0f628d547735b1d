import { z } from 'zod';
import {
  conditionSchema,
  checkExperimentVariants,
  experimentVariantSchema,
  keySchema,
  namespaceSchema,
  percentSchema,
} from '@switchyard/core/schema';
import { EXPERIMENT_STATUSES } from '@switchyard/core';
import type { KindSpec } from './kind-spec';

/**
 * A metric an experiment measures: `conversion` (share of units with the event) or `mean` (per-unit
 * sum of values). `cuped_window_days` turns on CUPED for it, with the unit's value of the same
 * metric in that many days before its first exposure as the covariate.
 */
export const metricSchema = z.object({
  key: keySchema,
  type: z.enum(['conversion', 'mean']),
  cuped_window_days: z.number().int().min(1).max(365).optional(),
});

/**
 * A guardrail: the treatment may not be worse than control by more than `max_relative_increase`
 * (0.1 = 10 %), and/or its per-unit mean (or rate) may not exceed the absolute ceiling `max_value`.
 * At least one of the two is required.
 */
export const guardrailSchema = z
  .object({
    metric: keySchema,
    max_relative_increase: z.number().min(0).max(100).optional(),
    max_value: z.number().min(-1e15).max(1e15).optional(),
    /** How the guardrail metric is computed; `mean` (e.g. errors per unit) unless it is one of the experiment's metrics. */
    type: z.enum(['conversion', 'mean']).optional(),
  })
  .refine((g) => g.max_relative_increase !== undefined || g.max_value !== undefined, {
    message: 'a guardrail needs max_relative_increase, max_value or both',
    path: ['max_relative_increase'],
  });

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time');

/** The full stored experiment. */
export const experimentSchema = z
  .object({
    key: keySchema,
    name: z.string().max(256),
    hypothesis: z.string().max(4096).optional(),
    description: z.string().max(4096).optional(),
    status: z.enum(EXPERIMENT_STATUSES),
    variants: z.array(experimentVariantSchema).max(20),
    targeting: conditionSchema.optional(),
    traffic_allocation: percentSchema,
    bucket_by: z.string().min(1).max(128),
    salt: z.string().max(256),
    namespace: namespaceSchema.optional(),
    metrics: z.array(metricSchema).max(50),
    primary_metric: z.string().optional(),
    guardrails: z.array(guardrailSchema).max(20),
    /** What a sustained sample ratio mismatch does: `pause` (the default when absent) or `warn`. */
    srm_action: z.enum(['pause', 'warn']).optional(),
    /** What a safety check that cannot run does besides alerting: `alert` (the default) or `pause`. */
    on_safety_check_failure: z.enum(['alert', 'pause']).optional(),
    schedule: z.object({ start_at: isoDate.optional(), end_at: isoDate.optional() }).optional(),
    started_at: z.string().optional(),
    paused_at: z.string().optional(),
    completed_at: z.string().optional(),
    archived_at: z.string().optional(),
    /** Why the safety monitor paused it, when it did. */
    pause_reason: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((e, ctx) => {
    const issue = (message: string, path: (string | number)[]) => ctx.addIssue({ code: 'custom', message, path });
    checkExperimentVariants(e.variants, issue);
    const metricKeys = new Set(e.metrics.map((m) => m.key));
    e.metrics.forEach((m, i) => {
      if (e.metrics.findIndex((x) => x.key === m.key) !== i) issue(`duplicate metric '${m.key}'`, ['metrics', i, 'key']);
    });
    if (e.primary_metric !== undefined && !metricKeys.has(e.primary_metric))
      issue(`'${e.primary_metric}' is not one of the metrics`, ['primary_metric']);
    const s = e.schedule;
    if (s?.start_at !== undefined && s.end_at !== undefined && Date.parse(s.end_at) <= Date.parse(s.start_at))
      issue('end_at must be after start_at', ['schedule', 'end_at']);
  })
  .meta({ id: 'Experiment' });

/** Defaults: DRAFT, all traffic, bucketed by `key` with the key as salt, no metrics or guardrails. */
export function normalizeExperiment(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  if (out.name === undefined && typeof out.key === 'string') out.name = out.key;
  out.status ??= 'DRAFT';
  out.traffic_allocation ??= 100;
  out.bucket_by ??= 'key';
  if (out.salt === undefined && typeof out.key === 'string') out.salt = out.key;
  out.metrics ??= [];
  out.guardrails ??= [];
  for (const k of ['targeting', 'namespace', 'schedule', 'primary_metric', 'srm_action', 'on_safety_check_failure'] as const)
    if (out[k] === null) delete out[k];
  return out;
}

/** Experiments: RUNNING and PAUSED ones are published under `experiments` in the config. */
export const experimentSpec: KindSpec = {
  kind: 'experiment',
  type: 'experiment',
  label: 'experiment',
  normalize: normalizeExperiment,
  schema: experimentSchema,
  statusOf: (d) => (typeof d.status === 'string' ? d.status : null),
  docField: 'experiments',
};

/** Lifecycle actions and the statuses each may start from. */
export const TRANSITIONS = {
  start: { from: ['DRAFT'], to: 'RUNNING', stamp: 'started_at' },
  pause: { from: ['RUNNING'], to: 'PAUSED', stamp: 'paused_at' },
  resume: { from: ['PAUSED'], to: 'RUNNING', stamp: null },
  complete: { from: ['RUNNING', 'PAUSED'], to: 'COMPLETED', stamp: 'completed_at' },
  archive: { from: ['COMPLETED', 'DRAFT'], to: 'ARCHIVED', stamp: 'archived_at' },
} as const;

/** A lifecycle action name. */
export type LifecycleAction = keyof typeof TRANSITIONS;
