import murmur from 'murmurhash3js-revisited';
import {
  KEYS,
  S2_ROLLOUT,
  S3_ROLLOUT,
  S4_VARIANTS,
  TARGET_COUNTRIES,
  TARGET_EMAIL_SUFFIX,
  TARGET_PLAN,
  TARGET_VERSION,
} from '../scenarios.mjs';

/**
 * Hand-written floors: the same hash contract as Switchyard (MurmurHash3 x86 32 of
 * `salt + "." + unit`, 10,000 buckets) and the scenarios' logic written as precompiled closures
 * that return a bare boolean / variant key -- no config, no result object, no type checks. They
 * bound from below what any engine honouring the contract can do.
 *
 * Two hashes: murmurhash3js-revisited over TextEncoder bytes (the reference implementation), and
 * MurmurHash3 over the string's char codes with the salt's state precomputed (valid for ASCII
 * unit ids; every generated unit id is ASCII).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * A char-code MurmurHash3 x86 32 (seed 0) bucketer for `salt + "." + unit`, with the salt's
 * full blocks pre-mixed. ASCII only.
 * @param {string} salt
 * @returns {(unit: string) => number}
 */
export function charCodeBucketer(salt) {
  const prefix = salt + '.';
  let h0 = 0;
  const full = prefix.length & ~3;
  for (let i = 0; i < full; i += 4) {
    let k = prefix.charCodeAt(i) | (prefix.charCodeAt(i + 1) << 8) | (prefix.charCodeAt(i + 2) << 16) | (prefix.charCodeAt(i + 3) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h0 ^= k;
    h0 = (h0 << 13) | (h0 >>> 19);
    h0 = (Math.imul(h0, 5) + 0xe6546b64) | 0;
  }
  let k0 = 0;
  for (let i = full; i < prefix.length; i++) k0 |= prefix.charCodeAt(i) << ((i - full) << 3);
  const n0 = prefix.length - full;
  const plen = prefix.length;
  return (s) => {
    let h = h0;
    let k = k0;
    let n = n0;
    const len = s.length;
    for (let i = 0; i < len; i++) {
      k |= s.charCodeAt(i) << (n << 3);
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
    h ^= plen + len;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return Math.floor(((h >>> 0) * 10000) / 4294967296);
  };
}

const utf8 = new TextEncoder();

/**
 * The reference bucketer: murmurhash3js-revisited over TextEncoder's UTF-8 bytes.
 * @param {string} salt
 * @returns {(unit: string) => number}
 */
export function referenceBucketer(salt) {
  const prefix = salt + '.';
  return (s) => Math.floor(((murmur.x86.hash32(utf8.encode(prefix + s), 0) >>> 0) * 10000) / 4294967296);
}

/** `major.minor.patch >= target` without allocating; anything unparsable is false. */
function semverAtLeast(/** @type {string} */ target) {
  const [tMaj, tMin, tPat] = target.split('.').map(Number);
  return (/** @type {string} */ v) => {
    let part = 0;
    let n = 0;
    let digits = 0;
    let maj = -1;
    let min = -1;
    for (let i = 0; i <= v.length; i++) {
      const c = i < v.length ? v.charCodeAt(i) : 46;
      if (c >= 48 && c <= 57) {
        n = n * 10 + (c - 48);
        digits++;
      } else if (c === 46 && digits > 0) {
        if (part === 0) maj = n;
        else if (part === 1) min = n;
        else {
          if (maj !== tMaj) return maj > tMaj;
          if (min !== tMin) return min > tMin;
          return n >= tPat;
        }
        part++;
        n = 0;
        digits = 0;
      } else return false;
    }
    return false;
  };
}

/**
 * @param {string} id
 * @param {string} name
 * @param {(salt: string) => (unit: string) => number} makeBucketer
 * @returns {import('./types.mjs').Adapter}
 */
function floor(id, name, makeBucketer) {
  return {
    id,
    name,
    role: 'floor',
    pkg: null,
    api: 'hand-written closures over the hash, returning a bare boolean / variant key',
    async create() {
      const b2 = makeBucketer(KEYS.s2);
      const b3 = makeBucketer(KEYS.s3);
      const b4 = makeBucketer(KEYS.s4);
      const s2Bound = S2_ROLLOUT * 100;
      const s3Bound = S3_ROLLOUT * 100;
      const countries = new Set(TARGET_COUNTRIES);
      const versionOk = semverAtLeast(TARGET_VERSION);
      const [v0, v1, v2] = S4_VARIANTS.map((v) => v.key);
      const cut1 = S4_VARIANTS[0].weight * 100;
      const cut2 = cut1 + S4_VARIANTS[1].weight * 100;
      /** @param {import('./types.mjs').User} u */
      const context = (u) => ({ key: u.key, country: u.country, plan: u.plan, email: u.email, version: u.version });
      /** @param {any} r */
      const value = (r) => r;
      return {
        context,
        async: false,
        scenarios: {
          s1: { run: () => true, value },
          s2: { run: (c) => b2(c.key) < s2Bound, value },
          s3: {
            run: (c) =>
              countries.has(c.country) ||
              c.plan === TARGET_PLAN ||
              c.email.endsWith(TARGET_EMAIL_SUFFIX) ||
              versionOk(c.version) ||
              b3(c.key) < s3Bound,
            value,
          },
          s4: {
            run: (c) => {
              const b = b4(c.key);
              return b < cut1 ? v0 : b < cut2 ? v1 : v2;
            },
            value,
          },
        },
        close() {},
      };
    },
  };
}

/** Floor with the reference hash (TextEncoder bytes + murmurhash3js-revisited). */
export const floorBytes = floor('floor-bytes', 'floor: murmurhash3js-revisited on TextEncoder bytes', referenceBucketer);
/** Floor with MurmurHash3 over char codes, salt state precomputed. */
export const floorChars = floor('floor-chars', 'floor: MurmurHash3 on char codes', charCodeBucketer);
