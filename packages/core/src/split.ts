import type { EvaluationDetail } from './reasons';
import { ErrorCode, Reason } from './reasons';
import { createBucketer, toBasisPoints, BUCKETS } from './hash';
import { detail } from './detail';

/** What an empty split (only in a hand-made document) serves: nothing, so the caller's default. */
const EMPTY_SPLIT = detail(null, null, Reason.ERROR, { errorCode: ErrorCode.GENERAL });

/** A weighted split compiled to cumulative basis-point bounds and one prebuilt detail per slice. */
export interface CompiledSplit {
  /** Picks the slice for a unit id. */
  pick(unitId: string): EvaluationDetail;
}

/**
 * Compiles weights (percent) into cumulative upper bounds: the unit gets the first slice whose
 * bound is greater than its bucket. Weights that do not reach 100 leave the tail to the last
 * slice, so a hand-made document can never fall off the end.
 */
export function compileSplit(salt: string, weights: readonly number[], details: readonly EvaluationDetail[]): CompiledSplit {
  const bucketer = createBucketer(salt);
  const bounds = new Int32Array(weights.length);
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += toBasisPoints(weights[i]!);
    bounds[i] = acc;
  }
  if (bounds.length > 0) bounds[bounds.length - 1] = BUCKETS;
  const last = details.length - 1;
  if (last < 0) return { pick: () => EMPTY_SPLIT };
  return {
    pick(unitId) {
      const b = bucketer(unitId);
      for (let i = 0; i < last; i++) if (b < bounds[i]!) return details[i]!;
      return details[last]!;
    },
  };
}
