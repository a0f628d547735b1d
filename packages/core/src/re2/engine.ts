/** Tests whether a compiled pattern matches anywhere in a string. Never throws. */
export type RegexTest = (subject: string) => boolean;

/**
 * Most NFA states a pattern may compile to. Matching costs at most states x subject length steps,
 * so this cap (with the attribute length cap) bounds one `matches` test.
 */
export const MAX_STATES = 1000;

/**
 * One NFA state: `t` consumes a code point it accepts, `a` is a zero-width assertion; either way
 * the state then moves to every state of `n`. A state with neither is a plain fork. `g` is the
 * step at which the state last joined a thread list, so it joins each list at most once.
 */
interface State {
  t?: ((c: number) => boolean) | undefined;
  a?: RegExp | undefined;
  n: State[];
  g?: number;
}

/** Builds the states of a piece of pattern in front of `next` and returns its entry. */
type Build = (next: State) => State;

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

/** The letter escapes RE2 gives a control character. */
export const CONTROL: Readonly<Record<string, number>> = { t: 9, n: 10, r: 13 };

/**
 * RE2's Perl classes as JavaScript class contents (`u` flag). RE2's `\s` is `[\t\n\f\r ]`, narrower
 * than JavaScript's, so it and its negation are spelled out; `\d \D \w \W` agree, including under
 * `(?i)`, where both fold the class and then negate it (`(?i)\W` refuses `ſ`, a fold of `s`).
 */
export const PERL: Readonly<Record<string, string>> = {
  d: '0-9',
  D: '\\D',
  w: '\\w',
  W: '\\W',
  s: '\\t\\n\\f\\r ',
  S: '\\0-\\b\\v\\x0e-\\x1f!-\\u{10ffff}',
};

/**
 * Zero-width assertions as sticky JavaScript RegExps, tried at one offset (constant time). Without
 * the `u` flag `\b` is ASCII, as in RE2; `(?m)` lines end at `\n` only, so `^ $` are spelled out.
 */
const ASSERTIONS: Readonly<Record<string, RegExp>> = {
  A: /^/y,
  z: /$/y,
  '^': /(?<=^|\n)/y,
  $: /(?=\n|$)/y,
  b: /\b/y,
  B: /\B/y,
};

const hex = (c: number): string => `\\u{${c.toString(16)}}`;

/**
 * A test of one code point against a class, given as JavaScript class contents. The class is a
 * one-character JavaScript RegExp (constant time: it only ever sees one code point), which also
 * brings Unicode simple case folding for `(?i)`, the folding RE2 uses.
 */
function classTest(body: string, fold: boolean): (c: number) => boolean {
  const re = new RegExp(`^[${body}]$`, fold ? 'iu' : 'u');
  return (c) => re.test(String.fromCodePoint(c));
}

/**
 * Compiles an RE2 pattern into a linear-time test, or returns null when it cannot (over
 * {@link MAX_STATES}, or not a pattern). The test simulates a Thompson NFA over the subject's code
 * points, keeping a set of states instead of backtracking, so its cost is at most (states) x
 * (subject length) whatever the pattern and input.
 *
 * This compiler trusts its input to be valid RE2 in the subset `checkRegexSyntax` accepts (the
 * schema applies both when a config is saved): it stays small because it ships in the browser SDK,
 * and on anything else it returns some test or null, never throws and never loops. Only whether
 * there is a match is computed, so lazy and greedy repetitions, and `(?U)`, behave the same.
 *
 * @example
 * ```ts
 * const test = compileRegex('^\\d+\\.\\d+$');
 * test?.('1.25'); // true
 * ```
 */
