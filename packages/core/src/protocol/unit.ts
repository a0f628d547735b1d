import type { EvaluationContext } from '../types';

/** The attribute a unit is read from when a flag or experiment names no `bucket_by`. */
export const DEFAULT_BUCKET_BY = 'key';

/**
 * The unit id a context is bucketed and counted under: the `bucketBy` attribute when it is a
 * non-empty string or a finite number (as its decimal string), else `null`. This is the one rule
 * core's bucketing, both SDKs and the server share. An empty or missing id is no unit: it is not
 * bucketed (a split answers `TARGETING_KEY_MISSING`), not enrolled, records no exposure and the
 * server rejects an event that carries it, because every anonymous caller would otherwise be
 * counted as the same unit.
 *
 * @example
 * ```ts
 * unitIdOf({ key: 'user-1' }); // 'user-1'
 * unitIdOf({ key: '' }); // null
 * unitIdOf({ company_id: 42 }, 'company_id'); // '42'
 * ```
 */
export function unitIdOf(context: EvaluationContext, bucketBy: string = DEFAULT_BUCKET_BY): string | null {
  return toUnitId(context[bucketBy]);
}

/**
 * The unit rule on a bare value (an event's `unit_id`, a `track()` option): a non-empty
 * string, or a finite number as its decimal string; anything else is `null`.
 *
 * @example
 * ```ts
 * toUnitId(7); // '7'
 * toUnitId(''); // null
 * ```
 */
export function toUnitId(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : null;
}

/** The part of a config experiment the unit helper reads. */
export interface ExperimentUnitSource {
  bucket_by?: string | undefined;
}

/**
 * The unit an experiment's exposure is recorded under: {@link unitIdOf} with the experiment's
 * `bucket_by` (default `key`), so an experiment bucketed by `company_id` counts companies.
 *
 * @example
 * ```ts
 * experimentUnitOf({ bucket_by: 'company_id' }, { key: 'u1', company_id: 'acme' }); // 'acme'
 * experimentUnitOf(undefined, { key: 'u1' }); // 'u1'
 * ```
 */
export function experimentUnitOf(experiment: ExperimentUnitSource | undefined | null, context: EvaluationContext): string | null {
  return unitIdOf(context, experiment?.bucket_by ?? DEFAULT_BUCKET_BY);
}
