import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { compileRegex } from './engine';
import { checkRegexSyntax } from './syntax';

/** The engine's test for a pattern the save-time check accepts; 'refused' or 'too large' otherwise. */
function ours(p: string): ((s: string) => boolean) | 'refused' | 'too large' {
  if (checkRegexSyntax(p) !== null) return 'refused';
  return compileRegex(p) ?? 'too large';
}

// The engine against re2js (a port of RE2): on random patterns and subjects, whatever this engine
// accepts RE2 accepts too, and both say the same about every subject.

/** Characters that exercise case folding (ſ, Kelvin sign, dotless ı, σ/ς), surrogate pairs and line breaks. */
const CHARS = ['a', 'b', 'A', 'B', 's', 'S', 'ſ', 'k', 'K', '\u212a', 'i', 'I', 'ı', 'σ', 'ς', 'Σ', 'ß', 'ẞ', 'é', 'É'];
const MORE = ['0', '1', '9', '_', ' ', '\t', '\n', '\r', '\v', '-', '.', ']', '[', '{', '}', '😀', '\u00a0'];
const SPECIAL = new Set(['.', ']', '[', '{', '}', '-']);

const subject = fc.array(fc.constantFrom(...CHARS, ...MORE), { maxLength: 12 }).map((a) => a.join(''));

const literal = fc.constantFrom(...CHARS, ...MORE).map((c) => (SPECIAL.has(c) ? `\\${c}` : c === '\n' ? '\\n' : c === '\t' ? '\\t' : c));
const classItem = fc.oneof(
  fc.constantFrom(...CHARS, '0', '9', '_', ' ', '-', '.', '😀'),
  fc.constantFrom('a-z', 'A-Z', '0-9', 'a-f', 'ß-ſ', '\\d', '\\W', '\\s', '\\S', '\\]', '\\-', '\\n', '\\t', '\\.'),
);
const charClass = fc
  .tuple(fc.boolean(), fc.array(classItem, { minLength: 1, maxLength: 4 }))
  .map(([neg, items]) => `[${neg ? '^' : ''}${items.join('')}]`);
const simple = fc.oneof(
  { weight: 6, arbitrary: literal },
  { weight: 1, arbitrary: fc.constant('.') },
  { weight: 2, arbitrary: charClass },
  { weight: 2, arbitrary: fc.constantFrom('\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\.', '\\*') },
  { weight: 1, arbitrary: fc.constantFrom('^', '$', '\\b', '\\B', '\\A', '\\z') },
);
const quantifier = fc.constantFrom('', '', '', '*', '+', '?', '*?', '+?', '??', '{2}', '{0,2}', '{1,}', '{1,3}?', '{0}');
const flags = fc.constantFrom('(?i)', '(?s)', '(?m)', '(?-i)', '(?im)', '(?i-s)', '(?U)');

const { pattern } = fc.letrec<{ pattern: string; piece: string; group: string }>((tie) => ({
  pattern: fc
    .array(
      fc.array(tie('piece'), { maxLength: 4 }).map((p) => p.join('')),
      { minLength: 1, maxLength: 3 },
    )
    .map((alts) => alts.join('|')),
  piece: fc.oneof(
    { weight: 6, arbitrary: fc.tuple(simple, quantifier).map(([a, q]) => a + q) },
    { weight: 2, arbitrary: fc.tuple(tie('group'), quantifier).map(([g, q]) => g + q) },
    { weight: 1, arbitrary: flags },
  ),
  group: fc
    .tuple(fc.constantFrom('(', '(?:', '(?i:', '(?s:', '(?-i:', '(?P<g>', '(?<h>'), tie('pattern'))
    .map(([open, body]) => `${open}${body})`),
}));

function re2(p: string): ((s: string) => boolean) | null {
  try {
    const compiled = RE2JS.compile(p);
    return (s) => compiled.matcher(s).find();
  } catch {
    return null;
  }
}

describe('RE2 engine vs re2js', () => {
  it('accepts exactly what RE2 accepts among supported syntax, and agrees on every subject', () => {
    let accepted = 0;
    fc.assert(
      fc.property(pattern, fc.array(subject, { minLength: 4, maxLength: 8 }), (p, subjects) => {
        const test = ours(p);
        const theirs = re2(p);
        // A pattern over this engine's state budget is refused on purpose, even if RE2 would run it.
        if (test === 'too large') return;
        expect(typeof test === 'function', `acceptance of ${JSON.stringify(p)}`).toBe(theirs !== null);
        if (typeof test !== 'function' || theirs === null) return;
        accepted++;
        for (const s of subjects) expect(test(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(theirs(s));
      }),
      { numRuns: 3000, seed: 20261204 },
    );
    expect(accepted).toBeGreaterThan(1500);
  });

  it('agrees with re2js on subjects made from the pattern itself', () => {
    fc.assert(
      fc.property(pattern, fc.array(fc.nat(), { maxLength: 6 }), (p, picks) => {
        const test = ours(p);
        const theirs = re2(p);
        if (typeof test !== 'function' || theirs === null) return;
        // Pieces of the pattern's own text match far more often than random strings do.
        const s = picks.map((k) => p.replace(/[\\()[\]?*+{}|^$]/g, '').slice(k % (p.length + 1), (k % (p.length + 1)) + 3)).join('');
        expect(test(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(theirs(s));
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('never accepts what RE2 refuses, on arbitrary strings of regex syntax', () => {
    const syntax = fc
      .array(
        fc.constantFrom(
          'a',
          'b',
          '(',
          ')',
          '[',
          ']',
          '{',
          '}',
          '?',
          '*',
          '+',
          '|',
          '^',
          '$',
          '\\',
          '-',
          ':',
          '<',
          '>',
          'P',
          '=',
          '!',
          ',',
          '1',
          '2',
          'i',
          'd',
          'x',
        ),
        {
          maxLength: 10,
        },
      )
      .map((a) => a.join(''));
    fc.assert(
      fc.property(syntax, fc.array(subject, { maxLength: 4 }), (p, subjects) => {
        const test = ours(p);
        if (typeof test !== 'function') return;
        const theirs = re2(p);
        expect(theirs, `RE2 refuses ${JSON.stringify(p)}`).not.toBeNull();
        for (const s of subjects) expect(test(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(theirs!(s));
      }),
      { numRuns: 5000, seed: 11 },
    );
  });
});
