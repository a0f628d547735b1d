#!/usr/bin/env node
// Writes spec/evaluation.json. Run: node spec/generate-evaluation-vectors.mjs
//
// Expected results are NOT produced by running @switchyard/core. Rule and operator outcomes are
// written by hand from the semantics in docs/evaluation.md; every outcome that depends on a
// bucket (splits, experiments, traffic, namespaces) is derived here from the reference hash
// (spec/reference.mjs: murmurhash3js-revisited + the contract's formulas), and the bucket is
// recorded in the case's `note` so a failing SDK can be debugged without this script.
import { writeFileSync } from 'node:fs';
import { bp, findUnit, MAX_ATTRIBUTE_LENGTH, refBucket, refMatches, refSlice } from './reference.mjs';

const configs = {};
const cases = [];

const doc = (flags = {}, segments = {}, experiments = {}) => ({ schema_version: 1, version: 1, flags, segments, experiments });

function add(c) {
  if (cases.some((x) => x.name === c.name)) throw new Error(`duplicate case name ${c.name}`);
  const out = { name: c.name };
  if (c.tags) out.tags = c.tags;
  out.config = c.config;
  out.flag = c.flag;
  out.context = c.context;
  out.default = c.default;
  out.expected = c.expected;
  if (c.note) out.note = c.note;
  cases.push(out);
}

// ---------------------------------------------------------------------------------------
// Reference derivations for bucket-dependent outcomes.

/** The unit id the contract takes from `bucket_by`: a non-empty string, or a finite number stringified. */
function unitOf(context, bucketBy = 'key') {
  const v = Object.prototype.hasOwnProperty.call(context, bucketBy) ? context[bucketBy] : undefined;
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** Which variant a flag split serves: {variant, bucket}. */
function splitOutcome(salt, split, unit) {
  const b = refBucket(salt, unit);
  const i = refSlice(
    split.map((s) => s.weight),
    b,
  );
  return { variant: split[i].variant, bucket: b, index: i };
}

function describeSplit(salt, split, unit, b) {
  let lo = 0;
  const slices = split.map((s) => {
    const hi = lo + bp(s.weight);
    const r = `${s.variant} [${lo}, ${hi})`;
    lo = hi;
    return r;
  });
  return `bucket(${JSON.stringify(salt)}, ${JSON.stringify(unit)}) = ${b}; slices: ${slices.join(', ')}`;
}

// ---------------------------------------------------------------------------------------
// 1. Operators. One boolean flag per condition: rule `r` serves `on` when the condition
//    matches, the default serve is `off`.

const BOOL = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];
const MATCH = { value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'r' };
const NO_MATCH = { value: false, variant: 'off', reason: 'DEFAULT' };

const ruleFlag = (key, when) => ({
  key,
  type: 'boolean',
  enabled: true,
  variants: BOOL,
  off_variant: 'off',
  rules: [{ id: 'r', when, serve: { variant: 'on' } }],
  default_serve: { variant: 'off' },
});

