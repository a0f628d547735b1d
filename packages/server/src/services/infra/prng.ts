/**
 * A deterministic PRNG (mulberry32): the demo's simulated traffic, and tests that simulate
 * experiments, are the same on every machine. Not for anything that needs unpredictability.
 *
 * @example
 * ```ts
 * const next = prng(42);
 * next(); // a number in [0, 1), the same sequence on every run
 * ```
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
