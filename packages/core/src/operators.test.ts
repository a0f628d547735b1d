import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileOperator } from './operators';
import { ConditionCompiler, attributeReader } from './condition';
import { toComparable, toEpochMs, toNumber } from './parse';
import { OPERATORS, type Condition, type ConditionValue, type Operator, type Segment } from './types';

const leaf = (op: Operator, values?: ConditionValue[]) =>
  compileOperator(values === undefined ? { attr: 'a', op } : { attr: 'a', op, values });
const cond = (c: Condition, segments: Record<string, Segment> = {}) =>
  new ConditionCompiler((k) => (Object.prototype.hasOwnProperty.call(segments, k) ? segments[k] : undefined)).compile(c);

describe('parse helpers', () => {
  it('toNumber: finite numbers and trimmed numeric strings only', () => {
    expect(toNumber(42)).toBe(42);
    expect(toNumber('42')).toBe(42);
    expect(toNumber(' 3.5 ')).toBe(3.5);
    expect(toNumber('-0.25')).toBe(-0.25);
    for (const x of ['', '   ', 'abc', '12abc', 'Infinity', NaN, Infinity, -Infinity, true, null, undefined, {}, [], [1]])
      expect(toNumber(x)).toBeNull();
  });

  it('toEpochMs: Dates, epoch ms and ISO 8601', () => {
    expect(toEpochMs(new Date('2024-01-01T00:00:00Z'))).toBe(1704067200000);
    expect(toEpochMs(1704067200000)).toBe(1704067200000);
    expect(toEpochMs('1704067200000')).toBe(1704067200000);
    expect(toEpochMs('2024-01-01T00:00:00Z')).toBe(1704067200000);
    expect(toEpochMs('2024-01-01T01:00:00+01:00')).toBe(1704067200000);
    expect(toEpochMs('2024-01-01')).toBe(1704067200000);
    for (const x of [new Date('nope'), 'not a date', '', true, null, {}, NaN]) expect(toEpochMs(x)).toBeNull();
  });

  it('toComparable: string forms of primitives only', () => {
    expect(toComparable('x')).toBe('x');
    expect(toComparable(30)).toBe('30');
    expect(toComparable(1.5)).toBe('1.5');
    expect(toComparable(true)).toBe('true');
    expect(toComparable(false)).toBe('false');
    for (const x of [null, undefined, NaN, Infinity, {}, [], Symbol('s'), () => 1, 10n]) expect(toComparable(x)).toBeNull();
  });
});

describe('equality family', () => {
  it('eq/in compare string forms: 30 matches "30", true matches "true"', () => {
    expect(leaf('eq', [30])('30')).toBe(true);
    expect(leaf('eq', ['30'])(30)).toBe(true);
    expect(leaf('eq', [true])('true')).toBe(true);
    expect(leaf('eq', ['true'])(true)).toBe(true);
    expect(leaf('eq', [1])(true)).toBe(false);
    expect(leaf('in', ['a', 'b', 'c'])('c')).toBe(true);
    expect(leaf('in', ['a', 'b', 'c'])('d')).toBe(false);
    expect(leaf('in', [1, 2])(2)).toBe(true);
  });

  it('several values mean "any of"; array attributes match when any element does', () => {
    expect(leaf('eq', ['US', 'CA'])('CA')).toBe(true);
    expect(leaf('eq', ['US'])(['FR', 'US'])).toBe(true);
    expect(leaf('in', ['US', 'CA'])(['FR', 'DE'])).toBe(false);
    expect(leaf('eq', ['US'])([null, undefined, 'US'])).toBe(true);
  });

  it('objects, functions and non-finite numbers never equal anything', () => {
    for (const x of [{}, { toString: () => 'US' }, () => 'US', NaN, Infinity]) expect(leaf('eq', ['US', 'NaN', 'Infinity'])(x)).toBe(false);
  });

  it('an empty values list never matches a positive operator', () => {
    expect(leaf('eq', [])('x')).toBe(false);
    expect(leaf('in')('x')).toBe(false);
    expect(leaf('contains', [])('x')).toBe(false);
    expect(leaf('gt', [])(1)).toBe(false);
    expect(leaf('semver_eq', [])('1.0.0')).toBe(false);
    expect(leaf('matches', [])('x')).toBe(false);
  });
});

