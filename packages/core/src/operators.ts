import type { ConditionValue, EvaluationContext, LeafCondition } from './types';
import { toComparable, toEpochMs, toNumber } from './parse';
import { compareSemverString, parseSemver, type SemVer } from './semver';
import { compileRegex, type RegexTest } from './re2/engine';
import { isPresent, MAX_ATTRIBUTE_LENGTH } from './limits';

/** A test over one present (non-null) attribute value. */
export type ValueTest = (value: unknown) => boolean;

const never: ValueTest = () => false;

function comparableList(values: readonly ConditionValue[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const c = toComparable(v);
    if (c !== null) out.push(c);
  }
  return out;
}

function membership(values: readonly ConditionValue[]): ValueTest {
  const list = comparableList(values);
  if (list.length === 0) return never;
  const set = new Set(list);
  return (v) => {
    const c = toComparable(v);
    return c !== null && set.has(c);
  };
}

function stringTest(values: readonly ConditionValue[], test: (s: string, needle: string) => boolean): ValueTest {
  const needles = comparableList(values);
  if (needles.length === 0) return never;
  return (v) => {
    const s = typeof v === 'string' ? v : toComparable(v);
    if (s === null) return false;
    for (const n of needles) if (test(s, n)) return true;
    return false;
  };
}

/**
 * The `matches` patterns of a leaf, compiled for the linear-time RE2 engine. Patterns are checked
 * when saved; one too large to compile (only in a hand-made document) never matches.
 */
function regexTest(values: readonly ConditionValue[]): ValueTest {
  const tests: RegexTest[] = [];
  for (const v of values) {
    const t = typeof v === 'string' ? compileRegex(v) : null;
    if (t !== null) tests.push(t);
  }
  if (tests.length === 0) return never;
  return (v) => {
    const s = typeof v === 'string' ? v : toComparable(v);
    if (s === null) return false;
    for (const t of tests) if (t(s)) return true;
    return false;
  };
}

/** "Any value" semantics collapse to one bound: `x > any(v)` is `x > min(v)`, and so on. */
function bound(values: readonly ConditionValue[], parse: (v: unknown) => number | null, pick: 'min' | 'max'): number | null {
  let out: number | null = null;
  for (const v of values) {
    const n = parse(v);
    if (n === null) continue;
    if (out === null || (pick === 'min' ? n < out : n > out)) out = n;
  }
  return out;
}

function numericTest(values: readonly ConditionValue[], op: 'gt' | 'gte' | 'lt' | 'lte', parse: (v: unknown) => number | null): ValueTest {
  const b = bound(values, parse, op === 'gt' || op === 'gte' ? 'min' : 'max');
  if (b === null) return never;
  switch (op) {
    case 'gt':
      return (v) => {
        const n = parse(v);
        return n !== null && n > b;
      };
    case 'gte':
      return (v) => {
        const n = parse(v);
        return n !== null && n >= b;
      };
    case 'lt':
      return (v) => {
        const n = parse(v);
        return n !== null && n < b;
      };
    case 'lte':
      return (v) => {
        const n = parse(v);
        return n !== null && n <= b;
      };
  }
}

function semverTargets(values: readonly ConditionValue[]): SemVer[] {
  const targets: SemVer[] = [];
  for (const v of values) {
    const p = parseSemver(typeof v === 'string' ? v : String(v));
    if (p !== null) targets.push(p);
  }
  return targets;
}

function semverTest(values: readonly ConditionValue[], accept: (cmp: number) => boolean): ValueTest {
  const targets = semverTargets(values);
  if (targets.length === 0) return never;
  // Scans the attribute without allocating (see compareSemverString); NaN = not a version.
  return (v) => {
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string') return false;
    for (let i = 0; i < targets.length; i++) {
      const c = compareSemverString(s, targets[i]!);
      if (c !== c) return false;
      if (accept(c)) return true;
    }
    return false;
  };
}

/** Array attributes match a positive operator when any element does; over-long elements are skipped like null ones. */
function overArrays(test: ValueTest): ValueTest {
  return (v) => {
    if (!Array.isArray(v)) return test(v);
    for (const el of v) if (isPresent(el) && test(el)) return true;
    return false;
  };
}

/**
 * Compiles one leaf operator into a test over a present attribute value. Negative operators
 * (`neq`, `not_in`, `not_contains`) are the exact negation of their positive twin; a missing
 * attribute is handled by the caller, so it never reaches these tests.
 */
