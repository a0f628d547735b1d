import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { attributeReader } from './condition';
import { isPresent, MAX_ATTRIBUTE_LENGTH } from './limits';
import { compileOperator, compileStringLeaf } from './operators';
import type { ConditionValue, EvaluationContext, LeafCondition, Operator } from './types';

/** The operators compileStringLeaf specialises; every other operator must get no fast path. */
const FAST_OPERATORS = [
  'eq',
  'in',
  'neq',
  'not_in',
  'starts_with',
  'ends_with',
  'contains',
  'not_contains',
  'semver_eq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
] as const satisfies readonly Operator[];

/** The generic leaf: what every fast path must equal (read, treat over-long strings as missing, test). */
function genericLeaf(leaf: LeafCondition): (ctx: EvaluationContext) => boolean {
  const read = attributeReader(leaf.attr);
  const test = compileOperator(leaf);
  return (ctx) => {
    const v = read(ctx);
    return isPresent(v) && test(v);
  };
}

// Small alphabets so that equal, prefix, suffix and substring relations actually occur.
const word = fc.string({ unit: fc.constantFrom('a', 'b', '1', '.', '-', ' '), maxLength: 6 });
const version = fc
  .tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.option(fc.constantFrom('alpha', 'beta.1', 'rc.2'), { nil: undefined }))
  .map(([a, b, c, pre]) => `${a}.${b}.${c}${pre === undefined ? '' : `-${pre}`}`);
const text = fc.oneof(word, version, fc.constantFrom('v1.2.3', '1.2', '01.2.3', '', ' 1.2.3'));
const configValue: fc.Arbitrary<ConditionValue> = fc.oneof(text, fc.integer({ min: -3, max: 3 }), fc.boolean(), fc.constantFrom(1.5, 0));
const attributeValue: fc.Arbitrary<unknown> = fc.oneof(
  text,
  text.map((s) => s.padEnd(MAX_ATTRIBUTE_LENGTH + 1, 'a')),
  text.map((s) => s.padEnd(MAX_ATTRIBUTE_LENGTH, 'a')),
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
  fc.constantFrom(null, undefined, 1.5, Number.NaN, {}, new Date(0)),
  fc.array(fc.oneof(text, fc.integer({ min: -3, max: 3 })), { maxLength: 3 }),
);

describe('fast-path leaves agree with the generic leaf (differential property)', () => {
  for (const op of FAST_OPERATORS) {
    it(`${op}: same answer for every value list and attribute value`, () => {
      fc.assert(
        fc.property(fc.array(configValue, { maxLength: 4 }), attributeValue, fc.boolean(), (values, value, present) => {
          const leaf: LeafCondition = { attr: 'a', op, values };
          const fast = compileStringLeaf('a', leaf, compileOperator(leaf));
          if (fast === null) return; // no fast path for this list: the generic leaf is used as is
          const ctx: EvaluationContext = present ? { key: 'u', a: value } : { key: 'u' };
          expect(fast(ctx)).toBe(genericLeaf(leaf)(ctx));
        }),
        { numRuns: 3_000 },
      );
    });
  }

  it('each fast operator does take the fast path for a plain string list (the property above is not vacuous)', () => {
    for (const op of FAST_OPERATORS) {
      const values = op.startsWith('semver_') ? ['1.2.3'] : ['ab'];
      expect(compileStringLeaf('a', { attr: 'a', op, values }, compileOperator({ attr: 'a', op, values })), op).not.toBeNull();
    }
  });

  it('no other operator has a fast path', () => {
    const others: Operator[] = ['matches', 'gt', 'gte', 'lt', 'lte', 'before', 'after', 'exists', 'not_exists'];
    for (const op of others) {
      const leaf: LeafCondition = { attr: 'a', op, values: ['1'] };
      expect(compileStringLeaf('a', leaf, compileOperator(leaf)), op).toBeNull();
    }
  });
});