// [flag key, condition, tags, [label, context, matches][]]
const conditionTable = [
  [
    'eq-string',
    { attr: 'country', op: 'eq', values: ['US'] },
    ['operator:eq'],
    [
      ['equal string', { key: 'u', country: 'US' }, true],
      ['case-sensitive', { key: 'u', country: 'us' }, false],
      ['different string', { key: 'u', country: 'CA' }, false],
      ['array attribute, one element equal', { key: 'u', country: ['CA', 'US'] }, true],
      ['array attribute, no element equal', { key: 'u', country: ['CA', 'MX'] }, false],
      ['array attribute with null element', { key: 'u', country: [null, 'US'] }, true],
      ['empty array', { key: 'u', country: [] }, false],
      ['object attribute (type mismatch)', { key: 'u', country: { code: 'US' } }, false],
      ['missing attribute', { key: 'u' }, false],
      ['null attribute', { key: 'u', country: null }, false],
    ],
  ],
  [
    'eq-number',
    { attr: 'age', op: 'eq', values: [30] },
    ['operator:eq', 'coercion'],
    [
      ['number equal', { key: 'u', age: 30 }, true],
      ['numeric string equal (string forms)', { key: 'u', age: '30' }, true],
      ['string "30.0" is not "30"', { key: 'u', age: '30.0' }, false],
      ['different number', { key: 'u', age: 31 }, false],
      ['boolean (type mismatch)', { key: 'u', age: true }, false],
    ],
  ],
  [
    'eq-decimal',
    { attr: 'ratio', op: 'eq', values: [1.5] },
    ['operator:eq', 'coercion'],
    [
      ['number equal', { key: 'u', ratio: 1.5 }, true],
      ['string "1.5"', { key: 'u', ratio: '1.5' }, true],
      ['string "1.50" compares as a string', { key: 'u', ratio: '1.50' }, false],
    ],
  ],
  [
    'eq-numeric-string-value',
    { attr: 'age', op: 'eq', values: ['30'] },
    ['operator:eq', 'coercion'],
    [['number attribute vs string value', { key: 'u', age: 30 }, true]],
  ],
  [
    'eq-boolean',
    { attr: 'beta', op: 'eq', values: [true] },
    ['operator:eq', 'coercion'],
    [
      ['boolean true', { key: 'u', beta: true }, true],
      ['string "true"', { key: 'u', beta: 'true' }, true],
      ['boolean false', { key: 'u', beta: false }, false],
      ['number 1 is not true', { key: 'u', beta: 1 }, false],
    ],
  ],
  [
    'eq-empty-string',
    { attr: 'nick', op: 'eq', values: [''] },
    ['operator:eq'],
    [
      ['empty string present', { key: 'u', nick: '' }, true],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'eq-any-of',
    { attr: 'country', op: 'eq', values: ['US', 'CA'] },
    ['operator:eq'],
    [
      ['second value', { key: 'u', country: 'CA' }, true],
      ['neither', { key: 'u', country: 'FR' }, false],
    ],
  ],
  [
    'neq',
    { attr: 'country', op: 'neq', values: ['US'] },
    ['operator:neq'],
    [
      ['different', { key: 'u', country: 'CA' }, true],
      ['equal', { key: 'u', country: 'US' }, false],
      ['missing attribute', { key: 'u' }, false],
      ['null attribute', { key: 'u', country: null }, false],
      ['array containing the value', { key: 'u', country: ['CA', 'US'] }, false],
      ['array without the value', { key: 'u', country: ['CA', 'MX'] }, true],
      ['object attribute (present, never equal)', { key: 'u', country: { code: 'US' } }, true],
    ],
  ],
  [
    'neq-number',
    { attr: 'age', op: 'neq', values: [30] },
    ['operator:neq', 'coercion'],
    [
      ['numeric string equal', { key: 'u', age: '30' }, false],
      ['different number', { key: 'u', age: 29 }, true],
    ],
  ],
  [
    'in',
    { attr: 'country', op: 'in', values: ['US', 'CA', 'MX'] },
    ['operator:in'],
    [
      ['member', { key: 'u', country: 'MX' }, true],
      ['not a member', { key: 'u', country: 'FR' }, false],
      ['missing', { key: 'u' }, false],
      ['array with a member', { key: 'u', country: ['FR', 'CA'] }, true],
    ],
  ],
  [
    'in-numbers',
    { attr: 'tier', op: 'in', values: [1, 2, 3] },
    ['operator:in', 'coercion'],
    [
      ['numeric string member', { key: 'u', tier: '2' }, true],
      ['number member', { key: 'u', tier: 3 }, true],
      ['non-member', { key: 'u', tier: 4 }, false],
    ],
  ],
  [
    'not-in',
    { attr: 'country', op: 'not_in', values: ['US', 'CA'] },
    ['operator:not_in'],
    [
      ['not a member', { key: 'u', country: 'FR' }, true],
      ['member', { key: 'u', country: 'US' }, false],
      ['missing attribute', { key: 'u' }, false],
      ['null attribute', { key: 'u', country: null }, false],
      ['array with a member', { key: 'u', country: ['FR', 'US'] }, false],
      ['array without members', { key: 'u', country: ['FR', 'DE'] }, true],
    ],
  ],
  [
    'contains-string',
    { attr: 'email', op: 'contains', values: ['@example'] },
    ['operator:contains'],
    [
      ['substring', { key: 'u', email: 'bob@example.com' }, true],
      ['no substring', { key: 'u', email: 'bob@other.com' }, false],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'contains-array',
    { attr: 'tags', op: 'contains', values: ['vip'] },
    ['operator:contains'],
    [
      ['array element equal', { key: 'u', tags: ['beta', 'vip'] }, true],
      ['array element only contains the text (no substring on arrays)', { key: 'u', tags: ['vip-gold'] }, false],
      ['string attribute: substring', { key: 'u', tags: 'vip-gold' }, true],
      ['object attribute', { key: 'u', tags: { vip: true } }, false],
    ],
  ],
  [
    'contains-array-number',
    { attr: 'ids', op: 'contains', values: [2] },
    ['operator:contains', 'coercion'],
    [
      ['number element', { key: 'u', ids: [1, 2, 3] }, true],
      ['numeric string element', { key: 'u', ids: ['2'] }, true],
      ['no element', { key: 'u', ids: [1, 3, 22] }, false],
    ],
  ],
  [
    'contains-any-of',
    { attr: 'email', op: 'contains', values: ['@a.com', '@b.com'] },
    ['operator:contains'],
    [['second needle', { key: 'u', email: 'x@b.com' }, true]],
  ],
  [
    'contains-number-attr',
    { attr: 'n', op: 'contains', values: ['23'] },
    ['operator:contains', 'coercion'],
    [['string form of a number', { key: 'u', n: 12345 }, true]],
  ],
  [
    'not-contains',
    { attr: 'email', op: 'not_contains', values: ['@example.com'] },
    ['operator:not_contains'],
    [
      ['no substring', { key: 'u', email: 'bob@other.com' }, true],
      ['substring', { key: 'u', email: 'bob@example.com' }, false],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'not-contains-array',
    { attr: 'tags', op: 'not_contains', values: ['c'] },
    ['operator:not_contains'],
    [
      ['array without element', { key: 'u', tags: ['a', 'b'] }, true],
      ['array with element', { key: 'u', tags: ['a', 'c'] }, false],
      ['object attribute (present, contains is false)', { key: 'u', tags: { c: 1 } }, true],
    ],
  ],
  [
    'starts-with',
    { attr: 'name', op: 'starts_with', values: ['admin-', 'ops-'] },
    ['operator:starts_with'],
    [
      ['first prefix', { key: 'u', name: 'admin-1' }, true],
      ['second prefix', { key: 'u', name: 'ops-7' }, true],
      ['no prefix', { key: 'u', name: 'user' }, false],
      ['case-sensitive', { key: 'u', name: 'Admin-1' }, false],
      ['array, one element', { key: 'u', name: ['x', 'ops-2'] }, true],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'starts-with-boolean',
    { attr: 'flagged', op: 'starts_with', values: ['tr'] },
    ['operator:starts_with', 'coercion'],
    [
      ['string form of true', { key: 'u', flagged: true }, true],
      ['string form of false', { key: 'u', flagged: false }, false],
    ],
  ],
  [
    'ends-with',
    { attr: 'email', op: 'ends_with', values: ['@example.com'] },
    ['operator:ends_with'],
    [
      ['suffix', { key: 'u', email: 'a@example.com' }, true],
      ['case-sensitive', { key: 'u', email: 'a@EXAMPLE.com' }, false],
      ['suffix elsewhere', { key: 'u', email: 'a@example.com.evil' }, false],
    ],
  ],
  [
    'ends-with-number',
    { attr: 'zip', op: 'ends_with', values: ['00'] },
    ['operator:ends_with', 'coercion'],
    [
      ['number string form', { key: 'u', zip: 1000 }, true],
      ['number not ending so', { key: 'u', zip: 1001 }, false],
    ],
  ],
  [
    'matches',
    { attr: 'email', op: 'matches', values: ['^[a-z]+@example\\.com$'] },
    ['operator:matches'],
    [
      ['full match', { key: 'u', email: 'bob@example.com' }, true],
      ['uppercase', { key: 'u', email: 'Bob@example.com' }, false],
      ['anchored', { key: 'u', email: 'bob@example.com.evil' }, false],
      ['array, one element', { key: 'u', email: ['nope', 'ann@example.com'] }, true],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'matches-unanchored',
    { attr: 'ua', op: 'matches', values: ['Mobile|Android'] },
    ['operator:matches'],
    [
      ['finds anywhere', { key: 'u', ua: 'Mozilla/5.0 (Linux; Android 14)' }, true],
      ['no hit', { key: 'u', ua: 'Mozilla/5.0 (X11; Linux x86_64)' }, false],
    ],
  ],
  [
    'matches-number',
    { attr: 'code', op: 'matches', values: ['^\\d{5}$'] },
    ['operator:matches', 'coercion'],
    [
      ['number string form', { key: 'u', code: 12345 }, true],
      ['too short', { key: 'u', code: 1234 }, false],
    ],
  ],
  [
    'matches-unicode',
    { attr: 'name', op: 'matches', values: ['^Jos.$'] },
    ['operator:matches', 'non-ascii'],
    [['non-ASCII character matched by .', { key: 'u', name: 'José' }, true]],
  ],
  // RE2 semantics where JavaScript's RegExp differs, and linear time: the last rows would take
  // 2^30 or 3,000^4 steps in a backtracking engine.
  [
    'matches-re2-space',
    { attr: 's', op: 'matches', values: ['^\\s$'] },
    ['operator:matches', 're2'],
    [
      ['space', { key: 'u', s: ' ' }, true],
      ['tab', { key: 'u', s: '\t' }, true],
      ['vertical tab is not \\s in RE2', { key: 'u', s: '\v' }, false],
      ['no-break space is not \\s in RE2', { key: 'u', s: '\u00a0' }, false],
    ],
  ],
  [
    'matches-re2-end',
    { attr: 's', op: 'matches', values: ['^ok$'] },
    ['operator:matches', 're2'],
    [
      ['exact', { key: 'u', s: 'ok' }, true],
      ['$ is the end of the text, not before a final newline', { key: 'u', s: 'ok\n' }, false],
    ],
  ],
  [
    'matches-re2-multiline',
    { attr: 's', op: 'matches', values: ['(?m)^b$'] },
    ['operator:matches', 're2'],
    [
      ['(?m): a line in the middle', { key: 'u', s: 'a\nb\nc' }, true],
      ['(?m): lines end at \\n only', { key: 'u', s: 'a\r\nb\r\nc' }, false],
    ],
  ],
  [
    'matches-re2-dot',
    { attr: 's', op: 'matches', values: ['^a.b$'] },
    ['operator:matches', 're2'],
    [
      ['. matches \\r', { key: 'u', s: 'a\rb' }, true],
      ['. does not match \\n', { key: 'u', s: 'a\nb' }, false],
      ['. matches one code point, not one UTF-16 unit', { key: 'u', s: 'a😀b' }, true],
    ],
  ],
  [
    'matches-re2-digit',
    { attr: 's', op: 'matches', values: ['^\\d+$'] },
    ['operator:matches', 're2', 'non-ascii'],
    [
      ['ASCII digits', { key: 'u', s: '2026' }, true],
      ['\\d is ASCII only: Arabic-Indic digits are not', { key: 'u', s: '٢٠٢٦' }, false],
    ],
  ],
  [
    'matches-re2-fold',
    { attr: 's', op: 'matches', values: ['(?i)^kiss$'] },
    ['operator:matches', 're2', 'non-ascii'],
    [
      ['case-insensitive', { key: 'u', s: 'KISS' }, true],
      ['simple case folding: Kelvin sign and long s', { key: 'u', s: '\u212aiſs' }, true],
      ['dotless i does not fold to i', { key: 'u', s: 'kıss' }, false],
    ],
  ],
  [
    'matches-re2-nested',
    { attr: 's', op: 'matches', values: ['^(a+)+$'] },
    ['operator:matches', 're2', 'linear-time'],
    [
      ['matches', { key: 'u', s: 'a'.repeat(30) }, true],
      ['fails fast (exponential for backtracking)', { key: 'u', s: 'a'.repeat(30) + 'b' }, false],
    ],
  ],
  [
    'matches-re2-polynomial',
    { attr: 's', op: 'matches', values: ['^\\d+\\.\\d+\\.\\d+.*\\d+$'] },
    ['operator:matches', 're2', 'linear-time'],
    [
      ['version-like', { key: 'u', s: '1.2.3-rc4' }, true],
      ['3,000 characters, no match (polynomial for backtracking)', { key: 'u', s: '1.1.1' + '1'.repeat(2995) + 'x' }, false],
    ],
  ],
  // A string over MAX_ATTRIBUTE_LENGTH (4,096) characters counts as missing for every operator.
  [
    'length-cap-in',
    { attr: 's', op: 'in', values: ['x'.repeat(MAX_ATTRIBUTE_LENGTH), 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1)] },
    ['attribute-length'],
    [
      ['4,096 characters: compared', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH) }, true],
      ['4,097 characters: missing, even though a value is equal', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1) }, false],
      ['array element over the cap is skipped', { key: 'u', s: ['x'.repeat(MAX_ATTRIBUTE_LENGTH + 1)] }, false],
    ],
  ],
  [
    'length-cap-neq',
    { attr: 's', op: 'neq', values: ['y'] },
    ['attribute-length', 'operator:neq'],
    [
      ['4,096 characters: not equal', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH) }, true],
      ['4,097 characters: missing, so neq is false', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1) }, false],
    ],
  ],
  [
    'length-cap-matches',
    { attr: 's', op: 'matches', values: ['^x+$'] },
    ['attribute-length', 'operator:matches'],
    [
      ['4,096 characters: tested', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH) }, true],
      ['4,097 characters: missing', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1) }, false],
    ],
  ],
  [
    'length-cap-exists',
    { attr: 's', op: 'exists' },
    ['attribute-length', 'operator:exists'],
    [
      ['4,096 characters: exists', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH) }, true],
      ['4,097 characters: missing', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1) }, false],
    ],
  ],
  [
    'length-cap-not-exists',
    { attr: 's', op: 'not_exists' },
    ['attribute-length', 'operator:not_exists'],
    [
      ['4,096 characters: present', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH) }, false],
      ['4,097 characters: counts as missing', { key: 'u', s: 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1) }, true],
    ],
  ],
  [
    'gt',
    { attr: 'age', op: 'gt', values: [18] },
    ['operator:gt'],
    [
      ['greater', { key: 'u', age: 19 }, true],
      ['equal', { key: 'u', age: 18 }, false],
      ['numeric string', { key: 'u', age: '19' }, true],
      ['padded decimal string', { key: 'u', age: ' 18.5 ' }, true],
      ['non-numeric string', { key: 'u', age: 'abc' }, false],
      ['empty string', { key: 'u', age: '' }, false],
      ['boolean', { key: 'u', age: true }, false],
      ['missing', { key: 'u' }, false],
      ['null', { key: 'u', age: null }, false],
      ['array, one element greater', { key: 'u', age: [10, 20] }, true],
      ['negative', { key: 'u', age: -19 }, false],
    ],
  ],
  [
    'gt-any-of',
    { attr: 'n', op: 'gt', values: [100, 10] },
    ['operator:gt'],
    [
      ['greater than the smaller value', { key: 'u', n: 50 }, true],
      ['greater than neither', { key: 'u', n: 10 }, false],
    ],
  ],
  [
    'gt-string-value',
    { attr: 'n', op: 'gt', values: ['5'] },
    ['operator:gt', 'coercion'],
    [['numeric string in values', { key: 'u', n: 6 }, true]],
  ],
  [
    'gte',
    { attr: 'age', op: 'gte', values: [18] },
    ['operator:gte'],
    [
      ['equal', { key: 'u', age: 18 }, true],
      ['equal as string', { key: 'u', age: '18' }, true],
      ['below', { key: 'u', age: 17.99 }, false],
    ],
  ],
  [
    'lt',
    { attr: 'score', op: 'lt', values: [10] },
    ['operator:lt'],
    [
      ['below', { key: 'u', score: 9.5 }, true],
      ['equal', { key: 'u', score: 10 }, false],
      ['negative numeric string', { key: 'u', score: '-1' }, true],
      ['non-numeric', { key: 'u', score: 'low' }, false],
    ],
  ],
  ['lt-any-of', { attr: 'n', op: 'lt', values: [1, 100] }, ['operator:lt'], [['below the larger value', { key: 'u', n: 50 }, true]]],
  [
    'lte',
    { attr: 'score', op: 'lte', values: [10] },
    ['operator:lte'],
    [
      ['equal', { key: 'u', score: 10 }, true],
      ['above', { key: 'u', score: 10.01 }, false],
    ],
  ],
  [
    'semver-gt',
    { attr: 'version', op: 'semver_gt', values: ['1.2.3'] },
    ['operator:semver_gt'],
    [
      ['patch above', { key: 'u', version: '1.2.4' }, true],
      ['equal', { key: 'u', version: '1.2.3' }, false],
      ['numeric minor ordering (10 > 2)', { key: 'u', version: 'v1.10.0' }, true],
      ['two-part shorthand', { key: 'u', version: '1.3' }, true],
      ['one-part shorthand', { key: 'u', version: '2' }, true],
      ['pre-release is lower', { key: 'u', version: '1.2.3-beta' }, false],
      ['build metadata ignored', { key: 'u', version: '1.2.3+build.5' }, false],
      ['unparsable', { key: 'u', version: 'not-a-version' }, false],
      ['leading zero is unparsable', { key: 'u', version: '01.2.4' }, false],
      ['number attribute 2 is 2.0.0', { key: 'u', version: 2 }, true],
      ['padded', { key: 'u', version: ' 1.2.4 ' }, true],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'semver-eq',
    { attr: 'version', op: 'semver_eq', values: ['1.2.3'] },
    ['operator:semver_eq'],
    [
      ['build metadata ignored', { key: 'u', version: '1.2.3+build.7' }, true],
      ['v prefix', { key: 'u', version: 'v1.2.3' }, true],
      ['pre-release differs', { key: 'u', version: '1.2.3-rc.1' }, false],
      ['1.2 is 1.2.0', { key: 'u', version: '1.2' }, false],
    ],
  ],
  [
    'semver-eq-short-value',
    { attr: 'version', op: 'semver_eq', values: ['1.2'] },
    ['operator:semver_eq'],
    [['1.2.0 equals 1.2', { key: 'u', version: '1.2.0' }, true]],
  ],
  [
    'semver-gte',
    { attr: 'version', op: 'semver_gte', values: ['2.0.0-rc.1'] },
    ['operator:semver_gte'],
    [
      ['later pre-release', { key: 'u', version: '2.0.0-rc.2' }, true],
      ['alphabetically earlier pre-release', { key: 'u', version: '2.0.0-beta.9' }, false],
      ['release', { key: 'u', version: '2.0.0' }, true],
      ['equal', { key: 'u', version: '2.0.0-rc.1' }, true],
      ['longer pre-release with equal prefix', { key: 'u', version: '2.0.0-rc.1.1' }, true],
    ],
  ],
  [
    'semver-lt',
    { attr: 'version', op: 'semver_lt', values: ['1.0.0'] },
    ['operator:semver_lt'],
    [
      ['pre-release of the same version', { key: 'u', version: '1.0.0-alpha' }, true],
      ['earlier', { key: 'u', version: '0.9.9' }, true],
      ['equal', { key: 'u', version: '1.0.0' }, false],
    ],
  ],
  [
    'semver-lte',
    { attr: 'version', op: 'semver_lte', values: ['1.0.0-beta.11'] },
    ['operator:semver_lte'],
    [
      ['numeric identifiers compare numerically', { key: 'u', version: '1.0.0-beta.2' }, true],
      ['fewer identifiers is lower', { key: 'u', version: '1.0.0-beta' }, true],
      ['later pre-release', { key: 'u', version: '1.0.0-rc.1' }, false],
      ['numeric identifier below alphanumeric', { key: 'u', version: '1.0.0-1' }, true],
    ],
  ],
  [
    'before',
    { attr: 'signup', op: 'before', values: ['2024-01-01T00:00:00Z'] },
    ['operator:before'],
    [
      ['one second earlier', { key: 'u', signup: '2023-12-31T23:59:59Z' }, true],
      ['equal instant is not before', { key: 'u', signup: '2024-01-01T00:00:00Z' }, false],
      ['one millisecond later', { key: 'u', signup: '2024-01-01T00:00:00.001Z' }, false],
      ['epoch ms number', { key: 'u', signup: 1704067199999 }, true],
      ['epoch ms numeric string', { key: 'u', signup: '1704067199999' }, true],
      ['epoch ms equal', { key: 'u', signup: 1704067200000 }, false],
      ['offset is honoured (23:30Z)', { key: 'u', signup: '2024-01-01T00:30:00+01:00' }, true],
      ['unparsable', { key: 'u', signup: 'not a date' }, false],
      ['boolean', { key: 'u', signup: true }, false],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'after',
    { attr: 'signup', op: 'after', values: ['2024-01-01T00:00:00Z'] },
    ['operator:after'],
    [
      ['one ms later (epoch)', { key: 'u', signup: 1704067200001 }, true],
      ['date-only ISO string (UTC midnight)', { key: 'u', signup: '2024-06-01' }, true],
      ['earlier date-only', { key: 'u', signup: '2023-06-01' }, false],
      ['equal instant is not after', { key: 'u', signup: '2024-01-01T00:00:00.000Z' }, false],
    ],
  ],
  [
    'after-epoch-value',
    { attr: 'signup', op: 'after', values: [1704067200000] },
    ['operator:after'],
    [['ISO attribute vs epoch value', { key: 'u', signup: '2024-01-02T00:00:00Z' }, true]],
  ],
  [
    'exists',
    { attr: 'plan', op: 'exists' },
    ['operator:exists', 'missing-attribute'],
    [
      ['string', { key: 'u', plan: 'free' }, true],
      ['empty string is present', { key: 'u', plan: '' }, true],
      ['false is present', { key: 'u', plan: false }, true],
      ['0 is present', { key: 'u', plan: 0 }, true],
      ['empty array is present', { key: 'u', plan: [] }, true],
      ['null is missing', { key: 'u', plan: null }, false],
      ['missing', { key: 'u' }, false],
    ],
  ],
  [
    'not-exists',
    { attr: 'plan', op: 'not_exists' },
    ['operator:not_exists', 'missing-attribute'],
    [
      ['missing', { key: 'u' }, true],
      ['null', { key: 'u', plan: null }, true],
      ['empty string is present', { key: 'u', plan: '' }, false],
    ],
  ],
  [
    'proto-constructor',
    { attr: 'constructor', op: 'exists' },
    ['prototype-attribute', 'operator:exists'],
    [
      ['not inherited from the object prototype', { key: 'u' }, false],
      ['own attribute', { key: 'u', constructor: 'x' }, true],
    ],
  ],
  [
    'proto-tostring',
    { attr: 'toString', op: 'eq', values: ['x'] },
    ['prototype-attribute', 'operator:eq'],
    [
      ['not inherited', { key: 'u' }, false],
      ['own attribute', { key: 'u', toString: 'x' }, true],
    ],
  ],
  [
    'proto-hasownproperty',
    { attr: 'hasOwnProperty', op: 'not_exists' },
    ['prototype-attribute', 'operator:not_exists'],
    [['not inherited, so it does not exist', { key: 'u' }, true]],
  ],
  [
    'proto-dunder',
    { attr: '__proto__', op: 'eq', values: ['x'] },
    ['prototype-attribute', 'operator:eq'],
    [
      ['own __proto__ attribute', JSON.parse('{"key":"u","__proto__":"x"}'), true],
      ['absent', { key: 'u' }, false],
    ],
  ],
  // Boolean combinations.
  [
    'all',
    {
      all: [
        { attr: 'country', op: 'eq', values: ['US'] },
        { attr: 'age', op: 'gte', values: [18] },
      ],
    },
    ['all'],
    [
      ['both', { key: 'u', country: 'US', age: 30 }, true],
      ['one fails', { key: 'u', country: 'US', age: 17 }, false],
      ['one missing', { key: 'u', country: 'US' }, false],
    ],
  ],
  [
    'any',
    {
      any: [
        { attr: 'country', op: 'eq', values: ['US'] },
        { attr: 'age', op: 'gte', values: [18] },
      ],
    },
    ['any'],
    [
      ['second only', { key: 'u', country: 'FR', age: 30 }, true],
      ['neither', { key: 'u', country: 'FR', age: 3 }, false],
      ['both missing', { key: 'u' }, false],
    ],
  ],
  [
    'not',
    { not: { attr: 'country', op: 'eq', values: ['US'] } },
    ['not', 'missing-attribute'],
    [
      ['inner false', { key: 'u', country: 'CA' }, true],
      ['inner true', { key: 'u', country: 'US' }, false],
      ['missing attribute: inner false, so not is true', { key: 'u' }, true],
    ],
  ],
  ['all-empty', { all: [] }, ['all'], [['empty all is true', { key: 'u' }, true]]],
  ['any-empty', { any: [] }, ['any'], [['empty any is false', { key: 'u' }, false]]],
  [
    'nested',
    {
      any: [
        { all: [{ attr: 'plan', op: 'eq', values: ['pro'] }, { not: { attr: 'country', op: 'in', values: ['FR', 'DE'] } }] },
        {
          all: [
            { attr: 'beta', op: 'eq', values: [true] },
            {
              any: [
                { attr: 'age', op: 'lt', values: [13] },
                { attr: 'age', op: 'gt', values: [65] },
              ],
            },
          ],
        },
      ],
    },
    ['all', 'any', 'not', 'nested'],
    [
      ['pro outside FR/DE', { key: 'u', plan: 'pro', country: 'US' }, true],
      ['pro in DE', { key: 'u', plan: 'pro', country: 'DE' }, false],
      ['pro, no country', { key: 'u', plan: 'pro' }, true],
      ['beta and senior', { key: 'u', beta: true, age: 70 }, true],
      ['beta and adult', { key: 'u', beta: 'true', age: 30 }, false],
      ['nothing', { key: 'u' }, false],
    ],
  ],
  [
    'not-not',
    { not: { not: { attr: 'plan', op: 'exists' } } },
    ['not', 'nested'],
    [
      ['double negation', { key: 'u', plan: 'x' }, true],
      ['double negation, missing', { key: 'u' }, false],
    ],
  ],
];

// The hand-written `matches` outcomes must agree with RE2 itself (re2js) for every string
// attribute under the length cap: a wrong expectation stops the generator.
for (const [key, when, , rows] of conditionTable) {
  if (when.op !== 'matches') continue;
  for (const [label, context, matches] of rows) {
    const v = context[when.attr];
    if (typeof v !== 'string' || v.length > MAX_ATTRIBUTE_LENGTH) continue;
    if (when.values.some((p) => refMatches(p, v)) !== matches) throw new Error(`${key}: ${label}: RE2 disagrees with the expectation`);
  }
}

const opFlags = {};
for (const [key, when] of conditionTable) opFlags[key] = ruleFlag(key, when);
configs.conditions = doc(opFlags);
for (const [key, , tags, rows] of conditionTable) {
  for (const [label, context, matches] of rows) {
    add({
      name: `${key}: ${label}`,
      tags,
      config: 'conditions',
      flag: key,
      context,
      default: false,
      expected: matches ? MATCH : NO_MATCH,
    });
  }
}

// ---------------------------------------------------------------------------------------
// 2. Segments.

configs.segments = doc(
  {
    'seg-beta': ruleFlag('seg-beta', { segment: 'beta' }),
    'seg-lists-only': ruleFlag('seg-lists-only', { segment: 'lists-only' }),
    'seg-not-beta': ruleFlag('seg-not-beta', { not: { segment: 'beta' } }),
    'seg-nested': ruleFlag('seg-nested', { segment: 'staff-or-beta' }),
    'seg-and-country': ruleFlag('seg-and-country', { all: [{ segment: 'beta' }, { attr: 'country', op: 'eq', values: ['US'] }] }),
  },
  {
    beta: { key: 'beta', included: ['u1', 'u2', 'both'], excluded: ['u3', 'both'], when: { attr: 'plan', op: 'eq', values: ['pro'] } },
    'lists-only': { key: 'lists-only', included: ['u1', '42', 'ユーザー'], excluded: ['u2'] },
    staff: { key: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] } },
    'staff-or-beta': { key: 'staff-or-beta', when: { any: [{ segment: 'staff' }, { segment: 'beta' }] } },
  },
);
const segRows = [
  ['seg-beta', 'included key', { key: 'u1' }, true],
  ['seg-beta', 'included wins over the condition', { key: 'u2', plan: 'free' }, true],
  ['seg-beta', 'excluded wins over the condition', { key: 'u3', plan: 'pro' }, false],
  ['seg-beta', 'in both lists: included wins', { key: 'both' }, true],
  ['seg-beta', 'condition matches', { key: 'u4', plan: 'pro' }, true],
  ['seg-beta', 'condition does not match', { key: 'u4', plan: 'free' }, false],
  ['seg-beta', 'no key, condition matches', { plan: 'pro' }, true],
  ['seg-beta', 'no key, no condition match', { plan: 'free' }, false],
  ['seg-lists-only', 'included', { key: 'u1' }, true],
  ['seg-lists-only', 'neither list, no condition: no match', { key: 'u9', plan: 'pro' }, false],
  ['seg-lists-only', 'excluded', { key: 'u2' }, false],
  ['seg-lists-only', 'numeric key matches its string form', { key: 42 }, true],
  ['seg-lists-only', 'non-ASCII key', { key: 'ユーザー' }, true],
  ['seg-not-beta', 'not of an included key', { key: 'u1' }, false],
  ['seg-not-beta', 'not of an excluded key', { key: 'u3', plan: 'pro' }, true],
  ['seg-nested', 'segment inside segment (staff)', { key: 'u9', email: 'a@example.com' }, true],
  ['seg-nested', 'segment inside segment (beta list)', { key: 'u2' }, true],
  ['seg-nested', 'segment inside segment (neither)', { key: 'u9', email: 'a@other.com' }, false],
  ['seg-and-country', 'segment and attribute', { key: 'u1', country: 'US' }, true],
  ['seg-and-country', 'segment, wrong country', { key: 'u1', country: 'CA' }, false],
];
for (const [flag, label, context, matches] of segRows) {
  add({
    name: `${flag}: ${label}`,
    tags: ['segment'],
    config: 'segments',
    flag,
    context,
    default: false,
    expected: matches ? MATCH : NO_MATCH,
  });
}

