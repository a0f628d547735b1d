import fc from 'fast-check';
import type { ConfigDocument } from '../types';
import { experimentArb, FLAGS, flagArb, SEGMENTS, segmentArb } from './arbitraries';

// Arbitrary documents (any subset of a few keys) and patches to them, for the incremental-update properties.

// Prerequisites may name any flag (cycles included), an experiment, or nothing at all; one
// experiment shares its key with a flag. Segments name only earlier segments: a hand-made
// segment cycle compiles to "never matches" on whichever edge is met last, which depends on
// compile order (saving rejects such cycles). Flags may serve any experiment, a missing one
// included; experiment variants are named like flag variants (v0, v1, ...), so an enrolled unit
// gets the flag's variant of that name (or an error where the flag has fewer variants).
export const EXPERIMENTS = ['e0', 'e1', 'f3'];
const PREREQUISITE_POOL = [...FLAGS, 'e0', 'gone'];
const SERVED_POOL = [...EXPERIMENTS, 'gone'];

const flagFor = (key: string) => flagArb(key, FLAGS.indexOf(key), PREREQUISITE_POOL, SERVED_POOL);
const experimentFor = (key: string) => experimentArb(key, 'v');
const segmentFor = (key: string) => segmentArb(key, SEGMENTS.indexOf(key));

/** Some of `keys`, each with a value from `arb` (or `null` when `deletes`). */
function pick<T>(keys: readonly string[], arb: (key: string) => fc.Arbitrary<T>, deletes: boolean) {
  return fc
    .subarray([...keys])
    .chain((chosen) =>
      fc.tuple(...chosen.map((k) => (deletes ? fc.option(arb(k), { nil: null, freq: 3 }) : arb(k)).map((v) => [k, v] as const))),
    )
    .map((pairs) => Object.fromEntries(pairs) as Record<string, T>);
}

export const initialArb: fc.Arbitrary<ConfigDocument> = fc
  .record({
    flags: pick(FLAGS, flagFor, false),
    segments: pick(SEGMENTS, segmentFor, false),
    experiments: pick(EXPERIMENTS, experimentFor, false),
  })
  .map((d) => ({ schema_version: 1 as const, version: 1, ...d }));

export const patchBodyArb = fc.record(
  {
    flags: pick(FLAGS, flagFor, true),
    segments: pick(SEGMENTS, segmentFor, true),
    experiments: pick(EXPERIMENTS, experimentFor, true),
  },
  { requiredKeys: [] },
);
