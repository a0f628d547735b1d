import { segmentSchema } from '@switchyard/core/schema';
import type { KindSpec } from './kind-spec';

/** Segments default to empty lists and no condition. */
export function normalizeSegment(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  if (out.name === undefined && typeof out.key === 'string') out.name = out.key;
  out.included ??= [];
  out.excluded ??= [];
  if (out.when === null) delete out.when;
  return out;
}

/** Segments: published under `segments` in the config. */
export const segmentSpec: KindSpec = {
  kind: 'segment',
  type: 'segment',
  label: 'segment',
  normalize: normalizeSegment,
  schema: segmentSchema,
  statusOf: () => null,
  docField: 'segments',
};
