import { describe, expect, it } from 'vitest';
import { MAX_PATTERN_LENGTH, unsafePatternReason } from './schema';

describe('unsafePatternReason', () => {
  it.each([
    // Nested quantifiers: a repeated group that repeats inside.
    '(a+)+',
    '(a+)+$',
    '^(a+)+$',
    '(\\w*)*',
    '(a|b+)*',
    '(a*)*b',
    '(?:a+)+',
    '(?<word>\\w+)+',
    '((a+))+',
    '(a{1,5})+',
    '(\\d+){2,}',
    '(.*a){20}',
    '(\\w*x?)*',
    '(a+?)+?',
    '([a-z]+\\.)+com$',
    // A repeated group that can match the same text in several ways.
    '(a?a?)+$',
    '(a|aa)+$',
    '(a|a)*$',
    // `[^]` is "any character" in JavaScript, `[]` the empty class: no POSIX "]" first.
    '[^](a+)+$',
    '[](a+)+',
  ])('rejects catastrophic %j', (p) => {
    expect(unsafePatternReason(p)).toMatch(/nested quantifier/);
  });

  it.each(['(a)\\1', '(?<x>a)\\k<x>', '(a)(b)\\2', '\\9'])('rejects backreference %j', (p) => {
    expect(unsafePatternReason(p)).toMatch(/backreference/);
  });

  it('rejects patterns longer than the limit', () => {
    expect(unsafePatternReason('a'.repeat(MAX_PATTERN_LENGTH))).toBeNull();
    expect(unsafePatternReason('a'.repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/longer than 256/);
  });

  it.each(['(', '[a-', 'a{2}{3}', '*a', '(?<n>a)(?<n>b)', 'a)'])('rejects invalid %j', (p) => {
    expect(unsafePatternReason(p)).toMatch(/invalid regular expression|unbalanced/);
  });

  it.each([
    '^[a-z]+@example\\.com$',
    '@example\\.com$',
    '^[^@]+@(example|acme)\\.com$',
    '^(US|CA|MX)$',
    '^v?\\d+\\.\\d+(\\.\\d+)?$',
    '^\\d{3}-\\d{4}$',
    '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$',
    'Mobile|Android',
    '^user-\\d+$',
    '^(beta|alpha)-',
    '.*',
    '^\\s*$',
    '(ab){3}',
    '(a+)?',
    '(?:\\.\\d+)?',
    '(a+){1}',
    '[(a+)+]',
    '\\(a+\\)+',
    '[\\]](a)+',
    '^[^]]+$',
    '\\\\1',
    '',
  ])('accepts %j', (p) => {
    expect(unsafePatternReason(p)).toBeNull();
  });
});
