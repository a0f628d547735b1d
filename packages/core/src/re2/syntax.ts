import { CONTROL, PERL } from './engine';

/** RE2's limit on a `{n,m}` count. */
export const MAX_REPEAT = 1000;

/** A refused pattern: where, and why in words. */
export interface SyntaxProblem {
  at: number;
  message: string;
}

const BRACES = /^\{(\d+)(?:,(\d*))?\}/;

/**
 * Checks that a pattern is valid RE2 within the subset Switchyard's engine implements, and
 * returns the first problem or null. This is the strict half of the engine: `compileRegex` (which
 * ships in every SDK) trusts what passes here. Whatever passes is valid RE2 with the same meaning;
 * what RE2 offers beyond the subset (Unicode and POSIX classes, `\x` and octal escapes,
 * `\Q...\E`, `\C`) is refused rather than misread.
 *
 * @example
 * ```ts
 * checkRegexSyntax('^[a-z]+$'); // null
 * checkRegexSyntax('(a)\\1'); // { at: 3, message: 'backreferences (\\1) are not supported: ...' }
 * ```
 */
export function checkRegexSyntax(p: string): SyntaxProblem | null {
  let i = 0;
  const problem = (message: string, at = i): SyntaxProblem => ({ at, message });
  const names = new Set<string>();
  // Open groups: where each starts, and the largest product of `{n,m}` counts nested inside it.
  const groups: { at: number; product: number }[] = [];
  let product = 1; // of the current group's contents so far
  let last = 1; // of the atom a quantifier would apply to
  // What a quantifier would apply to: nothing, an atom, a quantifier, or a lazy quantifier.
  let prev: 'none' | 'atom' | 'quant' | 'lazy' = 'none';

  /** An escape at `i` (the backslash): its kind, or a problem. */
  const escape = (inClass: boolean): 'char' | 'class' | 'assert' | SyntaxProblem => {
    const c = p[i + 1];
    if (c === undefined) return problem('trailing backslash');
    const at = i;
    i += 2;
    if (c in PERL) return 'class';
    if (c in CONTROL || /[!-/:-@[-`{-~]/.test(c)) return 'char';
    if (!inClass && 'bBAz'.includes(c)) return 'assert';
    if (/[1-9]/.test(c)) return problem(`backreferences (\\${c}) are not supported: matching uses RE2 semantics, which has none`, at);
    if ('0xafvpPQEC'.includes(c)) {
      return problem(
        `\\${c} is not supported (no \\x, octal, \\a, \\f or \\v escapes, Unicode classes, \\Q...\\E or \\C): write the character itself or a class`,
        at,
      );
    }
    return problem(`invalid escape sequence \\${c}`, at);
  };

  /** One class member at `i`: a code point, 'class' for a Perl class, or a problem. */
  const member = (): number | 'class' | SyntaxProblem => {
    if (p[i] !== '\\') {
      const c = p.codePointAt(i)!;
      i += c > 0xffff ? 2 : 1;
      return c;
    }
    const escaped = p[i + 1]!;
    const kind = escape(true);
    if (typeof kind !== 'string') return kind;
    return kind === 'class' ? 'class' : (CONTROL[escaped] ?? escaped.charCodeAt(0));
  };

  const charClass = (): SyntaxProblem | null => {
    const start = i++;
    if (p[i] === '^') i++;
    for (let first = true; p[i] !== ']' || first; first = false) {
      if (i >= p.length) return problem('missing closing ] of a character class', start);
      if (p.startsWith('[:', i)) return problem('POSIX classes such as [[:alpha:]] are not supported; use an explicit class');
      const lo = member();
      if (typeof lo === 'object') return lo;
      if (lo !== 'class' && p[i] === '-' && p[i + 1] !== ']' && i + 1 < p.length) {
        const at = i++;
        const hi = member();
        if (typeof hi === 'object') return hi;
        if (hi === 'class' || hi < lo) return problem('invalid character class range', at);
      }
    }
    i++;
    return null;
  };

  while (i < p.length) {
    const c = p[i]!;
    const braces = c === '{' ? BRACES.exec(p.slice(i)) : null;
    if (c === '*' || c === '+' || c === '?' || braces !== null) {
      if (prev === 'none') return problem(`repetition operator ${braces?.[0] ?? c} has nothing to repeat`);
      if (prev === 'lazy' || (prev === 'quant' && c !== '?')) {
        return problem(`repetition operator ${braces?.[0] ?? c} directly follows another; wrap the first in (?:...)`);
      }
      if (braces !== null) {
        const min = Number(braces[1]);
        const max = braces[2] === undefined ? min : braces[2] === '' ? Infinity : Number(braces[2]);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) return problem(`repeat count ${braces[0]} is over ${MAX_REPEAT}`);
        if (max < min) return problem(`repeat count ${braces[0]} has its maximum below its minimum`);
        // RE2 also refuses nested counts whose product is over 1000 (`(a{100}){20}`); `{0}` counts as 1.
        const nested = last * Math.max(1, max === Infinity ? min : max);
        if (nested > MAX_REPEAT) return problem(`nested repeat counts multiply to ${nested}, over ${MAX_REPEAT}`);
        product = Math.max(product, nested);
      }
      prev = prev === 'quant' ? 'lazy' : 'quant';
      i += braces?.[0].length ?? 1;
    } else if (c === '\\') {
      const kind = escape(false);
      if (typeof kind === 'object') return kind;
      prev = 'atom';
      last = 1;
    } else if (c === '[') {
      const bad = charClass();
      if (bad !== null) return bad;
      prev = 'atom';
      last = 1;
    } else if (c === '(') {
      const at = i;
      const rest = p.slice(i);
      if (/^\(\?(=|!|<=|<!)/.test(rest))
        return problem('lookahead and lookbehind are not supported: matching uses RE2 semantics, which has none');
      const named = /^\(\?P?<([^>]*)>/.exec(rest);
      const flags = /^\(\?(?:([imsU]*)(?:-([imsU]+))?)([:)])/.exec(rest);
      if (named !== null) {
        if (!/^\w+$/.test(named[1]!) || names.has(named[1]!))
          return problem(`invalid or duplicate group name "${named[1]}": names are letters, digits and _`);
        names.add(named[1]!);
        i += named[0].length;
      } else if (rest.startsWith('(?')) {
        if (flags === null || (flags[3] === ')' && !flags[1] && !flags[2])) {
          return problem('invalid flag group: use (?i), (?m), (?s), (?U), (?-i), (?i:...) or (?:...)');
        }
        i += flags[0].length;
        if (flags[3] === ')') {
          prev = 'none';
          continue;
        }
      } else {
        i++;
      }
      groups.push({ at, product });
      product = 1;
      prev = 'none';
    } else if (c === ')') {
      const open = groups.pop();
      if (open === undefined) return problem('unexpected ) without a matching (');
      last = product;
      product = Math.max(open.product, product);
      i++;
      prev = 'atom';
    } else if (c === '|') {
      i++;
      prev = 'none';
    } else {
      i += (p.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
      prev = 'atom';
      last = 1;
    }
  }
  return groups.length > 0 ? problem('missing closing ) for a group', groups[groups.length - 1]!.at) : null;
}
