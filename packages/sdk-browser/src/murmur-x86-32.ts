/**
 * MurmurHash3 x86 32-bit over bytes: the one function of `murmurhash3js-revisited` that
 * `@switchyard/core` calls (for non-ASCII input; ASCII never gets here). The browser builds of
 * the local entry put this in the package's place, because the package also ships two 128-bit
 * variants core never uses, about 1.7 kB of the 10 kB budget. `test/murmur-shim.test.ts`
 * checks it against `spec/hash.json` and against the package itself on random input.
 *
 * @example
 * ```ts
 * murmur.x86.hash32(new TextEncoder().encode('é'), 0); // same as murmurhash3js-revisited
 * ```
 */
function hash32(bytes: Uint8Array, seed = 0): number {
  const n = bytes.length;
  const full = n & ~3;
  let h = seed | 0;
  const mix = (k: number) => {
    k = Math.imul(k, 0xcc9e2d51);
    return Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  };
  for (let i = 0; i < full; i += 4) {
    h ^= mix(bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  let tail = 0;
  for (let i = n - 1; i >= full; i--) tail = (tail << 8) | bytes[i]!;
  if (n > full) h ^= mix(tail);
  h ^= n;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The shape core imports: `murmur.x86.hash32(bytes, seed)`. */
const murmur = { x86: { hash32 } };
export default murmur;
