// MurmurHash3 x86 32-bit constants.
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Number of buckets a unit can fall in: 0.01 % granularity. */
export const BUCKETS = 10_000;

const utf8 = new TextEncoder();

/**
 * Murmur state after a fixed prefix has been consumed: full blocks mixed into `h`, the 0-3
 * leftover bytes packed little-endian into `k`. Hashing `prefix + s` then only walks `s`.
 */
interface PrefixState {
  readonly prefix: string;
  readonly h: number;
  readonly k: number;
  readonly pending: number;
  readonly byteLength: number;
}

function prefixState(prefix: string): PrefixState {
  const bytes = utf8.encode(prefix);
  let h = 0;
  const full = bytes.length & ~3;
  for (let i = 0; i < full; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let i = full; i < bytes.length; i++) k |= bytes[i]! << ((i - full) << 3);
  return { prefix, h, k, pending: bytes.length - full, byteLength: bytes.length };
}

/**
 * Continues the hash over `s`. ASCII strings are hashed straight from their char codes (one
 * char, one UTF-8 byte); the first non-ASCII char hands the whole input, as UTF-8 bytes, to
 * {@link prefixState}, so the result is always identical to murmurhash3js-revisited over them.
 */
function hashAfter(state: PrefixState, s: string): number {
  let h = state.h;
  let k = state.k;
  let n = state.pending;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    // Over TextEncoder's UTF-8 bytes, the whole input: murmurhash3js-revisited's x86.hash32 (the tests hold them equal).
    if (c > 0x7f) return hashAfter(prefixState(state.prefix + s), '');
    k |= c << (n << 3);
    if (++n === 4) {
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C2);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      k = 0;
      n = 0;
    }
  }
  if (n !== 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= state.byteLength + len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const EMPTY = prefixState('');

/**
 * MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes of `input`, as an unsigned integer.
 *
 * @example
 * ```ts
 * hash32('hello'); // 613153351
 * ```
 */
export function hash32(input: string): number {
  return hashAfter(EMPTY, input);
}

/** Maps a 32-bit hash onto `[0, 9999]` by scaling, not modulo, so no bucket is favoured. */
function toBucket(h: number): number {
  // h * 10000 < 2^46 and the divisor is a power of two: exact in a double.
  return Math.floor((h * BUCKETS) / 4294967296);
}

/**
 * The unit's bucket for a salt: `floor(hash32(salt + "." + unitId) * 10000 / 2^32)`.
 *
 * @example
 * ```ts
 * const inRollout = bucket('new-checkout', 'user-1') < Math.round(25 * 100); // 25 % rollout
 * ```
 */
export function bucket(salt: string, unitId: string): number {
  return toBucket(hashAfter(prefixState(salt + '.'), unitId));
}

/** A function from unit id to bucket for one fixed salt. */
export type Bucketer = (unitId: string) => number;

/**
 * Precomputes the hash state of `salt + "."` once, so each call only hashes the unit id.
 * Same result as {@link bucket}; this is what compiled flags use.
 *
 * @example
 * ```ts
 * const b = createBucketer('checkout-exp');
 * b('user-1') === bucket('checkout-exp', 'user-1'); // true
 * ```
 */
export function createBucketer(salt: string): Bucketer {
  const state = prefixState(salt + '.');
  return (unitId) => toBucket(hashAfter(state, unitId));
}

/**
 * Converts a percentage with up to two decimals into basis points (buckets).
 *
 * @example
 * ```ts
 * toBasisPoints(12.5); // 1250
 * ```
 */
export function toBasisPoints(percent: number): number {
  return Math.round(percent * 100);
}