// A segment cycle cannot be saved; a hand-made document with one must not hang, and the cycle never matches.
configs['segment-cycle'] = {
  ...doc(
    { 'seg-cycle': ruleFlag('seg-cycle', { segment: 'a' }) },
    { a: { key: 'a', when: { segment: 'b' } }, b: { key: 'b', when: { segment: 'a' } } },
  ),
  valid: false,
};
add({
  name: 'segment cycle never matches',
  tags: ['segment', 'invalid-config'],
  config: 'segment-cycle',
  flag: 'seg-cycle',
  context: { key: 'u1' },
  default: false,
  expected: NO_MATCH,
});

// ---------------------------------------------------------------------------------------
// 3. Flag evaluation order: unknown flag, disabled, rules, defaults, types.

const COLORS = [
  { key: 'red', value: 'red' },
  { key: 'blue', value: 'blue' },
  { key: 'green', value: 'green' },
];
configs.flags = doc({
  ordered: {
    key: 'ordered',
    type: 'string',
    enabled: true,
    variants: COLORS,
    rules: [
      { id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'red' } },
      { id: 'north-america', when: { attr: 'country', op: 'in', values: ['US', 'CA'] }, serve: { variant: 'blue' } },
    ],
    default_serve: { variant: 'green' },
  },
  'catch-all': {
    key: 'catch-all',
    type: 'string',
    enabled: true,
    variants: COLORS,
    rules: [
      { id: 'never', when: { attr: 'plan', op: 'eq', values: ['never'] }, serve: { variant: 'red' } },
      { id: 'everyone', serve: { variant: 'blue' } },
    ],
    default_serve: { variant: 'green' },
  },
  'kill-switched': {
    key: 'kill-switched',
    type: 'string',
    enabled: false,
    variants: COLORS,
    off_variant: 'red',
    rules: [{ id: 'everyone', serve: { variant: 'blue' } }],
    default_serve: { variant: 'green' },
  },
  'disabled-no-off': {
    key: 'disabled-no-off',
    type: 'string',
    enabled: false,
    variants: COLORS,
    rules: [{ id: 'everyone', serve: { variant: 'blue' } }],
    default_serve: { variant: 'green' },
  },
  'number-flag': {
    key: 'number-flag',
    type: 'number',
    enabled: true,
    variants: [
      { key: 'low', value: 10 },
      { key: 'high', value: 100.5 },
    ],
    rules: [{ id: 'big', when: { attr: 'plan', op: 'eq', values: ['enterprise'] }, serve: { variant: 'high' } }],
    default_serve: { variant: 'low' },
  },
  'json-flag': {
    key: 'json-flag',
    type: 'json',
    enabled: true,
    variants: [
      { key: 'object', value: { color: 'red', sizes: [1, 2], nested: { ok: true } } },
      { key: 'array', value: [1, 'two', null] },
    ],
    rules: [{ id: 'arr', when: { attr: 'wants', op: 'eq', values: ['array'] }, serve: { variant: 'array' } }],
    default_serve: { variant: 'object' },
  },
  'bool-flag': {
    key: 'bool-flag',
    type: 'boolean',
    enabled: true,
    variants: BOOL,
    off_variant: 'off',
    default_serve: { variant: 'on' },
  },
  'bool-disabled': {
    key: 'bool-disabled',
    type: 'boolean',
    enabled: false,
    variants: BOOL,
    off_variant: 'off',
    default_serve: { variant: 'on' },
  },
});

