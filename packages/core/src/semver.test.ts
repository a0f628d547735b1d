import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareSemver, parseSemver, type SemVer } from './semver';
import { compileOperator } from './operators';

const v = (s: string): SemVer => {
  const p = parseSemver(s);
  if (p === null) throw new Error(`unparsable test version ${s}`);
  return p;
};
const sign = (n: number) => Math.sign(n);

describe('parseSemver', () => {
  it('parses full versions, pre-releases and drops build metadata', () => {
    expect(parseSemver('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3, pre: [] });
    expect(parseSemver('v1.2.3-beta.2+build.5')).toEqual({ major: 1, minor: 2, patch: 3, pre: ['beta', 2] });
    expect(parseSemver('2.0.0-rc.1')).toEqual({ major: 2, minor: 0, patch: 0, pre: ['rc', 1] });
    expect(parseSemver('1.0.0-x-y-z.--')).toEqual({ major: 1, minor: 0, patch: 0, pre: ['x-y-z', '--'] });
    expect(parseSemver('1.0.0+20130313144700')).toEqual({ major: 1, minor: 0, patch: 0, pre: [] });
    expect(parseSemver('0.0.0')).toEqual({ major: 0, minor: 0, patch: 0, pre: [] });
  });

  it('accepts the shorthands 1 and 1.2 (missing parts are 0) and surrounding whitespace', () => {
    expect(parseSemver('1')).toEqual({ major: 1, minor: 0, patch: 0, pre: [] });
    expect(parseSemver('1.2')).toEqual({ major: 1, minor: 2, patch: 0, pre: [] });
    expect(parseSemver('v3')).toEqual({ major: 3, minor: 0, patch: 0, pre: [] });
    expect(parseSemver('1.2-alpha')).toEqual({ major: 1, minor: 2, patch: 0, pre: ['alpha'] });
    expect(parseSemver('  1.2.3\n')).toEqual({ major: 1, minor: 2, patch: 3, pre: [] });
  });

  it('keeps identifiers with leading zeros as text (they are not numeric identifiers)', () => {
    expect(parseSemver('1.0.0-01')?.pre).toEqual(['01']);
    expect(parseSemver('1.0.0-0')?.pre).toEqual([0]);
  });

  it.each([
    '',
    ' ',
    'v',
    'V1.2.3',
    '01.2.3',
    '1.02.3',
    '1.2.03',
    '1.2.3.4',
    '1.2.3-',
    '1.2.3+',
    '1.2.3-beta..1',
    '1.2.3-beta.',
    '1..2',
    '.1.2',
    '1.2.',
    '-1.2.3',
    '1.2.3-béta',
    '1.2.3 beta',
    'latest',
    'x.y.z',
    '1.2.3++b',
    '1.2.3+b+c',
    'vv1',
  ])('rejects %j', (s) => {
    expect(parseSemver(s)).toBeNull();
  });

  it('rejects non-strings', () => {
    for (const x of [1, 1.2, null, undefined, {}, [], true]) expect(parseSemver(x)).toBeNull();
  });
});

describe('compareSemver', () => {
  // SemVer 2.0.0 §11, in increasing precedence.
  const chain = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '1.9.0',
    '1.10.0',
    '2.0.0-0',
    '2.0.0-1',
    '2.0.0-10',
    '2.0.0-a',
    '2.0.0',
    '10.0.0',
  ];

  it('orders the SemVer 2.0.0 §11 example chain (every pair)', () => {
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) {
        expect(sign(compareSemver(v(chain[i]!), v(chain[j]!))), `${chain[i]} vs ${chain[j]}`).toBe(sign(i - j));
      }
    }
  });

  it('ignores build metadata and the v prefix', () => {
    expect(compareSemver(v('1.0.0+a'), v('1.0.0+b'))).toBe(0);
    expect(compareSemver(v('v1.0.0-rc.1+x'), v('1.0.0-rc.1'))).toBe(0);
    expect(compareSemver(v('1'), v('1.0.0'))).toBe(0);
  });

  it('compares alphanumeric identifiers in ASCII order', () => {
    expect(compareSemver(v('1.0.0-Beta'), v('1.0.0-alpha'))).toBeLessThan(0); // 'B' < 'a'
    expect(compareSemver(v('1.0.0-alpha-2'), v('1.0.0-alpha-10'))).toBeGreaterThan(0); // text, not numbers
  });

  const versionArb = fc
    .record({
      major: fc.nat(20),
      minor: fc.nat(20),
      patch: fc.nat(20),
      pre: fc.array(fc.oneof(fc.nat(12).map(String), fc.constantFrom('alpha', 'beta', 'rc', 'a', 'b', 'x-1', 'Z')), { maxLength: 3 }),
      build: fc.option(fc.constantFrom('build.1', 'sha.abc', '001'), { nil: undefined }),
    })
    .map(
      ({ major, minor, patch, pre, build }) =>
        `${major}.${minor}.${patch}${pre.length ? '-' + pre.join('.') : ''}${build ? '+' + build : ''}`,
    );

  it('is a total order: antisymmetric, reflexive and transitive', () => {
    fc.assert(
      fc.property(versionArb, versionArb, versionArb, (a, b, c) => {
        const [pa, pb, pc] = [v(a), v(b), v(c)];
        expect(compareSemver(pa, pa)).toBe(0);
        expect(sign(compareSemver(pa, pb))).toBe(-sign(compareSemver(pb, pa)));
        if (compareSemver(pa, pb) <= 0 && compareSemver(pb, pc) <= 0) expect(compareSemver(pa, pc)).toBeLessThanOrEqual(0);
      }),
    );
  });
});

// The grammar the contract documents, as one regular expression; parseSemver must accept exactly it.
const GRAMMAR =
  /^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
function referenceParse(input: string): SemVer | null {
  const m = GRAMMAR.exec(input.trim());
  if (m === null) return null;
  const pre = m[4] === undefined ? [] : m[4].split('.').map((id) => (/^(0|[1-9]\d*)$/.test(id) ? Number(id) : id));
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), pre };
}

describe('semver grammar (property)', () => {
  // Strings made of version-ish characters, so that many of them are (almost) versions.
  const versionish = fc.string({
    unit: fc.constantFrom('0', '1', '2', '9', '.', '-', '+', 'v', 'a', 'Z', ' ', 'é', '\t', '\u00a0', '\ufeff', '\u2028'),
    maxLength: 16,
  });
  const nearVersions = fc.oneof(
    versionish,
    fc.tuple(versionish, versionish).map(([a, b]) => `1.2.3${a}${b}`),
  );

  it('parseSemver accepts exactly the documented grammar', () => {
    fc.assert(
      fc.property(nearVersions, (s) => {
        expect(parseSemver(s)).toEqual(referenceParse(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('the semver operators agree with compareSemver over parsed versions', () => {
    const ops = {
      semver_eq: (c: number) => c === 0,
      semver_gt: (c: number) => c > 0,
      semver_gte: (c: number) => c >= 0,
      semver_lt: (c: number) => c < 0,
      semver_lte: (c: number) => c <= 0,
    } as const;
    fc.assert(
      fc.property(nearVersions, nearVersions, fc.constantFrom(...(Object.keys(ops) as (keyof typeof ops)[])), (attr, target, op) => {
        const t = referenceParse(target);
        const a = referenceParse(attr);
        const expected = t !== null && a !== null && ops[op](compareSemver(a, t));
        expect(compileOperator({ attr: 'v', op, values: [target] })(attr)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
