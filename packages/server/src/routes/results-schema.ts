import { z } from 'zod';
import { EXCLUSION_REASONS } from '../store/run-attribution';

const count = z.number().int().min(0);

/** What a results response leaves out of the run, by reason. */
const exclusionsSchema = z
  .object({
    before_start: count.meta({ description: 'exposures stamped before the experiment started' }),
    after_completion: count.meta({ description: 'exposures stamped at or after completed_at' }),
    unknown_variant: count.meta({ description: 'exposures reporting a variant the experiment does not have' }),
    multiple_variants: count.meta({ description: 'units exposed to more than one variant (units, not events)' }),
    assignment_mismatch: count.meta({ description: 'exposures whose variant contradicts the assignment the server computes for the unit' }),
  })
  .meta({ id: 'ResultsExclusions', description: 'What was left out of the run and why; none of it counts in units or metrics' });

/**
 * The JSON answer of `GET /api/v1/experiments/{id}/results` (the per-metric analysis is described
 * in the statistics docs; its shape follows the metric's type).
 */
export const resultsResponseSchema = z
  .object({
    data: z.object({
      experiment: z.object({ id: z.string(), key: z.string(), status: z.string() }),
      computed_at: z.string(),
      frozen_at: z
        .string()
        .nullable()
        .meta({ description: 'when the figures were frozen (the experiment completed); null while they still move' }),
      method: z.record(z.string(), z.unknown()),
      variants: z.array(z.object({ key: z.string(), weight: z.number(), units: count })),
      excluded_units: count.meta({ description: 'units exposed to more than one variant (as exclusions.multiple_variants)' }),
      exclusions: exclusionsSchema,
      exclusions_by_sender: z
        .array(
          z.object({
            reason: z.enum(EXCLUSION_REASONS),
            sent_by: z.string().nullable().meta({ description: "'api_key:<id>' or 'user:<id>' that sent them; null when unknown" }),
            events: count,
          }),
        )
        .meta({ description: 'the excluded exposures by who sent them, largest first (multiple_variants is not attributed)' }),
      srm: z.record(z.string(), z.unknown()),
      metrics: z.record(z.string(), z.record(z.string(), z.unknown())),
    }),
  })
  .meta({ id: 'ExperimentResults' });
