import { z } from 'zod';
import { forbidden, notFound } from '../errors';
import { route, type RouteDef } from '../http/route';
import { commitMutation, originOf, type ServerContext } from '../services/context';
import type { ExperimentService } from '../services/domain/experiments';
import { metricsOf } from '../services/results/metrics-of';
import { isFrozen, takeResultsSnapshot } from '../services/results/results-snapshot';

const unitsPerVariant = z.record(z.string(), z.number().int());
const rebuildResponse = z
  .object({
    data: z.object({
      experiment: z.string(),
      exposures_read: z.number().int(),
      tracks_read: z.number().int(),
      units: z.number().int(),
      excluded_exposures: z.number().int(),
      skipped_values: z.number().int(),
      units_before: unitsPerVariant.meta({ description: 'units per variant before the rebuild' }),
      units_after: unitsPerVariant.meta({ description: 'units per variant after the rebuild' }),
    }),
  })
  .meta({ id: 'ResultsRebuild' });

/**
 * `POST /api/v1/experiments/{key}/results/rebuild` (ADMIN): recomputes the experiment's results
 * summaries from its stored events, for when they are suspected wrong (tampered with, lost, or
 * poisoned by values accepted before they were bounded). Audited as
 * `experiment.results_rebuilt` with the units per variant before and after.
 */
export function resultsRebuildRoute(ctx: ServerContext, service: ExperimentService): RouteDef<any, any> {
  return route({
    method: 'post',
    path: '/experiments/:id/results/rebuild',
    summary: "Rebuild an experiment's results summaries from its stored events (ADMIN; audited)",
    tag: 'Experiments',
    auth: 'user',
    success: {
      status: 200,
      description:
        '{experiment, exposures_read, tracks_read, units, excluded_exposures, skipped_values, units_before, units_after}: what was read and counted',
      schema: rebuildResponse,
    },
    handler: async (c, { params }) => {
      const origin = originOf(c);
      if (origin.actor?.role !== 'ADMIN') throw forbidden('only an ADMIN may rebuild results');
      const row = await service.get(origin, params.id!);
      const environment = row.environment ?? ctx.options.defaultEnvironment;
      const metrics = metricsOf(row.data);
      // Batches acknowledged before the request are part of what is rebuilt.
      await ctx.events.drain();
      const before = await ctx.store.experimentAggregates(environment, row.key, metrics);
      const report = await ctx.store.rebuildExperimentSummaries(environment, row.key, ctx.options.maxEventValue);
      if (report === null) throw notFound('experiment', params.id!);
      // Cached results must not outlive the summaries they were computed from.
      ctx.events.version++;
      if (isFrozen(row)) await takeResultsSnapshot(ctx, row);
      const after = await ctx.store.experimentAggregates(environment, row.key, metrics);
      const data = {
        experiment: row.key,
        exposures_read: report.exposuresRead,
        tracks_read: report.tracksRead,
        units: report.units,
        excluded_exposures: report.excludedExposures,
        skipped_values: report.skippedValues,
        units_before: before.units,
        units_after: after.units,
      };
      await commitMutation(ctx, origin, {
        writes: [],
        audit: {
          action: 'experiment.results_rebuilt',
          resourceType: 'experiment',
          resourceId: row.id,
          resourceKey: row.key,
          environment,
          before: { units: before.units, exclusions: before.exclusions },
          after: { units: after.units, exclusions: after.exclusions, skipped_values: report.skippedValues },
        },
      });
      return { data };
    },
  });
}
