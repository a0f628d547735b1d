import { describe, expect, it } from 'vitest';
import { compileRegex, MAX_PATTERN_LENGTH, MAX_STATES, unsafePatternReason } from './schema';

describe('unsafePatternReason: valid RE2 that the linear engine compiles', () => {
  it.each([
    // Catastrophic for a backtracking engine, linear here: accepted.
    '(a+)+$',
    '(a|aa)+$',
    '(\\w*x?)*',
    '\\s*\\s*\\s*\\s*$',
    '^\\d+\\.\\d+\\.\\d+.*\\d+$',
    // Everyday patterns.
    '^[a-z]+@example\\.com$',
    '^[^@]+@(example|acme)\\.com$',
    '^v?\\d+\\.\\d+(\\.\\d+)?$',
    '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$',
    'Mobile|Android',
    '(?i)^iphone',
    '(?P<major>\\d+)\\.(?<minor>\\d+)',
    '(?m)^beta$',
    '(?s)a.b',
    '\\bword\\b',
    '\\Aabc\\z',
    '[]a]',
    '[^]]+',
    'x{2}y{1,3}z{0,}?',
    'a{,2}',
    '',
  ])('accepts %j', (p) => {
    expect(unsafePatternReason(p)).toBeNull();
  });

  it.each([
    ['(a)\\1', /offset 3: backreferences \(\\1\) are not supported/],
    ['(?=a)', /lookahead and lookbehind/],
    ['(?<!a)b', /lookahead and lookbehind/],
    ['\\p{Greek}', /\\p is not supported/],
    ['[[:alpha:]]', /POSIX classes/],
    ['\\x41', /\\x is not supported/],
    ['\\e', /invalid escape sequence \\e/],
    ['a**', /directly follows another/],
    ['a{2}{3}', /directly follows another/],
    ['*a', /nothing to repeat/],
    ['(?i)*', /nothing to repeat/],
    ['a{1001}', /over 1000/],
    ['a{3,2}', /maximum below its minimum/],
    ['(a{100}){20}', /multiply to 2000, over 1000/],
    ['(', /missing closing \)/],
    ['a)', /unexpected \)/],
    ['[a-', /missing closing \]/],
    ['[z-a]', /invalid character class range/],
    ['(?<n>a)(?<n>b)', /duplicate group name/],
    ['(?)', /invalid flag group/],
    ['(?i-)', /invalid flag group/],
    ['\\', /trailing backslash/],
  ])('refuses %j with a reason', (p, reason) => {
    expect(unsafePatternReason(p)).toMatch(reason);
  });

  it('refuses patterns longer than the limit', () => {
    expect(unsafePatternReason('a'.repeat(MAX_PATTERN_LENGTH))).toBeNull();
    expect(unsafePatternReason('a'.repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/longer than 256/);
  });

  it(`refuses a pattern that compiles to more than ${MAX_STATES} states`, () => {
    expect(unsafePatternReason('[a-z]{1,400}')).toBeNull();
    expect(unsafePatternReason('[a-z]{1,600}')).toMatch(/too large/);
  });
});

describe('compileRegex: linear time on the inputs that froze a backtracking engine', () => {
  // Each would take on the order of 3,000^4 or 2^3,000 steps with backtracking; a state-set
  // simulation visits each (state, position) pair at most once, so these return at once.
  it.each([
    ['\\s*\\s*\\s*\\s*$', ' '.repeat(3000) + 'x', true],
    ['\\s*\\s*\\s*\\s*x$', ' '.repeat(3000) + 'y', false],
    ['^\\d+\\.\\d+\\.\\d+.*\\d+$', '1.1.1' + '1'.repeat(3000) + 'x', false],
    ['^\\d+\\.\\d+\\.\\d+.*\\d+$', '1.1.1' + '1'.repeat(3000), true],
    ['(a+)+$', 'a'.repeat(3000) + 'b', false],
    ['(a|aa)*c', 'a'.repeat(3000), false],
  ] as const)('%j against a 3,000-character attribute', (p, subject, expected) => {
    expect(compileRegex(p)!(subject)).toBe(expected);
  });
});