export function compileRegex(p: string): RegexTest | null {
  let i = 0;
  let count = 0;
  const state = (n: State[], t?: State['t'], a?: State['a']): State => {
    // A bare sentinel, caught by compileRegex below: an Error would cost bytes in the browser bundle.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (++count > MAX_STATES) throw 0;
    return { t, a, n };
  };
  const consume =
    (t: (c: number) => boolean): Build =>
    (next) =>
      state([next], t);

  /** A quantifier at `i` (consumed, with a lazy `?`) as [min, max], max -1 when unbounded. */
  const quantifier = (): number[] | null => {
    const q = '*+?'.indexOf(p[i]!);
    // A `{` that does not start `{n}`, `{n,}` or `{n,m}` is a literal in RE2.
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
    const r = q >= 0 ? [q & 1, q > 1 ? 1 : -1] : m && [+m[1]!, m[2] ? (m[3] ? +m[3] : -1) : +m[1]!];
    if (r) i += (m ? m[0].length : 1) + +(p[i + (m ? m[0].length : 1)] === '?');
    return r;
  };

  /** The next code point, or after a backslash the escaped one; a Perl class's contents as a string. */
  const char = (): number | string => {
    const e = p[i] === '\\' ? p[++i]! : '';
    const c = p.codePointAt(i)!;
    i += c > 0xffff ? 2 : 1;
    return PERL[e] ?? CONTROL[e] ?? c;
  };
  const piece = (c: number | string): string => (typeof c === 'number' ? hex(c) : c);

  /** `[...]` after its `[`. A `]` right after `[` or `[^` is a literal, as in RE2. */
  const charClass = (f: Flags): Build => {
    let body = p[i] === '^' ? (i++, '^') : '';
    for (let first = true; i < p.length && (p[i] !== ']' || first); first = false) {
      const lo = char();
      body += piece(lo);
      // After a Perl class, `-` is a literal (`[\d-z]`), as in RE2.
      if (typeof lo === 'number' && p[i] === '-' && p[i + 1] !== ']') body += (i++, '-' + piece(char()));
    }
    i++;
    return consume(classTest(body, f.i));
  };

  /** `(` consumed: the group's builder, or null for `(?flags)`, which changes `f` instead. */
  const group = (f: Flags): Build | null => {
    const inner = { ...f };
    if (p[i] === '?') {
      // A name, `(?P<n>` or `(?<n>`, is skipped; flags `(?i-s)` / `(?i-s:` set `inner`.
      if (/^\?P?</.test(p.slice(i, i + 3))) i = p.indexOf('>', i) >>> 0;
      else {
        let on = true;
        for (i++; i < p.length && p[i] !== ')' && p[i] !== ':'; i++) {
          if (p[i] === '-') on = false;
          else inner[p[i] as 'i'] = on;
        }
        if (p[i] === ')') return (i++, Object.assign(f, inner), null);
      }
      i++;
    }
    const body = alternation(inner);
    i++;
    return body;
  };

  const concatenation = (f: Flags): Build => {
    const items: Build[] = [];
    while (i < p.length && p[i] !== '|' && p[i] !== ')') {
      const c = p[i];
      let atom: Build | null;
      if (c === '(' || c === '[') atom = (i++, c === '(' ? group(f) : charClass(f));
      else if (c === '.') atom = (i++, consume(classTest(f.s ? '^' : '^\\n', false)));
      else if (c === '^' || c === '$' || (c === '\\' && 'bBAz'.includes(p[i + 1]!))) {
        const a = c === '\\' ? p[++i]! : f.m ? c : c === '^' ? 'A' : 'z';
        i++;
        atom = (next) => state([next], undefined, ASSERTIONS[a]);
      } else {
        atom = consume(classTest(piece(char()), f.i));
      }
      const q = atom && quantifier();
      if (q) atom = repeat(atom!, q[0]!, q[1]!);
      if (atom) items.push(atom);
    }
    return (next) => items.reduceRight((n, b) => b(n), next);
  };

  const repeat =
    (body: Build, min: number, max: number): Build =>
    (next) => {
      let entry = next;
      if (max < 0) {
        const loop = state([next]);
        loop.n.unshift(body(loop));
        entry = loop;
      }
      // x{0,k} as nested optionals, (x(x)?)?, each tried only after the one before it.
      for (let k = min; k < max; k++) entry = state([body(entry), next]);
      for (let k = 0; k < min; k++) entry = body(entry);
      return entry;
    };

  const alternation = (f: Flags): Build => {
    const items = [concatenation(f)];
    while (p[i] === '|') {
      i++;
      items.push(concatenation(f));
    }
    return (next) => state(items.map((b) => b(next)));
  };

  const done: State = { n: [] };
  let start: State;
  try {
    start = alternation({ i: false, m: false, s: false })(done);
    // Only a pattern read to its end exactly (no stray `)`, no unclosed group) is compiled.
    if (i !== p.length) return null;
  } catch {
    return null;
  }

  let gen = 0;
  /** Adds `st` and every state reachable from it without consuming input; true on reaching the end. */
  const add = (list: State[], st: State, s: string, i: number): boolean => {
    if (st.g === gen) return false;
    st.g = gen;
    if (st === done) return true;
    if (st.t) return (list.push(st), false);
    if (st.a && !((st.a.lastIndex = i), st.a.test(s))) return false;
    for (const x of st.n) if (add(list, x, s, i)) return true;
    return false;
  };
  return (s) => {
    let current: State[] = [];
    gen++;
    for (let i = 0; ;) {
      // Unanchored search: a new thread starts at every position.
      if (add(current, start, s, i)) return true;
      if (i >= s.length) return false;
      const c = s.codePointAt(i)!;
      const j = i + (c > 0xffff ? 2 : 1);
      const next: State[] = [];
      gen++;
      for (const st of current) if (st.t!(c) && add(next, st.n[0]!, s, j)) return true;
      current = next;
      i = j;
    }
  };
}
