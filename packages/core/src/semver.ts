/** A parsed semantic version; build metadata is dropped because it does not affect precedence. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre: readonly (string | number)[];
}

const NUMERIC = /^(0|[1-9]\d*)$/;

/*
 * A hand-written scanner for exactly the language of
 *   /^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/
 * applied to `input.trim()`. The semver operators run it on every evaluation, so it allocates
 * nothing for the usual input (no surrounding whitespace, numbers below 2^53): the parts are left
 * in the module-level scratch below, read right after by the caller (evaluation is synchronous).
 */
let scanned = '';
let scanMajor = 0;
let scanMinor = 0;
let scanPatch = 0;
/** Start and end of the pre-release in `scanned`; start is -1 when there is none. */
let scanPreStart = -1;
let scanPreEnd = -1;

function isIdentifierChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 45;
}

/** Dot-separated non-empty identifiers from `i`; returns the end index, or -1. */
function scanIdentifiers(s: string, i: number, end: number): number {
  for (;;) {
    const start = i;
    while (i < end && isIdentifierChar(s.charCodeAt(i))) i++;
    if (i === start) return -1;
    if (i < end && s.charCodeAt(i) === 46) i++;
    else return i;
  }
}

function isTrimCandidate(c: number): boolean {
  return c <= 32 || c >= 127;
}

/** Scans a version into the scratch variables; false when `input` is not one. Reads each char once. */
function scanSemver(input: string): boolean {
  let s = input;
  let end = s.length;
  if (end === 0) return false;
  let c = s.charCodeAt(0);
  if (isTrimCandidate(c) || isTrimCandidate(s.charCodeAt(end - 1))) {
    s = s.trim();
    end = s.length;
    if (end === 0) return false;
    c = s.charCodeAt(0);
  }
  let i = 0;
  if (c === 118) c = ++i < end ? s.charCodeAt(i) : -1; // optional "v"
  let major = 0;
  let minor = 0;
  let patch = 0;
  // Up to three numbers: "0" or [1-9][0-9]*, separated by dots. `c` is always the char at `i` (-1 at the end).
  for (let part = 0; ; part++) {
    if (c < 48 || c > 57) return false;
    const start = i;
    let n = c - 48;
    c = ++i < end ? s.charCodeAt(i) : -1;
    if (n !== 0) {
      while (c >= 48 && c <= 57) {
        n = n * 10 + (c - 48);
        c = ++i < end ? s.charCodeAt(i) : -1;
      }
      // Up to 15 digits the running value is exact; longer ones go through Number() as before.
      if (i - start > 15) n = Number(s.slice(start, i));
    }
    // After a "0", a digit can follow nothing in the grammar: the final `i !== end` rejects it.
    if (part === 0) major = n;
    else if (part === 1) minor = n;
    else patch = n;
    if (c !== 46 || part === 2) break;
    c = ++i < end ? s.charCodeAt(i) : -1;
  }
  let preStart = -1;
  let preEnd = -1;
  if (c === 45) {
    preStart = i + 1;
    preEnd = scanIdentifiers(s, preStart, end);
    if (preEnd < 0) return false;
    i = preEnd;
    c = i < end ? s.charCodeAt(i) : -1;
  }
  if (c === 43) {
    i = scanIdentifiers(s, i + 1, end);
    if (i < 0) return false;
  }
  if (i !== end) return false;
  scanned = s;
  scanMajor = major;
  scanMinor = minor;
  scanPatch = patch;
  scanPreStart = preStart;
  scanPreEnd = preEnd;
  return true;
}

function scannedPre(): (string | number)[] {
  if (scanPreStart < 0) return [];
  return scanned
    .slice(scanPreStart, scanPreEnd)
    .split('.')
    .map((id) => (NUMERIC.test(id) ? Number(id) : id));
}

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
  if (typeof input !== 'string' || !scanSemver(input)) return null;
  return { major: scanMajor, minor: scanMinor, patch: scanPatch, pre: scannedPre() };
}

/**
 * `compareSemver(parseSemver(input), target)` without building the parsed version (it only
 * allocates when the versions are equal up to the patch and the input has a pre-release), or
 * `NaN` when `input` is not a version.
 * What the semver operators call on every evaluation.
 */
export function compareSemverString(input: string, target: SemVer): number {
  if (!scanSemver(input)) return NaN;
  if (scanMajor !== target.major) return scanMajor - target.major;
  if (scanMinor !== target.minor) return scanMinor - target.minor;
  if (scanPatch !== target.patch) return scanPatch - target.patch;
  if (scanPreStart < 0) return target.pre.length;
  return compareSemver({ major: scanMajor, minor: scanMinor, patch: scanPatch, pre: scannedPre() }, target);
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
