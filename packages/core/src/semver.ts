/** A parsed semantic version; build metadata is dropped because it does not affect precedence. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre: readonly (string | number)[];
}

const SEMVER = /^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const NUMERIC = /^(0|[1-9]\d*)$/;

/**
 * Parses `1.2.3`, `v1.2.3-beta.2+build.5`, and the shorthands `1` and `1.2` (missing parts are 0).
 * Returns `null` for anything else.
 *
 * @example
 * ```ts
 * parseSemver('2.0.0-rc.1'); // { major: 2, minor: 0, patch: 0, pre: ['rc', 1] }
 * ```
 */
export function parseSemver(input: unknown): SemVer | null {
  if (typeof input !== 'string') return null;
  const m = SEMVER.exec(input.trim());
  if (m === null) return null;
  const pre = m[4] === undefined ? [] : m[4].split('.').map((id) => (NUMERIC.test(id) ? Number(id) : id));
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), pre };
}

function compareIdentifiers(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  // Numeric identifiers always have lower precedence than alphanumeric ones (SemVer 2.0.0 §11).
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares by SemVer 2.0.0 precedence: negative, zero or positive.
 *
 * @example
 * ```ts
 * compareSemver(parseSemver('1.0.0-alpha')!, parseSemver('1.0.0')!) < 0; // true
 * ```
 */
export function compareSemver(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  // A version with a pre-release has lower precedence than the same version without one.
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  const n = Math.min(a.pre.length, b.pre.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifiers(a.pre[i]!, b.pre[i]!);
    if (c !== 0) return c;
  }
  return a.pre.length - b.pre.length;
}
