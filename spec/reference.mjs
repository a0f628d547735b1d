// The contract's reference functions, written from docs/evaluation.md and spec/README.md
// without importing @switchyard/core, so vectors generated with them are an independent
// check of core (and of every SDK that runs the vectors).
import { createRequire } from 'node:module';

// murmurhash3js-revisited is a dependency of packages/core; resolve it from there.
const require = createRequire(new URL('../packages/core/package.json', import.meta.url));
const murmur = require('murmurhash3js-revisited');
// re2js, a port of RE2, is a devDependency of packages/core: `matches` has RE2 semantics.
const { RE2JS } = require('re2js');

const encoder = new TextEncoder();

/** UTF-8 bytes as TextEncoder (WHATWG) makes them: a lone surrogate becomes U+FFFD (EF BF BD). */
export function utf8(s) {
  return encoder.encode(s);
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes, unsigned. */
export function refHash32(s) {
  return murmur.x86.hash32(utf8(s), 0) >>> 0;
}

/** floor(hash32(salt + "." + unit) * 10000 / 2^32), computed exactly with BigInt. */
export function refBucket(salt, unit) {
  const h = BigInt(refHash32(salt + '.' + unit));
  return Number((h * 10000n) / 4294967296n);
}

/** Percent (two decimals) to basis points. */
export function bp(percent) {
  return Math.round(percent * 100);
}

/**
 * Index of the slice a bucket falls in: cumulative basis-point upper bounds, the first bound
 * greater than the bucket wins, the last slice takes any remainder.
 */
export function refSlice(weights, bucket) {
  let upper = 0;
  for (let i = 0; i < weights.length - 1; i++) {
    upper += bp(weights[i]);
    if (bucket < upper) return i;
  }
  return weights.length - 1;
}

/** Deterministic PRNG (mulberry32) so regenerating the vectors gives the same files. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Finds a unit id `${prefix}${n}` whose bucket under `salt` satisfies `accept`. Used to pick
 * units that sit exactly on a split boundary or inside a given slice.
 */
export function findUnit(salt, accept, prefix = 'unit-', limit = 5_000_000) {
  for (let n = 0; n < limit; n++) {
    const u = prefix + n;
    if (accept(refBucket(salt, u), u)) return u;
  }
  throw new Error(`no unit found for salt ${salt}`);
}

/** Longest string attribute an operator looks at; a longer one counts as missing. */
export const MAX_ATTRIBUTE_LENGTH = 4096;

/** `matches` as the contract defines it: RE2 syntax and semantics, a match anywhere in `s`. */
export function refMatches(pattern, s) {
  return RE2JS.compile(pattern).matcher(s).find();
}