const flagRows = [
  [
    'unknown flag',
    'no-such-flag',
    { key: 'u' },
    'fallback',
    { value: 'fallback', variant: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' },
    ['flag-not-found'],
  ],
  [
    'unknown flag named like an Object.prototype member',
    'constructor',
    { key: 'u' },
    'fallback',
    { value: 'fallback', variant: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' },
    ['flag-not-found', 'prototype-attribute'],
  ],
  [
    'unknown flag, null default',
    'toString',
    { key: 'u' },
    null,
    { value: null, variant: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' },
    ['flag-not-found'],
  ],
  [
    'first matching rule wins',
    'ordered',
    { key: 'u', country: 'US' },
    'x',
    { value: 'red', variant: 'red', reason: 'TARGETING_MATCH', ruleId: 'us' },
    ['rules'],
  ],
  [
    'second rule',
    'ordered',
    { key: 'u', country: 'CA' },
    'x',
    { value: 'blue', variant: 'blue', reason: 'TARGETING_MATCH', ruleId: 'north-america' },
    ['rules'],
  ],
  [
    'no rule: default serve',
    'ordered',
    { key: 'u', country: 'FR' },
    'x',
    { value: 'green', variant: 'green', reason: 'DEFAULT' },
    ['rules'],
  ],
  [
    'empty context: default serve',
    'ordered',
    {},
    'x',
    { value: 'green', variant: 'green', reason: 'DEFAULT' },
    ['rules', 'missing-attribute'],
  ],
  [
    'rule without a condition always matches',
    'catch-all',
    { key: 'u' },
    'x',
    { value: 'blue', variant: 'blue', reason: 'TARGETING_MATCH', ruleId: 'everyone' },
    ['rules'],
  ],
  [
    'disabled: off variant even though a rule matches',
    'kill-switched',
    { key: 'u' },
    'x',
    { value: 'red', variant: 'red', reason: 'DISABLED' },
    ['disabled'],
  ],
  [
    'disabled without off variant: caller default',
    'disabled-no-off',
    { key: 'u' },
    'fallback',
    { value: 'fallback', variant: null, reason: 'DISABLED' },
    ['disabled'],
  ],
  [
    'disabled without off variant: no type check on the caller default',
    'disabled-no-off',
    { key: 'u' },
    42,
    { value: 42, variant: null, reason: 'DISABLED' },
    ['disabled', 'type-mismatch'],
  ],
  [
    'disabled off variant of the wrong type for the default',
    'kill-switched',
    { key: 'u' },
    false,
    { value: false, variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' },
    ['disabled', 'type-mismatch'],
  ],
  [
    'number flag',
    'number-flag',
    { key: 'u', plan: 'enterprise' },
    0,
    { value: 100.5, variant: 'high', reason: 'TARGETING_MATCH', ruleId: 'big' },
    ['types'],
  ],
  ['number flag, default serve', 'number-flag', { key: 'u' }, 0, { value: 10, variant: 'low', reason: 'DEFAULT' }, ['types']],
  [
    'number flag with a string default: type mismatch',
    'number-flag',
    { key: 'u' },
    '0',
    { value: '0', variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' },
    ['types', 'type-mismatch'],
  ],
  [
    'number flag with a null default: no type check',
    'number-flag',
    { key: 'u' },
    null,
    { value: 10, variant: 'low', reason: 'DEFAULT' },
    ['types'],
  ],
  [
    'json flag, object value',
    'json-flag',
    { key: 'u' },
    {},
    { value: { color: 'red', sizes: [1, 2], nested: { ok: true } }, variant: 'object', reason: 'DEFAULT' },
    ['types'],
  ],
  [
    'json flag, array value with an object default (both "object")',
    'json-flag',
    { key: 'u', wants: 'array' },
    {},
    { value: [1, 'two', null], variant: 'array', reason: 'TARGETING_MATCH', ruleId: 'arr' },
    ['types'],
  ],
  [
    'json flag with a string default: type mismatch',
    'json-flag',
    { key: 'u' },
    'none',
    { value: 'none', variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' },
    ['types', 'type-mismatch'],
  ],
  [
    'boolean flag with a string default: type mismatch',
    'bool-flag',
    { key: 'u' },
    'yes',
    { value: 'yes', variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' },
    ['types', 'type-mismatch'],
  ],
  [
    'boolean flag with a number default: type mismatch',
    'bool-flag',
    { key: 'u' },
    0,
    { value: 0, variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' },
    ['types', 'type-mismatch'],
  ],
  ['boolean flag, boolean default', 'bool-flag', { key: 'u' }, false, { value: true, variant: 'on', reason: 'DEFAULT' }, ['types']],
  [
    'string flag with a boolean default: type mismatch',
    'ordered',
    { key: 'u', country: 'US' },
    true,
    { value: true, variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH' },
    ['types', 'type-mismatch'],
  ],
  [
    'disabled boolean flag serves its off variant',
    'bool-disabled',
    { key: 'u' },
    true,
    { value: false, variant: 'off', reason: 'DISABLED' },
    ['disabled'],
  ],
];
for (const [label, flag, context, def, expected, tags] of flagRows) {
  add({ name: `flags: ${label}`, tags, config: 'flags', flag, context, default: def, expected });
}

// ---------------------------------------------------------------------------------------
// 4. Prerequisites.

const boolFlag = (key, extra) => ({
  key,
  type: 'boolean',
  enabled: true,
  variants: BOOL,
  off_variant: 'off',
  default_serve: { variant: 'on' },
  ...extra,
});
const PARENT_SPLIT = [
  { variant: 'on', weight: 50 },
  { variant: 'off', weight: 50 },
];
configs.prerequisites = doc({
  parent: boolFlag('parent', {
    rules: [{ id: 'chosen', when: { attr: 'key', op: 'in', values: ['p-on'] }, serve: { variant: 'on' } }],
    default_serve: { variant: 'off' },
  }),
  child: boolFlag('child', { prerequisites: [{ flag: 'parent', variants: ['on'] }] }),
  'child-no-off': {
    key: 'child-no-off',
    type: 'boolean',
    enabled: true,
    variants: BOOL,
    prerequisites: [{ flag: 'parent', variants: ['on'] }],
    default_serve: { variant: 'on' },
  },
  'parent-disabled': boolFlag('parent-disabled', { enabled: false }),
  'parent-disabled-no-off': {
    key: 'parent-disabled-no-off',
    type: 'boolean',
    enabled: false,
    variants: BOOL,
    default_serve: { variant: 'on' },
  },
  'needs-disabled-off': boolFlag('needs-disabled-off', { prerequisites: [{ flag: 'parent-disabled', variants: ['off'] }] }),
  'needs-disabled-on': boolFlag('needs-disabled-on', { prerequisites: [{ flag: 'parent-disabled', variants: ['on'] }] }),
  'needs-disabled-no-off': boolFlag('needs-disabled-no-off', {
    prerequisites: [{ flag: 'parent-disabled-no-off', variants: ['on', 'off'] }],
  }),
  'needs-either': boolFlag('needs-either', { prerequisites: [{ flag: 'parent', variants: ['on', 'off'] }] }),
  grandchild: boolFlag('grandchild', { prerequisites: [{ flag: 'child', variants: ['on'] }] }),
  'two-prereqs': boolFlag('two-prereqs', {
    prerequisites: [
      { flag: 'parent', variants: ['on'] },
      { flag: 'parent-disabled', variants: ['off'] },
    ],
  }),
  'disabled-child': boolFlag('disabled-child', { enabled: false, prerequisites: [{ flag: 'parent', variants: ['on'] }] }),
  'child-with-rule': boolFlag('child-with-rule', {
    prerequisites: [{ flag: 'parent', variants: ['on'] }],
    rules: [{ id: 'pro', when: { attr: 'plan', op: 'eq', values: ['pro'] }, serve: { variant: 'off' } }],
  }),
  'split-parent': boolFlag('split-parent', { default_serve: { split: PARENT_SPLIT } }),
  'needs-split-on': boolFlag('needs-split-on', { prerequisites: [{ flag: 'split-parent', variants: ['on'] }] }),
});
const PASS = { value: true, variant: 'on', reason: 'DEFAULT' };
const FAIL_OFF = { value: false, variant: 'off', reason: 'PREREQUISITE_FAILED' };
const prereqRows = [
  ['prerequisite met', 'child', { key: 'p-on' }, false, PASS],
  ['prerequisite not met: off variant', 'child', { key: 'p-off' }, false, FAIL_OFF],
  [
    'prerequisite not met, no off variant: caller default',
    'child-no-off',
    { key: 'p-off' },
    true,
    { value: true, variant: null, reason: 'PREREQUISITE_FAILED' },
  ],
  ['prerequisite met, no off variant', 'child-no-off', { key: 'p-on' }, false, PASS],
  ['disabled prerequisite serves its off variant, which counts', 'needs-disabled-off', { key: 'u' }, false, PASS],
  ['disabled prerequisite does not serve on', 'needs-disabled-on', { key: 'u' }, false, FAIL_OFF],
  ['disabled prerequisite without off variant serves nothing', 'needs-disabled-no-off', { key: 'u' }, false, FAIL_OFF],
  ['any listed variant satisfies', 'needs-either', { key: 'p-off' }, false, PASS],
  ['chain: grandchild passes when child passes', 'grandchild', { key: 'p-on' }, false, PASS],
  ['chain: child fails and serves off, grandchild fails', 'grandchild', { key: 'p-off' }, false, FAIL_OFF],
  ['all prerequisites must pass', 'two-prereqs', { key: 'p-on' }, false, PASS],
  ['one of two prerequisites fails', 'two-prereqs', { key: 'p-off' }, false, FAIL_OFF],
  [
    'disabled is checked before prerequisites',
    'disabled-child',
    { key: 'p-on' },
    false,
    { value: false, variant: 'off', reason: 'DISABLED' },
  ],
  [
    'rules run after prerequisites pass',
    'child-with-rule',
    { key: 'p-on', plan: 'pro' },
    true,
    { value: false, variant: 'off', reason: 'TARGETING_MATCH', ruleId: 'pro' },
  ],
  ['failed prerequisite comes before rules', 'child-with-rule', { key: 'p-off', plan: 'pro' }, true, FAIL_OFF],
];
for (const [label, flag, context, def, expected] of prereqRows) {
  add({ name: `prerequisites: ${label}`, tags: ['prerequisite'], config: 'prerequisites', flag, context, default: def, expected });
}
// Prerequisite whose own outcome is a 50/50 split: derived from the reference bucket.
for (const n of [1, 2, 3, 4, 5, 6]) {
  const unit = `user-${n}`;
  const { variant, bucket } = splitOutcome('split-parent', PARENT_SPLIT, unit);
  add({
    name: `prerequisites: split prerequisite, ${unit}`,
    tags: ['prerequisite', 'split'],
    config: 'prerequisites',
    flag: 'needs-split-on',
    context: { key: unit },
    default: false,
    expected: variant === 'on' ? PASS : FAIL_OFF,
    note: `parent ${describeSplit('split-parent', PARENT_SPLIT, unit, bucket)} -> ${variant}`,
  });
}

// Hand-made documents (rejected on save): unknown prerequisite flag, and cycles.
configs['prerequisite-problems'] = {
  ...doc({
    orphan: boolFlag('orphan', { prerequisites: [{ flag: 'missing-flag', variants: ['on'] }] }),
    'cycle-a': boolFlag('cycle-a', { prerequisites: [{ flag: 'cycle-b', variants: ['on'] }] }),
    'cycle-b': boolFlag('cycle-b', { prerequisites: [{ flag: 'cycle-a', variants: ['on'] }] }),
    'cycle-no-off': {
      key: 'cycle-no-off',
      type: 'boolean',
      enabled: true,
      variants: BOOL,
      prerequisites: [{ flag: 'cycle-no-off', variants: ['on'] }],
      default_serve: { variant: 'on' },
    },
    'cycle-disabled': boolFlag('cycle-disabled', { enabled: false, prerequisites: [{ flag: 'cycle-b', variants: ['on'] }] }),
    'on-cycle': boolFlag('on-cycle', { prerequisites: [{ flag: 'cycle-a', variants: ['on'] }] }),
  }),
  valid: false,
};
const problemRows = [
  ['unknown prerequisite flag fails', 'orphan', { key: 'u' }, false, FAIL_OFF],
  ['prerequisite cycle: first flag fails', 'cycle-a', { key: 'u' }, false, FAIL_OFF],
  ['prerequisite cycle: second flag fails', 'cycle-b', { key: 'u' }, false, FAIL_OFF],
  [
    'self-prerequisite, no off variant: caller default',
    'cycle-no-off',
    { key: 'u' },
    true,
    { value: true, variant: null, reason: 'PREREQUISITE_FAILED' },
  ],
  [
    'disabled flag pointing into a cycle is simply disabled',
    'cycle-disabled',
    { key: 'u' },
    true,
    { value: false, variant: 'off', reason: 'DISABLED' },
  ],
  ['flag requiring "on" from a cyclic flag fails', 'on-cycle', { key: 'u' }, false, FAIL_OFF],
];
for (const [label, flag, context, def, expected] of problemRows) {
  add({
    name: `prerequisites: ${label}`,
    tags: ['prerequisite', 'invalid-config'],
    config: 'prerequisite-problems',
    flag,
    context,
    default: def,
    expected,
  });
}

// ---------------------------------------------------------------------------------------
// 5. Splits and rollouts.

const S3070 = [
  { variant: 'on', weight: 30 },
  { variant: 'off', weight: 70 },
];
const S3WAY = [
  { variant: 'red', weight: 33.33 },
  { variant: 'blue', weight: 33.33 },
  { variant: 'green', weight: 33.34 },
];
const ROLLOUT = [
  { variant: 'on', weight: 12.5 },
  { variant: 'off', weight: 87.5 },
];
const ZERO_FIRST = [
  { variant: 'on', weight: 0 },
  { variant: 'off', weight: 100 },
];
const ZERO_LAST = [
  { variant: 'on', weight: 100 },
  { variant: 'off', weight: 0 },
];
const splitFlags = {
  'split-30-70': { key: 'split-30-70', type: 'boolean', enabled: true, variants: BOOL, default_serve: { split: S3070 } },
  'three-way': { key: 'three-way', type: 'string', enabled: true, variants: COLORS, default_serve: { split: S3WAY } },
  'rollout-12-5': { key: 'rollout-12-5', type: 'boolean', enabled: true, variants: BOOL, default_serve: { split: ROLLOUT } },
  'zero-first': { key: 'zero-first', type: 'boolean', enabled: true, variants: BOOL, default_serve: { split: ZERO_FIRST } },
  'zero-last': { key: 'zero-last', type: 'boolean', enabled: true, variants: BOOL, default_serve: { split: ZERO_LAST } },
  'custom-salt': {
    key: 'custom-salt',
    type: 'boolean',
    enabled: true,
    variants: BOOL,
    salt: 'shared-salt',
    default_serve: { split: S3070 },
  },
  'unicode-salt': { key: 'unicode-salt', type: 'boolean', enabled: true, variants: BOOL, salt: 'sälz-😀', default_serve: { split: S3070 } },
  'by-company': {
    key: 'by-company',
    type: 'boolean',
    enabled: true,
    variants: BOOL,
    bucket_by: 'company_id',
    default_serve: { split: S3070 },
  },
  'rule-split': {
    key: 'rule-split',
    type: 'string',
    enabled: true,
    variants: COLORS,
    rules: [{ id: 'beta-split', when: { attr: 'beta', op: 'eq', values: [true] }, serve: { split: S3WAY } }],
    default_serve: { variant: 'green' },
  },
};
configs.splits = doc(splitFlags);

const valueOf = (flagKey, variant) => splitFlags[flagKey].variants.find((v) => v.key === variant).value;
function splitCase(flagKey, label, context, { def = null, ruleId, tags = [] } = {}) {
  const f = splitFlags[flagKey];
  const split = ruleId ? f.rules.find((r) => r.id === ruleId).serve.split : f.default_serve.split;
  const salt = f.salt ?? f.key;
  const unit = unitOf(context, f.bucket_by ?? 'key');
  const { variant, bucket } = splitOutcome(salt, split, unit);
  const expected = { value: valueOf(flagKey, variant), variant, reason: 'SPLIT' };
  if (ruleId) expected.ruleId = ruleId;
  add({
    name: `splits: ${flagKey}, ${label}`,
    tags: ['split', ...tags],
    config: 'splits',
    flag: flagKey,
    context,
    default: def,
    expected,
    note: `${describeSplit(salt, split, unit, bucket)} -> ${variant}`,
  });
}
const exactly = (b) => (x) => x === b;
for (let n = 1; n <= 8; n++) splitCase('split-30-70', `user-${n}`, { key: `user-${n}` }, { def: false });
for (const b of [0, 2999, 3000, 9999])
  splitCase('split-30-70', `unit on bucket ${b}`, { key: findUnit('split-30-70', exactly(b)) }, { def: false, tags: ['boundary'] });
for (const b of [3332, 3333, 6665, 6666, 9999])
  splitCase('three-way', `unit on bucket ${b}`, { key: findUnit('three-way', exactly(b)) }, { def: 'x', tags: ['boundary'] });
for (let n = 1; n <= 4; n++) splitCase('three-way', `user-${n}`, { key: `user-${n}` }, { def: 'x' });
for (const b of [1249, 1250])
  splitCase(
    'rollout-12-5',
    `unit on bucket ${b}`,
    { key: findUnit('rollout-12-5', exactly(b)) },
    { def: false, tags: ['boundary', 'rollout'] },
  );
splitCase(
  'rollout-12-5',
  'a unit inside 12.5 %',
  { key: findUnit('rollout-12-5', (b) => b < 1250, 'member-') },
  { def: false, tags: ['rollout'] },
);
splitCase(
  'rollout-12-5',
  'a unit outside 12.5 %',
  { key: findUnit('rollout-12-5', (b) => b >= 1250, 'member-') },
  { def: false, tags: ['rollout'] },
);
for (const b of [0, 9999])
  splitCase('zero-first', `0 % first slice, bucket ${b}`, { key: findUnit('zero-first', exactly(b)) }, { def: false, tags: ['boundary'] });
for (const b of [0, 9999])
  splitCase('zero-last', `0 % last slice, bucket ${b}`, { key: findUnit('zero-last', exactly(b)) }, { def: false, tags: ['boundary'] });
for (const u of ['user-1', 'user-2', 'user-3'])
  splitCase('custom-salt', `salt is not the flag key, ${u}`, { key: u }, { def: false, tags: ['salt'] });
for (const u of ['user-1', 'José', '😀'])
  splitCase('unicode-salt', `non-ASCII salt, ${u}`, { key: u }, { def: false, tags: ['salt', 'non-ascii'] });
for (const u of ['José', 'ユーザー42', '用户', '😀', '👨‍👩‍👧‍👦', 'naïve-ü', 'Привет'])
  splitCase('split-30-70', `non-ASCII unit ${u}`, { key: u }, { def: false, tags: ['non-ascii'] });
splitCase('split-30-70', 'numeric key is stringified', { key: 42 }, { def: false, tags: ['coercion'] });
splitCase('split-30-70', 'numeric key with decimals', { key: 1.5 }, { def: false, tags: ['coercion'] });
splitCase('split-30-70', 'null default: no type check', { key: 'user-9' }, { def: null });
for (const u of ['acme', 'globex', 'initech'])
  splitCase('by-company', `bucket_by company_id=${u}`, { key: 'same-user', company_id: u }, { def: false, tags: ['bucket-by'] });
splitCase('by-company', 'bucket_by numeric company_id', { key: 'u', company_id: 12345 }, { def: false, tags: ['bucket-by', 'coercion'] });
for (let n = 1; n <= 4; n++)
  splitCase(
    'rule-split',
    `split inside a rule, user-${n}`,
    { key: `user-${n}`, beta: true },
    { def: 'x', ruleId: 'beta-split', tags: ['rules'] },
  );

const MISSING_KEY = (def) => ({ value: def, variant: null, reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
const missingRows = [
  ['split-30-70', 'no key', { country: 'US' }, false],
  ['split-30-70', 'null key', { key: null }, true],
  ['split-30-70', 'empty string is not a unit id', { key: '' }, false],
  ['split-30-70', 'boolean key is not a unit id', { key: true }, false],
  ['split-30-70', 'object key is not a unit id', { key: { id: 'u1' } }, false],
  ['split-30-70', 'array key is not a unit id', { key: ['u1'] }, false],
  ['by-company', 'bucket_by attribute missing (key present)', { key: 'u1' }, false],
  ['rule-split', 'split in a matching rule, no key', { beta: true }, 'fallback'],
];
for (const [flag, label, context, def] of missingRows) {
  add({
    name: `splits: ${flag}, ${label}`,
    tags: ['split', 'missing-attribute'],
    config: 'splits',
    flag,
    context,
    default: def,
    expected: MISSING_KEY(def),
  });
}
add({
  name: 'splits: rule-split, rule does not match: fixed default serve',
  tags: ['split', 'rules'],
  config: 'splits',
  flag: 'rule-split',
  context: { key: 'user-1', beta: false },
  default: 'x',
  expected: { value: 'green', variant: 'green', reason: 'DEFAULT' },
});
add({
  name: 'splits: rule-split, no key and rule does not match: no bucketing needed',
  tags: ['split', 'missing-attribute'],
  config: 'splits',
  flag: 'rule-split',
  context: {},
  default: 'x',
  expected: { value: 'green', variant: 'green', reason: 'DEFAULT' },
});

// ---------------------------------------------------------------------------------------
// 6. Experiments.

const experiments = {
  'checkout-exp': {
    key: 'checkout-exp',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 50, value: 'classic' },
      { key: 'treatment', weight: 50, value: 'one-page' },
    ],
    traffic_allocation: 100,
  },
  'no-values': {
    key: 'no-values',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 34 },
      { key: 'b', weight: 33 },
      { key: 'c', weight: 33 },
    ],
  },
  'partial-traffic': {
    key: 'partial-traffic',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 50, value: false },
      { key: 'treatment', weight: 50, value: true },
    ],
    traffic_allocation: 40,
  },
  'zero-traffic': {
    key: 'zero-traffic',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
    traffic_allocation: 0,
  },
  'targeted-exp': {
    key: 'targeted-exp',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 20, value: 1 },
      { key: 'treatment', weight: 80, value: 2 },
    ],
    targeting: { all: [{ attr: 'country', op: 'in', values: ['US', 'CA'] }, { not: { segment: 'internal' } }] },
  },
  'ns-left': {
    key: 'ns-left',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
    namespace: { key: 'checkout', start: 0, end: 50 },
  },
  'ns-right': {
    key: 'ns-right',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
    namespace: { key: 'checkout', start: 50, end: 100 },
    traffic_allocation: 60,
  },
  'by-account': {
    key: 'by-account',
    status: 'RUNNING',
    variants: [
      { key: 'control', weight: 50, value: { layout: 'a' } },
      { key: 'treatment', weight: 50, value: { layout: 'b' } },
    ],
    bucket_by: 'account',
    salt: 'by-account-v2',
  },
  'paused-exp': {
    key: 'paused-exp',
    status: 'PAUSED',
    variants: [
      { key: 'control', weight: 50, value: 'classic' },
      { key: 'treatment', weight: 50, value: 'one-page' },
    ],
  },
  'paused-no-value': {
    key: 'paused-no-value',
    status: 'PAUSED',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
  },
  'draft-exp': {
    key: 'draft-exp',
    status: 'DRAFT',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
  },
  'completed-exp': {
    key: 'completed-exp',
    status: 'COMPLETED',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
  },
  'archived-exp': {
    key: 'archived-exp',
    status: 'ARCHIVED',
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
  },
};
configs.experiments = doc({}, { internal: { key: 'internal', included: ['staff-1'] } }, experiments);

/** The contract's experiment evaluation, with targeting outcome supplied by hand. */
function experimentOutcome(expKey, context, targeted, e = experiments[expKey]) {
  const notIn = (why) => ({ expected: { value: null, variant: null, reason: 'DEFAULT', inExperiment: false }, note: why, enrolled: false });
  if (e.status === 'PAUSED') {
    const c = e.variants[0];
    return {
      expected: { value: c.value === undefined ? c.key : c.value, variant: c.key, reason: 'DISABLED', inExperiment: false },
      note: 'paused: control for everyone',
    };
  }
  if (e.status !== 'RUNNING') return notIn(`status ${e.status}`);
  const unit = unitOf(context, e.bucket_by ?? 'key');
  if (unit === null) return notIn('no unit id');
  if (!targeted) return notIn('targeting does not match');
  const salt = e.salt ?? e.key;
  const notes = [];
  const traffic = bp(e.traffic_allocation ?? 100);
  const tb = refBucket(salt + '.traffic', unit);
  notes.push(`traffic bucket(${JSON.stringify(salt + '.traffic')}, ${JSON.stringify(unit)}) = ${tb}, limit ${traffic}`);
  if (!(tb < traffic)) return notIn(notes.join('; ') + ' -> outside traffic');
  if (e.namespace) {
    const nb = refBucket('ns.' + e.namespace.key, unit);
    const lo = bp(e.namespace.start);
    const hi = bp(e.namespace.end);
    notes.push(`namespace bucket(${JSON.stringify('ns.' + e.namespace.key)}, ${JSON.stringify(unit)}) = ${nb}, range [${lo}, ${hi})`);
    if (!(nb >= lo && nb < hi)) return notIn(notes.join('; ') + ' -> outside namespace range');
  }
  const split = e.variants.map((v) => ({ variant: v.key, weight: v.weight }));
  const { variant, bucket, index } = splitOutcome(salt, split, unit);
  notes.push(describeSplit(salt, split, unit, bucket) + ` -> ${variant}`);
  const v = e.variants[index];
  return {
    expected: { value: v.value === undefined ? v.key : v.value, variant, reason: 'SPLIT', inExperiment: true },
    note: notes.join('; '),
    enrolled: true,
  };
}

function expCase(expKey, label, context, { targeted = true, def = null, tags = [] } = {}) {
  const { expected, note } = experimentOutcome(expKey, context, targeted);
  if (expected.variant === null) expected.value = def;
  add({
    name: `experiments: ${expKey}, ${label}`,
    tags: ['experiment', ...tags],
    config: 'experiments',
    flag: expKey,
    context,
    default: def,
    expected,
    note,
  });
}

for (let n = 1; n <= 6; n++) expCase('checkout-exp', `user-${n}`, { key: `user-${n}` }, { def: 'default' });
for (const b of [4999, 5000])
  expCase(
    'checkout-exp',
    `split boundary, bucket ${b}`,
    { key: findUnit('checkout-exp', exactly(b)) },
    { def: 'default', tags: ['boundary'] },
  );
for (const u of ['José', 'ユーザー42', '😀', 'a\ud800b'])
  expCase('checkout-exp', `non-ASCII unit ${JSON.stringify(u)}`, { key: u }, { def: 'default', tags: ['non-ascii'] });
expCase('checkout-exp', 'no key: not enrolled', { country: 'US' }, { def: 'default', tags: ['missing-attribute'] });
expCase('checkout-exp', 'boolean key: not enrolled', { key: false }, { def: 'default', tags: ['missing-attribute'] });
expCase('checkout-exp', 'empty-string key: not enrolled', { key: '' }, { def: 'default', tags: ['missing-attribute'] });
expCase('checkout-exp', 'numeric key', { key: 7 }, { def: 'default', tags: ['coercion'] });
for (let n = 1; n <= 5; n++) expCase('no-values', `variant key is the value, user-${n}`, { key: `user-${n}` }, { def: 'default' });
// Traffic: units just inside and just outside 40 %, and a few ordinary ones.
const trafficSalt = 'partial-traffic.traffic';
expCase(
  'partial-traffic',
  'traffic bucket 3999 is inside 40 %',
  { key: findUnit(trafficSalt, exactly(3999)) },
  { def: false, tags: ['traffic', 'boundary'] },
);
expCase(
  'partial-traffic',
  'traffic bucket 4000 is outside 40 %',
  { key: findUnit(trafficSalt, exactly(4000)) },
  { def: false, tags: ['traffic', 'boundary'] },
);
expCase('partial-traffic', 'traffic bucket 0', { key: findUnit(trafficSalt, exactly(0)) }, { def: false, tags: ['traffic', 'boundary'] });
for (let n = 1; n <= 6; n++) expCase('partial-traffic', `user-${n}`, { key: `user-${n}` }, { def: false, tags: ['traffic'] });
expCase(
  'partial-traffic',
  'wrong-typed caller default: type mismatch when enrolled',
  { key: findUnit(trafficSalt, exactly(0)) },
  { def: 'nope', tags: ['traffic', 'type-mismatch'] },
);
{
  // Enrolled unit + a default of another type: the caller's default, ERROR / TYPE_MISMATCH, no exposure.
  const last = cases[cases.length - 1];
  if (last.expected.inExperiment)
    last.expected = { value: 'nope', variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', inExperiment: false };
  else throw new Error('expected an enrolled unit');
}
expCase(
  'zero-traffic',
  '0 % traffic enrolls nobody',
  { key: findUnit('zero-traffic.traffic', exactly(0)) },
  { def: 'default', tags: ['traffic', 'boundary'] },
);
// Targeting (by hand) then bucketing (by reference).
expCase('targeted-exp', 'targeted country', { key: 'user-1', country: 'US' }, { targeted: true, def: 0, tags: ['targeting'] });
expCase('targeted-exp', 'targeted country, user-2', { key: 'user-2', country: 'CA' }, { targeted: true, def: 0, tags: ['targeting'] });
expCase('targeted-exp', 'untargeted country', { key: 'user-1', country: 'FR' }, { targeted: false, def: 0, tags: ['targeting'] });
expCase('targeted-exp', 'country missing', { key: 'user-1' }, { targeted: false, def: 0, tags: ['targeting', 'missing-attribute'] });
expCase(
  'targeted-exp',
  'excluded by segment',
  { key: 'staff-1', country: 'US' },
  { targeted: false, def: 0, tags: ['targeting', 'segment'] },
);
// Namespaces: the same unit can be in at most one of ns-left [0, 50) and ns-right [50, 100).
const nsSalt = 'ns.checkout';
for (const b of [0, 4999, 5000, 9999]) {
  const unit = findUnit(nsSalt, exactly(b), 'ns-unit-');
  expCase('ns-left', `namespace bucket ${b}`, { key: unit }, { def: 'default', tags: ['namespace', 'boundary'] });
  expCase('ns-right', `namespace bucket ${b}`, { key: unit }, { def: 'default', tags: ['namespace', 'boundary'] });
}
// ns-right also has 60 % traffic: one unit inside its range but outside traffic, one inside both.
{
  const outside = findUnit(nsSalt, (b, u) => b >= 5000 && refBucket('ns-right.traffic', u) >= 6000, 'nt-');
  const inside = findUnit(nsSalt, (b, u) => b >= 5000 && refBucket('ns-right.traffic', u) < 6000, 'nt-');
  expCase('ns-right', 'in namespace range, outside traffic', { key: outside }, { def: 'default', tags: ['namespace', 'traffic'] });
  expCase('ns-right', 'in namespace range and traffic', { key: inside }, { def: 'default', tags: ['namespace', 'traffic'] });
}
for (let n = 1; n <= 4; n++) {
  expCase('ns-left', `user-${n}`, { key: `user-${n}` }, { def: 'default', tags: ['namespace'] });
  expCase('ns-right', `user-${n}`, { key: `user-${n}` }, { def: 'default', tags: ['namespace'] });
}
for (const a of ['acct-1', 'acct-2', 'acct-3'])
  expCase(
    'by-account',
    `bucket_by account with custom salt, ${a}`,
    { key: 'same-user', account: a },
    { def: {}, tags: ['bucket-by', 'salt'] },
  );
expCase('by-account', 'bucket_by account missing', { key: 'user-1' }, { def: {}, tags: ['bucket-by', 'missing-attribute'] });
expCase('paused-exp', 'paused serves control', { key: 'user-1' }, { def: 'default', tags: ['status'] });
expCase('paused-exp', 'paused serves control even without a key', {}, { def: 'default', tags: ['status'] });
expCase('paused-no-value', 'paused control without value serves its key', { key: 'user-1' }, { def: 'default', tags: ['status'] });
for (const k of ['draft-exp', 'completed-exp', 'archived-exp'])
  expCase(k, 'not running: caller default', { key: 'user-1' }, { def: 'default', tags: ['status'] });
// ---------------------------------------------------------------------------------------
// 7. Flags that serve an experiment. An enrolled unit gets the FLAG variant named like its
//    experiment variant (the flag's value, reason SPLIT, inExperiment, `experiment` = the key its
//    exposure is recorded under); a unit the experiment does not enrol (targeting, traffic,
//    namespace, not RUNNING) falls through to the next rule, and after the last serve to the off
//    variant with reason DEFAULT (the caller's default when there is no off variant).

const fxExperiments = {
  'fx-checkout': {
    key: 'fx-checkout',
    status: 'RUNNING',
    variants: [
      { key: 'off', weight: 50 },
      { key: 'on', weight: 50 },
    ],
    traffic_allocation: 60,
  },
  'fx-theme': {
    key: 'fx-theme',
    status: 'RUNNING',
    variants: [
      { key: 'classic', weight: 30, value: 'ignored-by-the-flag' },
      { key: 'dark', weight: 70 },
    ],
    targeting: { attr: 'plan', op: 'eq', values: ['pro'] },
    bucket_by: 'account',
    salt: 'fx-theme-v2',
  },
  'fx-paused': {
    key: 'fx-paused',
    status: 'PAUSED',
    variants: [
      { key: 'off', weight: 50 },
      { key: 'on', weight: 50 },
    ],
  },
  'fx-draft': {
    key: 'fx-draft',
    status: 'DRAFT',
    variants: [
      { key: 'off', weight: 50 },
      { key: 'on', weight: 50 },
    ],
  },
  'fx-ns': {
    key: 'fx-ns',
    status: 'RUNNING',
    variants: [
      { key: 'off', weight: 50 },
      { key: 'on', weight: 50 },
    ],
    namespace: { key: 'fx', start: 0, end: 50 },
  },
};
const THEMES = [
  { key: 'classic', value: 'light' },
  { key: 'dark', value: 'dark' },
  { key: 'beta', value: 'beta' },
];
const fxFlags = {
  // Default serve is the experiment: units outside it get the off variant, reason DEFAULT.
  'fx-default': {
    key: 'fx-default',
    type: 'boolean',
    enabled: true,
    variants: BOOL,
    off_variant: 'off',
    default_serve: { experiment: 'fx-checkout' },
  },
  // Staff are pinned first; then the experiment; then a fixed default.
  'fx-rules': {
    key: 'fx-rules',
    type: 'string',
    enabled: true,
    variants: THEMES,
    off_variant: 'classic',
    rules: [
      { id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'beta' } },
      { id: 'exp', serve: { experiment: 'fx-theme' } },
    ],
    default_serve: { variant: 'classic' },
  },
  // A paused or draft experiment enrols nobody: both rules fall through to the default.
  'fx-not-running': {
    key: 'fx-not-running',
    type: 'boolean',
    enabled: true,
    variants: BOOL,
    off_variant: 'off',
    rules: [
      { id: 'paused', serve: { experiment: 'fx-paused' } },
      { id: 'draft', serve: { experiment: 'fx-draft' } },
    ],
    default_serve: { variant: 'on' },
  },
  // The experiment only for a matching rule; a namespace half.
  'fx-ns-flag': {
    key: 'fx-ns-flag',
    type: 'boolean',
    enabled: true,
    variants: BOOL,
    off_variant: 'off',
    rules: [{ id: 'beta', when: { attr: 'beta', op: 'eq', values: [true] }, serve: { experiment: 'fx-ns' } }],
    default_serve: { variant: 'off' },
  },
  'fx-disabled': {
    key: 'fx-disabled',
    type: 'boolean',
    enabled: false,
    variants: BOOL,
    off_variant: 'off',
    default_serve: { experiment: 'fx-checkout' },
  },
};
configs['flag-experiments'] = doc(fxFlags, {}, fxExperiments);

/** What the flag serves once the experiment enrols (or not) the unit; `next` is the fall-through detail. */
function fxCase(label, flagKey, expKey, context, { targeted = true, def, next, ruleId, tags = [] }) {
  const flag = fxFlags[flagKey];
  const o = experimentOutcome(expKey, context, targeted, fxExperiments[expKey]);
  let expected;
  if (o.enrolled) {
    const v = flag.variants.find((x) => x.key === o.expected.variant);
    expected = { value: v.value, variant: v.key, reason: 'SPLIT' };
    if (ruleId !== undefined) expected.ruleId = ruleId;
    expected = { ...expected, inExperiment: true, experiment: expKey };
  } else expected = next;
  add({
    name: `flag-experiments: ${flagKey}, ${label}`,
    tags: ['experiment', 'flag-experiment', ...tags],
    config: 'flag-experiments',
    flag: flagKey,
    context,
    default: def,
    expected,
    note: `experiment ${expKey}: ${o.note}${o.enrolled ? '' : ' -> falls through'}`,
  });
}

const OFF_DEFAULT = { value: false, variant: 'off', reason: 'DEFAULT' };
for (let n = 1; n <= 8; n++) fxCase(`user-${n}`, 'fx-default', 'fx-checkout', { key: `user-${n}` }, { def: true, next: OFF_DEFAULT });
{
  const salt = 'fx-checkout.traffic';
  for (const [b, what] of [
    [5999, 'inside'],
    [6000, 'outside'],
  ])
    fxCase(
      `traffic bucket ${b} is ${what} 60 %`,
      'fx-default',
      'fx-checkout',
      { key: findUnit(salt, exactly(b)) },
      {
        def: true,
        next: OFF_DEFAULT,
        tags: ['traffic', 'boundary'],
      },
    );
  // Both arms at their split boundary, inside traffic.
  for (const b of [4999, 5000]) {
    const unit = findUnit('fx-checkout', (x, u) => x === b && refBucket(salt, u) < 6000);
    fxCase(`split boundary, bucket ${b}`, 'fx-default', 'fx-checkout', { key: unit }, { def: true, next: OFF_DEFAULT, tags: ['boundary'] });
  }
}
fxCase('no key: not enrolled, off variant', 'fx-default', 'fx-checkout', {}, { def: true, next: OFF_DEFAULT, tags: ['missing-attribute'] });
{
  // Enrolled, but the caller's default is a string: the caller's default, no exposure.
  const unit = findUnit('fx-checkout.traffic', (b) => b < 6000);
  add({
    name: 'flag-experiments: fx-default, enrolled unit with a wrong-typed default: type mismatch',
    tags: ['experiment', 'flag-experiment', 'type-mismatch'],
    config: 'flag-experiments',
    flag: 'fx-default',
    context: { key: unit },
    default: 'nope',
    expected: { value: 'nope', variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', inExperiment: false },
  });
}
add({
  name: 'flag-experiments: fx-disabled, disabled flag: off variant, the experiment is not consulted',
  tags: ['experiment', 'flag-experiment', 'status'],
  config: 'flag-experiments',
  flag: 'fx-disabled',
  context: { key: findUnit('fx-checkout.traffic', (b) => b < 6000) },
  default: true,
  expected: { value: false, variant: 'off', reason: 'DISABLED' },
});
// fx-rules: the staff rule wins; pro accounts are enrolled by account; others fall to the default.
const CLASSIC_DEFAULT = { value: 'light', variant: 'classic', reason: 'DEFAULT' };
fxCase(
  'staff rule wins over the experiment',
  'fx-rules',
  'fx-theme',
  { key: 'u1', email: 'a@example.com', plan: 'pro', account: 'acct-1' },
  {
    targeted: false,
    def: 'x',
    next: { value: 'beta', variant: 'beta', reason: 'TARGETING_MATCH', ruleId: 'staff' },
    tags: ['targeting'],
  },
);
for (const a of ['acct-1', 'acct-2', 'acct-3', 'acct-4', 'acct-5'])
  fxCase(
    `pro account ${a}: the flag's value of the experiment's arm`,
    'fx-rules',
    'fx-theme',
    { key: 'same-user', plan: 'pro', account: a },
    {
      def: 'x',
      next: CLASSIC_DEFAULT,
      ruleId: 'exp',
      tags: ['bucket-by', 'salt'],
    },
  );
fxCase(
  'free plan: not targeted, falls through to the default',
  'fx-rules',
  'fx-theme',
  { key: 'u1', plan: 'free', account: 'acct-1' },
  {
    targeted: false,
    def: 'x',
    next: CLASSIC_DEFAULT,
    tags: ['targeting'],
  },
);
fxCase(
  'pro plan without an account: not enrolled',
  'fx-rules',
  'fx-theme',
  { key: 'u1', plan: 'pro' },
  {
    def: 'x',
    next: CLASSIC_DEFAULT,
    tags: ['bucket-by', 'missing-attribute'],
  },
);
for (const n of [1, 2, 3])
  fxCase(
    `paused and draft experiments enrol nobody, user-${n}`,
    'fx-not-running',
    'fx-paused',
    { key: `user-${n}` },
    {
      def: false,
      next: { value: true, variant: 'on', reason: 'DEFAULT' },
      tags: ['status'],
    },
  );
const NS_OFF = { value: false, variant: 'off', reason: 'DEFAULT' };
for (const b of [0, 4999, 5000, 9999]) {
  const unit = findUnit('ns.fx', exactly(b), 'fx-ns-');
  fxCase(
    `beta, namespace bucket ${b}`,
    'fx-ns-flag',
    'fx-ns',
    { key: unit, beta: true },
    { def: false, next: NS_OFF, ruleId: 'beta', tags: ['namespace', 'boundary'] },
  );
}
fxCase(
  'rule does not match: the experiment is not consulted',
  'fx-ns-flag',
  'fx-ns',
  { key: findUnit('ns.fx', exactly(0), 'fx-ns-') },
  {
    targeted: false,
    def: false,
    next: NS_OFF,
  },
);
// ---------------------------------------------------------------------------------------

const file = {
  description:
    'Evaluation test vectors for Switchyard SDKs. See spec/README.md for the format and docs/evaluation.md for the semantics. Configs marked "valid": false are hand-made documents that saving would reject; SDKs must still evaluate them without throwing or hanging.',
  generator: 'spec/generate-evaluation-vectors.mjs',
  configs,
  cases,
};
writeFileSync(new URL('evaluation.json', import.meta.url), JSON.stringify(file, null, 2) + '\n');
console.log(`evaluation.json: ${Object.keys(configs).length} configs, ${cases.length} cases`);