export function compileOperator(leaf: LeafCondition): ValueTest {
  const values = leaf.values ?? [];
  switch (leaf.op) {
    case 'eq':
    case 'in':
      return overArrays(membership(values));
    case 'neq':
    case 'not_in': {
      const t = overArrays(membership(values));
      return (v) => !t(v);
    }
    case 'contains':
      return containsTest(values);
    case 'not_contains': {
      const t = containsTest(values);
      return (v) => !t(v);
    }
    case 'starts_with':
      return overArrays(stringTest(values, (s, n) => s.startsWith(n)));
    case 'ends_with':
      return overArrays(stringTest(values, (s, n) => s.endsWith(n)));
    case 'matches':
      return overArrays(regexTest(values));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return overArrays(numericTest(values, leaf.op, toNumber));
    case 'before':
      return overArrays(numericTest(values, 'lt', toEpochMs));
    case 'after':
      return overArrays(numericTest(values, 'gt', toEpochMs));
    case 'semver_eq':
      return overArrays(semverTest(values, (c) => c === 0));
    case 'semver_gt':
      return overArrays(semverTest(values, (c) => c > 0));
    case 'semver_gte':
      return overArrays(semverTest(values, (c) => c >= 0));
    case 'semver_lt':
      return overArrays(semverTest(values, (c) => c < 0));
    case 'semver_lte':
      return overArrays(semverTest(values, (c) => c <= 0));
    case 'exists':
      return () => true;
    case 'not_exists':
      // Reached only for present values: a present attribute does not "not exist".
      return () => false;
    default:
      return never;
  }
}

/** `contains`: substring for strings, element equality for arrays. */
function containsTest(values: readonly ConditionValue[]): ValueTest {
  const sub = stringTest(values, (s, n) => s.includes(n));
  const member = membership(values);
  return (v) => {
    if (!Array.isArray(v)) return sub(v);
    for (const el of v) if (isPresent(el) && member(el)) return true;
    return false;
  };
}

/** A leaf predicate over the whole context. */
type LeafPredicate = (context: EvaluationContext) => boolean;

/**
 * The hot path of the common leaves: for `eq in neq not_in starts_with ends_with contains
 * not_contains semver_*` on an ordinary attribute name, one closure per leaf reads the
 * attribute and, when it is a string, tests it inline. A rule then costs a single call instead
 * of a chain of shared wrappers (reader, array fan-out, coercion, comparison), which V8 cannot
 * inline once a config mixes operators. Any other value (number, boolean, array, missing) goes to
 * `generic`, the leaf's full compiled test, so results are exactly those of `compileOperator`:
 * each fast path below is that test specialised to a string input.
 *
 * Returns `null` when there is no fast path; the caller then builds the generic leaf.
 */
export function compileStringLeaf(attr: string, leaf: LeafCondition, generic: ValueTest): LeafPredicate | null {
  const values = leaf.values ?? [];
  // Strings are never `slow`: each fast path below applies the length cap itself.
  const slow = (v: unknown): boolean => v !== undefined && v !== null && generic(v);
  switch (leaf.op) {
    case 'eq':
    case 'in':
    case 'neq':
    case 'not_in': {
      const list = comparableList(values);
      if (list.length === 0) return null;
      const negate = leaf.op === 'neq' || leaf.op === 'not_in';
      if (list.length === 1) {
        const only = list[0]!;
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === 'string' ? v.length <= MAX_ATTRIBUTE_LENGTH && (v === only) !== negate : slow(v);
        };
      }
      const set = new Set(list);
      return (ctx) => {
        const v = ctx[attr];
        return typeof v === 'string' ? v.length <= MAX_ATTRIBUTE_LENGTH && set.has(v) !== negate : slow(v);
      };
    }
    case 'starts_with':
    case 'ends_with':
    case 'contains':
    case 'not_contains': {
      const needles = comparableList(values);
      if (needles.length !== 1) return null;
      const needle = needles[0]!;
      if (leaf.op === 'starts_with') {
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === 'string' ? v.length <= MAX_ATTRIBUTE_LENGTH && v.startsWith(needle) : slow(v);
        };
      }
      if (leaf.op === 'ends_with') {
        return (ctx) => {
          const v = ctx[attr];
          return typeof v === 'string' ? v.length <= MAX_ATTRIBUTE_LENGTH && v.endsWith(needle) : slow(v);
        };
      }
      const negate = leaf.op === 'not_contains';
      return (ctx) => {
        const v = ctx[attr];
        return typeof v === 'string' ? v.length <= MAX_ATTRIBUTE_LENGTH && v.includes(needle) !== negate : slow(v);
      };
    }
    case 'semver_eq':
    case 'semver_gt':
    case 'semver_gte':
    case 'semver_lt':
    case 'semver_lte': {
      const targets = semverTargets(values);
      if (targets.length === 0) return null;
      // The accepted signs of compareSemver, as booleans rather than a callback.
      const op = leaf.op;
      const below = op === 'semver_lt' || op === 'semver_lte';
      const equal = op === 'semver_eq' || op === 'semver_gte' || op === 'semver_lte';
      const above = op === 'semver_gt' || op === 'semver_gte';
      return (ctx) => {
        const v = ctx[attr];
        if (typeof v !== 'string') return slow(v);
        if (v.length > MAX_ATTRIBUTE_LENGTH) return false;
        for (let i = 0; i < targets.length; i++) {
          const c = compareSemverString(v, targets[i]!);
          if (c !== c) return false; // not a version
          if (c < 0 ? below : c === 0 ? equal : above) return true;
        }
        return false;
      };
    }
    default:
      return null;
  }
}
