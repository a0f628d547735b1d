/** Longest pattern a `matches` condition may use. */
export const MAX_PATTERN_LENGTH = 256;

const QUANTIFIER_BRACES = /^\{(\d+)(,(\d*))?\}/;

/** Length of the quantifier at `i` (0 if none) and whether it can repeat more than once. */
function quantifierAt(p: string, i: number): { length: number; repeats: boolean } {
  const c = p[i];
  if (c === '*' || c === '+') return { length: p[i + 1] === '?' ? 2 : 1, repeats: true };
  if (c === '?') return { length: p[i + 1] === '?' ? 2 : 1, repeats: false };
  if (c === '{') {
    const m = QUANTIFIER_BRACES.exec(p.slice(i));
    if (m !== null) {
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      const len = m[0].length + (p[i + m[0].length] === '?' ? 1 : 0);
      return { length: len, repeats: max > 1 };
    }
  }
  return { length: 0, repeats: false };
}

/** Skips `(`, `(?:`, `(?=`, `(?!`, `(?<=`, `(?<!` and `(?<name>` to the group's first atom. */
function groupBodyStart(p: string, i: number): number {
  if (p[i + 1] !== '?') return i + 1;
  if (p[i + 2] !== '<') return i + 3;
  if (p[i + 3] === '=' || p[i + 3] === '!') return i + 4;
  return p.indexOf('>', i) + 1;
}

/**
 * Why a pattern is unsafe to run on every evaluation, or `null` when it is fine. Rejects what
 * makes backtracking engines go exponential — a repeated group that can itself match in more
 * than one way: one containing a quantifier (`(a+)+`, `(\w*x?)*`, even `(a?a?)+`) or an
 * alternation (`(a|aa)+`) — and backreferences, plus over-long or invalid patterns. A
 * conservative syntactic check: it may refuse a harmless pattern (`(a|b)+`), never the reverse
 * for these families.
 *
 * @example
 * ```ts
 * unsafePatternReason('(a+)+$'); // 'nested quantifier ...'
 * unsafePatternReason('^[a-z]+@example\\.com$'); // null
 * ```
 */
export function unsafePatternReason(pattern: string): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern);
  } catch (e) {
    return `invalid regular expression: ${(e as Error).message}`;
  }
  // One frame per open group: can it match in more than one way (a quantifier, even `?`, or `|`)?
  const stack: { varies: boolean }[] = [{ varies: false }];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    let atomEnd = i + 1;
    let groupVaries = false;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not allowed';
      atomEnd = i + 2;
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j++;
      // No POSIX "]" first: in JavaScript `[]` is the empty class and `[^]` matches any character.
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      atomEnd = j + 1;
    } else if (c === '(') {
      stack.push({ varies: false });
      i = groupBodyStart(pattern, i);
      continue;
    } else if (c === ')') {
      const frame = stack.pop();
      if (frame === undefined || stack.length === 0) return 'unbalanced parentheses';
      groupVaries = frame.varies;
    } else if (c === '|') {
      stack[stack.length - 1]!.varies = true;
    }
    const q = quantifierAt(pattern, atomEnd);
    const top = stack[stack.length - 1]!;
    if (q.repeats && groupVaries) {
      return `nested quantifier at position ${atomEnd}: a repeated group contains a quantifier or an alternation`;
    }
    if (q.length > 0 || groupVaries) top.varies = true;
    i = atomEnd + q.length;
  }
  return null;
}