describe('string operators', () => {
  it('contains: substring for strings, element equality for arrays', () => {
    expect(leaf('contains', ['ell'])('hello')).toBe(true);
    expect(leaf('contains', ['vip'])(['beta', 'vip'])).toBe(true);
    expect(leaf('contains', ['vip'])(['vip-gold'])).toBe(false);
    expect(leaf('contains', [2])([1, 2])).toBe(true);
    expect(leaf('contains', ['x'])({ x: 1 })).toBe(false);
  });

  it('starts_with / ends_with / matches act on string forms', () => {
    expect(leaf('starts_with', ['12'])(123)).toBe(true);
    expect(leaf('ends_with', ['ue'])(true)).toBe(true);
    expect(leaf('matches', ['^\\d+$'])(123)).toBe(true);
    expect(leaf('matches', ['^\\d+$'])('12a')).toBe(false);
    expect(leaf('starts_with', ['a'])({})).toBe(false);
  });

  it('matches: any of several patterns, invalid patterns in a hand-made document never match', () => {
    expect(leaf('matches', ['^a', '^b'])('bob')).toBe(true);
    expect(leaf('matches', ['('])('(')).toBe(false);
    expect(leaf('matches', ['(', 'x'])('x')).toBe(true);
  });
});

describe('numeric and date operators', () => {
  it('parse numbers and numeric strings; non-numeric is false', () => {
    expect(leaf('gt', [18])(19)).toBe(true);
    expect(leaf('gt', [18])(18)).toBe(false);
    expect(leaf('gte', [18])('18')).toBe(true);
    expect(leaf('lt', [10])(' 3.5 ')).toBe(true);
    expect(leaf('lte', [10])(10)).toBe(true);
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      for (const x of ['abc', '', true, {}, NaN, Infinity]) expect(leaf(op, [0])(x), `${op} ${String(x)}`).toBe(false);
    }
  });

  it('with several values, any value may satisfy the comparison', () => {
    expect(leaf('gt', [100, 10])(50)).toBe(true);
    expect(leaf('lt', [1, 100])(50)).toBe(true);
    expect(leaf('gte', [100, 'x'])(100)).toBe(true); // unparsable values are ignored
  });

  it('before/after take Date objects, epoch ms and ISO strings; strict comparisons', () => {
    const iso = '2024-01-01T00:00:00Z';
    expect(leaf('before', [iso])(new Date('2023-12-31T23:59:59.999Z'))).toBe(true);
    expect(leaf('before', [iso])(new Date(iso))).toBe(false);
    expect(leaf('after', [iso])(new Date(iso))).toBe(false);
    expect(leaf('after', [iso])(new Date('2024-01-01T00:00:00.001Z'))).toBe(true);
    expect(leaf('after', [1704067200000])('2024-02-01')).toBe(true);
    expect(leaf('before', [iso])(new Date('invalid'))).toBe(false);
    expect(leaf('before', ['not a date'])(0)).toBe(false);
  });
});

describe('missing attributes', () => {
  it.each(OPERATORS.map((op) => [op]))('%s: undefined and null are missing', (op) => {
    const values: ConditionValue[] = op.startsWith('semver')
      ? ['1.0.0']
      : op === 'before' || op === 'after'
        ? ['2024-01-01']
        : ['x', 1, true];
    const p = cond({ attr: 'a', op, values });
    const expected = op === 'not_exists';
    expect(p({})).toBe(expected);
    expect(p({ a: undefined })).toBe(expected);
    expect(p({ a: null })).toBe(expected);
  });

  it('exists is true for every present value, falsy ones included', () => {
    const p = cond({ attr: 'a', op: 'exists' });
    for (const x of ['', 0, false, [], {}, NaN]) expect(p({ a: x })).toBe(true);
  });
});

describe('negative operators are exact negations for present attributes (property)', () => {
  const value: fc.Arbitrary<ConditionValue> = fc.oneof(
    fc.constantFrom('a', 'b', 'ab', '1', 'true', ''),
    fc.integer({ min: -2, max: 2 }),
    fc.boolean(),
  );
  const attr = fc.oneof(value, fc.array(fc.oneof(value, fc.constant(null)), { maxLength: 4 }), fc.object({ maxDepth: 1 }), fc.double());
  const pairs = [
    ['eq', 'neq'],
    ['in', 'not_in'],
    ['contains', 'not_contains'],
  ] as const;

  it.each(pairs.map((p) => [...p]))('%s vs %s', (pos, neg) => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), attr, (values, a) => {
        const p = cond({ attr: 'a', op: pos, values });
        const n = cond({ attr: 'a', op: neg, values });
        expect(n({ a })).toBe(!p({ a }));
      }),
    );
  });

  it('eq matches iff some string form is equal', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), attr, (values, a) => {
        const forms = new Set(values.map(String));
        const elements = Array.isArray(a) ? a : [a];
        const expected = elements.some(
          (e) => (typeof e === 'string' || typeof e === 'boolean' || (typeof e === 'number' && Number.isFinite(e))) && forms.has(String(e)),
        );
        expect(cond({ attr: 'a', op: 'eq', values })({ a })).toBe(expected);
      }),
    );
  });
});

