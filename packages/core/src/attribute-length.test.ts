import { describe, expect, it } from 'vitest';
import { compileConfig, evaluate, MAX_ATTRIBUTE_LENGTH, OPERATORS, type ConfigDocument, type LeafCondition, type Operator } from './index';

// One flag per operator whose only rule tests `attr`; `on` means the rule matched.
const VALUES: Record<Operator, (string | number)[] | undefined> = {
  eq: ['x'],
  neq: ['y'],
  in: ['x', 'y'],
  not_in: ['y', 'z'],
  contains: ['x'],
  not_contains: ['y'],
  starts_with: ['x'],
  ends_with: ['x'],
  matches: ['^x+$'],
  gt: [0],
  gte: [0],
  lt: [1e9],
  lte: [1e9],
  semver_eq: ['1.0.0'],
  semver_gt: ['0.0.1'],
  semver_gte: ['0.0.1'],
  semver_lt: ['9.0.0'],
  semver_lte: ['9.0.0'],
  before: ['2999-01-01'],
  after: ['1970-01-01'],
  exists: undefined,
  not_exists: undefined,
};

// exists/not_exists carry no values: the key is left out rather than set to undefined.
const leafOf = (attr: string, op: Operator, values: (string | number)[] | undefined): LeafCondition =>
  values === undefined ? { attr, op } : { attr, op, values };

function config(attr: string): ConfigDocument {
  const flags: ConfigDocument['flags'] = {};
  for (const op of OPERATORS) {
    flags[op] = {
      key: op,
      type: 'boolean',
      enabled: true,
      variants: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
      off_variant: 'off',
      rules: [{ id: 'r', when: leafOf(attr, op, VALUES[op]), serve: { variant: 'on' } }],
      default_serve: { variant: 'off' },
    };
  }
  return { schema_version: 1, version: 1, flags, segments: {}, experiments: {} };
}

// `a` takes the operator-specialised fast path, `constructor` the generic leaf.
describe.each(['a', 'constructor'])('attribute length cap (attribute %j)', (attr) => {
  const compiled = compileConfig(config(attr));
  const matched = (value: unknown, op: Operator) => evaluate(compiled, op, { key: 'u', [attr]: value }, false).value;

  it.each(OPERATORS.filter((op) => op !== 'not_exists'))('%s is false for a string over the cap, whatever it holds', (op) => {
    const tooLong = 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1);
    expect(matched(tooLong, op)).toBe(false);
  });

  it('not_exists is true for a string over the cap, false at the cap', () => {
    expect(matched('x'.repeat(MAX_ATTRIBUTE_LENGTH + 1), 'not_exists')).toBe(true);
    expect(matched('x'.repeat(MAX_ATTRIBUTE_LENGTH), 'not_exists')).toBe(false);
  });

  it('a string of exactly the cap is still tested', () => {
    const atCap = 'x'.repeat(MAX_ATTRIBUTE_LENGTH);
    for (const op of ['eq', 'in', 'contains', 'starts_with', 'ends_with', 'matches', 'exists', 'neq', 'not_in', 'not_contains'] as const) {
      expect(matched(atCap, op), op).toBe(!['eq', 'in'].includes(op));
    }
  });

  it('array elements over the cap are skipped like null elements', () => {
    const tooLong = 'x'.repeat(MAX_ATTRIBUTE_LENGTH + 1);
    expect(matched([tooLong], 'contains')).toBe(false);
    expect(matched([tooLong, 'x'], 'eq')).toBe(true);
    expect(matched([tooLong], 'matches')).toBe(false);
  });
});
