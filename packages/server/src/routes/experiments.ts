import { z } from 'zod';
import { configExperimentSchema, keySchema } from '@switchyard/core/schema';
import { route, type RouteDef } from '../http/route';
import { originOf, type ServerContext } from '../services/context';
import { guardrailSchema, metricSchema, TRANSITIONS, type LifecycleAction } from '../services/domain/experiment-spec';
import { ExperimentService } from '../services/domain/experiments';
import { toResource } from '../services/domain/kind-spec';
import { resourceRoutes } from './resource-routes';
import { forestPlotSvg } from '../services/results/forest-plot';
import { resultsRebuildRoute } from './results-rebuild';
import { resultsResponseSchema } from './results-schema';
import { ResultsService, resultsCsv } from '../services/results/results';
import { dailyResults } from '../services/results/results-timeseries';

const resultsQuery = z.object({
  format: z.enum(['json', 'csv', 'svg']).default('json'),
  alpha: z.coerce.number().gt(0).lt(0.5).default(0.05),
  sequential: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  sequential_tuning: z.coerce.number().int().min(1).default(5000),
  /** `false` leaves CUPED out even for metrics that configure `cuped_window_days`. */
  cuped: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

/** Core's experiment fields, as the config document holds them. */
const core = configExperimentSchema.shape;

const fields = {
  name: z.string().max(256).optional(),
  hypothesis: z.string().max(4096).optional(),
  description: z.string().max(4096).optional(),
  status: z.string().optional(),
  // What the config document carries takes core's own schema (a constraint core adds reaches the API);
  // `targeting` and `namespace` may also be null in a body, to clear them.
  variants: core.variants.optional(),
  targeting: core.targeting.unwrap().nullable().optional(),
  traffic_allocation: core.traffic_allocation,
  bucket_by: core.bucket_by,
  salt: core.salt,
  namespace: core.namespace.unwrap().nullable().optional(),
  metrics: z.array(metricSchema).optional(),
  primary_metric: z.string().nullable().optional(),
  guardrails: z.array(guardrailSchema).optional(),
  srm_action: z.enum(['pause', 'warn']).nullable().optional(),
  on_safety_check_failure: z
    .enum(['alert', 'pause'])
    .nullable()
    .optional()
    .describe('a safety check that cannot run always alerts (audit record, metric, webhook); `pause` also pauses the experiment'),
  schedule: z.object({ start_at: z.string().optional(), end_at: z.string().optional() }).nullable().optional(),
  environment: keySchema.optional().describe('set at creation (default: the request environment), never changed'),
  id: z.string().optional(),
  version: z.number().int().optional().describe('read-only (ignored); send If-Match to write only that version'),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  owner_id: z.string().optional(),
  started_at: z.string().optional(),
  paused_at: z.string().optional(),
  completed_at: z.string().optional(),
  archived_at: z.string().optional(),
};

export const experimentCreateBody = z.strictObject({ key: keySchema, ...fields, variants: core.variants }).meta({ id: 'ExperimentInput' });
export const experimentUpdateBody = z.strictObject({ key: keySchema.optional(), ...fields }).meta({ id: 'ExperimentUpdate' });

/** Experiment CRUD and lifecycle actions. */
export function experimentRoutes(ctx: ServerContext, service = new ExperimentService(ctx)): RouteDef<any, any>[] {
  const lifecycle = (Object.keys(TRANSITIONS) as LifecycleAction[]).map((action) =>
    route({
      method: 'post',
      path: `/experiments/:id/${action}`,
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} an experiment (${TRANSITIONS[action].from.join('/')} -> ${TRANSITIONS[action].to})`,
      tag: 'Experiments',
      auth: 'user',
      success: { status: 200, description: 'The experiment in its new status' },
      versioned: 'write',
      errors: ['INVALID_STATE_TRANSITION'],
      handler: async (c, { params }) => ({ data: toResource(service.spec, await service.transition(originOf(c), params.id!, action)) }),
    }),
  );
  const results = new ResultsService(ctx);
  const resultsRoute = route({
    method: 'get',
    path: '/experiments/:id/results',
    summary: 'Experiment results: units, per-metric lifts with CIs, p-values, chance to beat control, SRM (json, csv or svg)',
    tag: 'Experiments',
    auth: 'user',
    query: resultsQuery,
    success: {
      status: 200,
      description:
        "The analysis of the experiment's run (frozen once it completed); ?format=csv and ?format=svg answer CSV and an SVG chart",
      schema: resultsResponseSchema,
    },
    handler: async (c, { params, query }) => {
      const origin = originOf(c);
      const row = await service.get(origin, params.id!);
      const r = await results.compute(row, {
        alpha: query.alpha,
        sequential: query.sequential,
        sequentialTuning: query.sequential_tuning,
        cuped: query.cuped,
      });
      if (query.format === 'csv')
        return c.body(resultsCsv(r), 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="${row.key}-results.csv"`,
        });
      if (query.format === 'svg') return c.body(forestPlotSvg(r), 200, { 'Content-Type': 'image/svg+xml; charset=utf-8' });
      const { analysis: _a, ...data } = r;
      return { data };
    },
  });
  const timeseriesRoute = route({
    method: 'get',
    path: '/experiments/:id/results/timeseries',
    summary: 'Experiment results day by day, cumulative: units per variant and each metric with its lift over control',
    tag: 'Experiments',
    auth: 'user',
    success: { status: 200, description: '{days, variants: [{key, units, metrics: {<metric>: {value, relative_lift}}}], metrics, method}' },
    handler: async (c, { params }) => ({ data: await dailyResults(ctx, await service.get(originOf(c), params.id!)) }),
  });
  return [
    ...resourceRoutes('/experiments', 'Experiments', service, experimentCreateBody, experimentUpdateBody),
    ...lifecycle,
    resultsRoute,
    timeseriesRoute,
    resultsRebuildRoute(ctx, service),
  ];
}