describe('attribute reading', () => {
  it('names on Object.prototype must be own properties', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'isPrototypeOf']) {
      const read = attributeReader(name);
      expect(read({}), name).toBeUndefined();
      expect(cond({ attr: name, op: 'exists' })({}), name).toBe(false);
      expect(cond({ attr: name, op: 'not_exists' })({}), name).toBe(true);
    }
    expect(attributeReader('constructor')({ constructor: 'x' })).toBe('x');
    expect(attributeReader('__proto__')(JSON.parse('{"__proto__": "x"}'))).toBe('x');
  });

  it('works on prototype-less objects', () => {
    const ctx = Object.create(null) as Record<string, unknown>;
    ctx.country = 'US';
    expect(cond({ attr: 'country', op: 'eq', values: ['US'] })(ctx)).toBe(true);
    expect(cond({ attr: 'constructor', op: 'exists' })(ctx)).toBe(false);
  });
});

describe('combinators', () => {
  const us: Condition = { attr: 'country', op: 'eq', values: ['US'] };
  const adult: Condition = { attr: 'age', op: 'gte', values: [18] };

  it('all / any / not, empty lists, nesting', () => {
    expect(cond({ all: [us, adult] })({ country: 'US', age: 20 })).toBe(true);
    expect(cond({ all: [us, adult] })({ country: 'US', age: 2 })).toBe(false);
    expect(cond({ any: [us, adult] })({ country: 'FR', age: 20 })).toBe(true);
    expect(cond({ any: [us, adult] })({})).toBe(false);
    expect(cond({ not: us })({})).toBe(true);
    expect(cond({ all: [] })({})).toBe(true);
    expect(cond({ any: [] })({})).toBe(false);
    expect(cond({ all: [us] })({ country: 'US' })).toBe(true);
    expect(cond({ any: [{ not: us }] })({ country: 'US' })).toBe(false);
    expect(cond({ not: { all: [us, { any: [adult, { not: adult }] }] } })({ country: 'US' })).toBe(false);
  });

  it('short-circuits: later conditions are not read once the answer is known', () => {
    let reads = 0;
    const ctx = {
      country: 'FR',
      get age() {
        reads++;
        return 30;
      },
    };
    expect(cond({ all: [us, adult] })(ctx)).toBe(false);
    expect(cond({ any: [{ not: us }, adult] })(ctx)).toBe(true);
    expect(reads).toBe(0);
  });
});

describe('segments', () => {
  const segments: Record<string, Segment> = {
    beta: { key: 'beta', included: ['u1', 'both'], excluded: ['u2', 'both'], when: { attr: 'plan', op: 'eq', values: ['pro'] } },
    lists: { key: 'lists', included: ['u1'] },
    outer: { key: 'outer', when: { segment: 'beta' } },
    loop: { key: 'loop', included: ['in-loop'], when: { segment: 'loop' } },
    constructor: { key: 'constructor', included: ['c1'] },
  };

  it('included first, then excluded, then the condition; no condition means no match', () => {
    const beta = cond({ segment: 'beta' }, segments);
    expect(beta({ key: 'u1' })).toBe(true);
    expect(beta({ key: 'both' })).toBe(true);
    expect(beta({ key: 'u2', plan: 'pro' })).toBe(false);
    expect(beta({ key: 'u3', plan: 'pro' })).toBe(true);
    expect(beta({ key: 'u3' })).toBe(false);
    expect(cond({ segment: 'lists' }, segments)({ key: 'u9', plan: 'pro' })).toBe(false);
    expect(cond({ segment: 'outer' }, segments)({ key: 'u1' })).toBe(true);
  });

  it('matches the string form of the context key', () => {
    const p = cond({ segment: 'n' }, { n: { key: 'n', included: ['42', 'true'] } });
    expect(p({ key: 42 as unknown as string })).toBe(true);
    expect(p({ key: '42' })).toBe(true);
    expect(p({ key: {} as unknown as string })).toBe(false);
  });

  it('unknown segments never match, prototype names are not segments', () => {
    expect(cond({ segment: 'nope' }, segments)({ key: 'u1' })).toBe(false);
    expect(cond({ segment: 'toString' }, segments)({ key: 'u1' })).toBe(false);
    expect(cond({ segment: 'constructor' }, segments)({ key: 'c1' })).toBe(true);
  });

  it('a segment that reaches itself does not recurse; its lists still apply', () => {
    const p = cond({ segment: 'loop' }, segments);
    expect(p({ key: 'other' })).toBe(false);
    expect(p({ key: 'in-loop' })).toBe(true);
  });

  it('compiles each segment once per compiler', () => {
    const c = new ConditionCompiler((k) => (Object.prototype.hasOwnProperty.call(segments, k) ? segments[k] : undefined));
    expect(c.segment('beta')).toBe(c.segment('beta'));
  });
});
