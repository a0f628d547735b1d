import { describe, expect, it } from 'vitest';
import { formatPath, MAX_CONDITION_DEPTH, validateConfig } from './schema';

import { doc, exp, expectIssue, flag, issues, withRule } from './test-support/config-documents';

describe('validateConfig: rejected documents, with precise paths', () => {
  it('document shape', () => {
    expectIssue('nope', [], /expected object/);
    expectIssue({ ...doc(), schema_version: 2 }, ['schema_version'], /expected 1/);
    expectIssue({ ...doc(), version: -1 }, ['version'], /0/);
    expectIssue({ ...doc(), version: 1.5 }, ['version'], /int/i);
    expectIssue({ schema_version: 1, version: 1, flags: {}, segments: {} }, ['experiments'], /expected record|expected object/);
  });

  it('weights must sum to 100, with at most two decimals', () => {
    const split = (weights: number[]) =>
      doc({ f: flag('f', { default_serve: { split: weights.map((w, i) => ({ variant: i % 2 ? 'off' : 'on', weight: w })) } }) });
    expectIssue(split([30, 60]), ['flags', 'f', 'default_serve', 'split'], /sum to 100 \(they sum to 90\)/);
    expectIssue(split([50, 50.01]), ['flags', 'f', 'default_serve', 'split'], /sum to 100/);
    expectIssue(split([33.333, 66.667]), ['flags', 'f', 'default_serve', 'split', 0, 'weight'], /two decimals/);
    expectIssue(split([-10, 110]), ['flags', 'f', 'default_serve', 'split', 0, 'weight'], />=0/);
    expect(validateConfig(split([33.33, 33.33, 33.34])).ok).toBe(true);
    expect(validateConfig(split([0.01, 99.99])).ok).toBe(true);
    const inRule = doc({ f: flag('f', { rules: [{ id: 'r', serve: { split: [{ variant: 'on', weight: 70 }] } }] }) });
    expectIssue(inRule, ['flags', 'f', 'rules', 0, 'serve', 'split'], /sum to 100/);
  });

  it('unknown variant references', () => {
    expectIssue(
      doc({ f: flag('f', { default_serve: { variant: 'maybe' } }) }),
      ['flags', 'f', 'default_serve', 'variant'],
      /unknown variant 'maybe'/,
    );
    expectIssue(doc({ f: flag('f', { off_variant: 'gone' }) }), ['flags', 'f', 'off_variant'], /unknown variant 'gone'/);
    expectIssue(
      doc({
        f: flag('f', {
          rules: [
            { id: 'a', serve: { variant: 'on' } },
            {
              id: 'b',
              serve: {
                split: [
                  { variant: 'on', weight: 50 },
                  { variant: 'nah', weight: 50 },
                ],
              },
            },
          ],
        }),
      }),
      ['flags', 'f', 'rules', 1, 'serve', 'split', 1, 'variant'],
      /unknown variant 'nah'/,
    );
  });

  it('variants, rules and serves', () => {
    expectIssue(
      doc({
        f: flag('f', {
          variants: [
            { key: 'on', value: true },
            { key: 'on', value: false },
          ],
        }),
      }),
      ['flags', 'f', 'variants', 1, 'key'],
      /duplicate variant key 'on'/,
    );
    expectIssue(
      doc({
        f: flag('f', {
          variants: [
            { key: 'on', value: 'yes' },
            { key: 'off', value: false },
          ],
        }),
      }),
      ['flags', 'f', 'variants', 0, 'value'],
      /type 'boolean'/,
    );
    expectIssue(
      doc({
        f: {
          ...flag('f'),
          type: 'number',
          variants: [
            { key: 'on', value: 1 },
            { key: 'off', value: 'x' },
          ],
        },
      }),
      ['flags', 'f', 'variants', 1, 'value'],
      /type 'number'/,
    );
    expectIssue(doc({ f: flag('f', { variants: [] }) }), ['flags', 'f', 'variants'], />=1/);
    expectIssue(doc({ f: flag('f', { type: 'date' }) }), ['flags', 'f', 'type'], /boolean|string|number|json/);
    expectIssue(doc({ f: flag('f', { enabled: 'yes' }) }), ['flags', 'f', 'enabled'], /boolean/);
    expectIssue(
      doc({
        f: flag('f', {
          rules: [
            { id: 'r', serve: { variant: 'on' } },
            { id: 'r', serve: { variant: 'off' } },
          ],
        }),
      }),
      ['flags', 'f', 'rules', 1, 'id'],
      /duplicate rule id 'r'/,
    );
    expectIssue(doc({ f: flag('f', { rules: [{ id: '', serve: { variant: 'on' } }] }) }), ['flags', 'f', 'rules', 0, 'id'], />=1/);
    expectIssue(doc({ f: flag('f', { default_serve: { variant: 'on', split: [] } }) }), ['flags', 'f', 'default_serve'], /Invalid input/);
    expectIssue(doc({ f: flag('f', { bucket_by: '' }) }), ['flags', 'f', 'bucket_by'], />=1/);
  });

  it('bad keys', () => {
    expectIssue(doc({ 'bad key': flag('bad key') }), ['flags', 'bad key', 'key'], /must start with a letter or digit/);
    expectIssue(doc({ '-x': flag('-x') }), ['flags', '-x', 'key'], /must start with a letter or digit/);
    const long = 'k'.repeat(129);
    expectIssue(doc({ [long]: flag(long) }), ['flags', long, 'key'], /at most 128/);
    expect(validateConfig(doc({ ['k'.repeat(128)]: flag('k'.repeat(128)) })).ok).toBe(true);
    expectIssue(doc({ f: flag('g') }), ['flags', 'f', 'key'], /key 'g' does not match its map key 'f'/);
    expectIssue(doc({}, { s: { key: 't' } }), ['segments', 's', 'key'], /does not match/);
    expectIssue(doc({}, {}, { e: exp('x') }), ['experiments', 'e', 'key'], /does not match/);
    expectIssue(doc({}, { 'a/b': { key: 'a/b' } }), ['segments', 'a/b', 'key'], /must start/);
    expectIssue(
      doc(
        {},
        {},
        {
          e: exp('e', {
            variants: [
              { key: 'bad key', weight: 50 },
              { key: 'b', weight: 50 },
            ],
          }),
        },
      ),
      ['experiments', 'e', 'variants', 0, 'key'],
      /must start/,
    );
    expectIssue(doc({ f: flag('f') }, {}, { f: exp('f') }), ['flags', 'f'], /already used by an experiment/);
  });

  it('prerequisites: unknown flags and variants, self references, cycles', () => {
    expectIssue(
      doc({ a: flag('a', { prerequisites: [{ flag: 'nope', variants: ['on'] }] }) }),
      ['flags', 'a', 'prerequisites', 0, 'flag'],
      /unknown flag 'nope'/,
    );
    // Object.prototype members are not flags.
    expectIssue(
      doc({ a: flag('a', { prerequisites: [{ flag: 'constructor', variants: ['on'] }] }) }),
      ['flags', 'a', 'prerequisites', 0, 'flag'],
      /unknown flag 'constructor'/,
    );
    expectIssue(
      doc({ a: flag('a', { prerequisites: [{ flag: 'toString', variants: ['on'] }] }) }),
      ['flags', 'a', 'prerequisites', 0, 'flag'],
      /unknown flag 'toString'/,
    );
    expectIssue(
      doc({ a: flag('a', { prerequisites: [{ flag: 'b', variants: ['on', 'maybe'] }] }), b: flag('b') }),
      ['flags', 'a', 'prerequisites', 0, 'variants', 1],
      /flag 'b' has no variant 'maybe'/,
    );
    expectIssue(
      doc({ a: flag('a', { prerequisites: [{ flag: 'b', variants: [] }] }), b: flag('b') }),
      ['flags', 'a', 'prerequisites', 0, 'variants'],
      />=1/,
    );
    // Prerequisites name flags, not experiments.
    expectIssue(
      doc({ a: flag('a', { prerequisites: [{ flag: 'e', variants: ['control'] }] }) }, {}, { e: exp('e') }),
      ['flags', 'a', 'prerequisites', 0, 'flag'],
      /unknown flag 'e'/,
    );
    const self = issues(doc({ a: flag('a', { prerequisites: [{ flag: 'a', variants: ['on'] }] }) }));
    expect(self).toContainEqual({ path: ['flags', 'a', 'prerequisites', 0, 'flag'], message: 'a flag cannot be its own prerequisite' });
    expectIssue(
      doc({
        a: flag('a', { prerequisites: [{ flag: 'b', variants: ['on'] }] }),
        b: flag('b', { prerequisites: [{ flag: 'c', variants: ['on'] }] }),
        c: flag('c', { prerequisites: [{ flag: 'a', variants: ['on'] }] }),
      }),
      ['flags', 'a', 'prerequisites'],
      /prerequisite cycle: a -> b -> c -> a/,
    );
    // A diamond is not a cycle.
    const diamond = doc({
      top: flag('top', {
        prerequisites: [
          { flag: 'l', variants: ['on'] },
          { flag: 'r', variants: ['on'] },
        ],
      }),
      l: flag('l', { prerequisites: [{ flag: 'base', variants: ['on'] }] }),
      r: flag('r', { prerequisites: [{ flag: 'base', variants: ['on'] }] }),
      base: flag('base'),
    });
    expect(validateConfig(diamond).ok).toBe(true);
  });

  it('segments: unknown references and cycles', () => {
    expectIssue(withRule({ segment: 'ghost' }), ['flags', 'f', 'rules', 0, 'when'], /unknown segment 'ghost'/);
    expectIssue(withRule({ not: { any: [{ segment: 'toString' }] } }), ['flags', 'f', 'rules', 0, 'when'], /unknown segment 'toString'/);
    expectIssue(doc({}, { s: { key: 's', when: { segment: 'ghost' } } }), ['segments', 's', 'when'], /unknown segment 'ghost'/);
    expectIssue(
      doc({}, {}, { e: exp('e', { targeting: { segment: 'ghost' } }) }),
      ['experiments', 'e', 'targeting'],
      /unknown segment 'ghost'/,
    );
    expectIssue(
      doc({}, { a: { key: 'a', when: { segment: 'b' } }, b: { key: 'b', when: { all: [{ not: { segment: 'a' } }] } } }),
      ['segments', 'a', 'when'],
      /segment cycle: a -> b -> a/,
    );
    expectIssue(doc({}, { a: { key: 'a', when: { segment: 'a' } } }), ['segments', 'a', 'when'], /segment cycle: a -> a/);
    expectIssue(doc({}, { s: { key: 's', included: ['x'.repeat(257)] } }), ['segments', 's', 'included', 0], /<=256/);
  });

  it('conditions: unknown operators and malformed leaves, at their exact path', () => {
    const cond = (...all: unknown[]) => withRule({ all });
    const ok = { attr: 'a', op: 'eq', values: ['x'] };
    expectIssue(
      cond(ok, { attr: 'a', op: 'equals', values: ['x'] }),
      ['flags', 'f', 'rules', 0, 'when', 'all', 1, 'op'],
      /unknown operator "equals"/,
    );
    expectIssue(cond(ok, { attr: 'a', values: ['x'] }), ['flags', 'f', 'rules', 0, 'when', 'all', 1, 'op'], /unknown operator/);
    expectIssue(cond({ attr: '', op: 'eq', values: ['x'] }), ['flags', 'f', 'rules', 0, 'when', 'all', 0, 'attr'], /non-empty string/);
    expectIssue(cond({ attr: 'a', op: 'eq' }), ['flags', 'f', 'rules', 0, 'when', 'all', 0, 'values'], /non-empty values array/);
    expectIssue(
      cond({ attr: 'a', op: 'in', values: [] }),
      ['flags', 'f', 'rules', 0, 'when', 'all', 0, 'values'],
      /non-empty values array/,
    );
    expectIssue(cond({ attr: 'a', op: 'in', values: 'US' }), ['flags', 'f', 'rules', 0, 'when', 'all', 0, 'values'], /must be an array/);
    expectIssue(
      cond({ attr: 'a', op: 'in', values: ['US', { x: 1 }] }),
      ['flags', 'f', 'rules', 0, 'when', 'all', 0, 'values', 1],
      /string, a finite number or a boolean/,
    );
    expectIssue(
      cond({ attr: 'a', op: 'in', values: [null] }),
      ['flags', 'f', 'rules', 0, 'when', 'all', 0, 'values', 0],
      /string, a finite number or a boolean/,
    );
    expectIssue(
      cond({ attr: 'a', op: 'eq', values: ['x'], negate: true }),
      ['flags', 'f', 'rules', 0, 'when', 'all', 0, 'negate'],
      /unknown field 'negate'/,
    );
    expectIssue(withRule({ all: [ok], any: [ok] }), ['flags', 'f', 'rules', 0, 'when'], /'all' must be the only field/);
    expectIssue(withRule({ any: ok }), ['flags', 'f', 'rules', 0, 'when', 'any'], /must be an array/);
    expectIssue(withRule({ not: ok, attr: 'x' }), ['flags', 'f', 'rules', 0, 'when'], /'not' must be the only field/);
    expectIssue(withRule({ not: { not: 'x' } }), ['flags', 'f', 'rules', 0, 'when', 'not', 'not'], /must be an object/);
    expectIssue(withRule({ segment: '' }), ['flags', 'f', 'rules', 0, 'when', 'segment'], /segment key/);
    expectIssue(withRule([ok]), ['flags', 'f', 'rules', 0, 'when'], /must be an object/);
    expect(validateConfig(withRule({ attr: 'a', op: 'exists' })).ok).toBe(true);
    expect(validateConfig(withRule({ attr: 'a', op: 'not_exists', values: [] })).ok).toBe(true);
    expect(validateConfig(withRule({ all: [] })).ok).toBe(true);
  });

  it('conditions: nesting depth is limited', () => {
    let deep: unknown = { attr: 'a', op: 'exists' };
    for (let i = 0; i < MAX_CONDITION_DEPTH; i++) deep = { not: deep };
    expect(validateConfig(withRule(deep)).ok).toBe(true);
    const tooDeep = { not: deep };
    const path: (string | number)[] = ['flags', 'f', 'rules', 0, 'when'];
    for (let i = 0; i <= MAX_CONDITION_DEPTH; i++) path.push('not');
    expectIssue(withRule(tooDeep), path, /deeper than 32/);
  });

  it('conditions: regexes RE2 refuses; backtracking-catastrophic ones are fine (linear engine)', () => {
    const m = (...values: unknown[]) =>
      withRule({
        any: [
          { attr: 'x', op: 'eq', values: ['y'] },
          { attr: 'email', op: 'matches', values },
        ],
      });
    const at = (i: number) => ['flags', 'f', 'rules', 0, 'when', 'any', 1, 'values', i];
    expectIssue(m('^ok$', '(unclosed'), at(1), /invalid regular expression/);
    expectIssue(m('(?=a)'), at(0), /lookahead and lookbehind/);
    expectIssue(m('ok', 'a**'), at(1), /directly follows another/);
    expectIssue(m('[[:alpha:]]'), at(0), /POSIX classes/);
    expectIssue(m('(x)\\1'), at(0), /backreferences/);
    expectIssue(m('a'.repeat(300)), at(0), /longer than 256/);
    expectIssue(m(5), at(0), /pattern must be a string/);
    expect(validateConfig(m('^[a-z]+@example\\.com$', '^(US|CA)$', '(a+)+$', '(\\w*)*')).ok).toBe(true);
  });

  it('experiments', () => {
    expectIssue(
      doc({}, {}, { e: exp('e', { variants: [{ key: 'control', weight: 100 }] }) }),
      ['experiments', 'e', 'variants'],
      /at least two variants/,
    );
    expectIssue(
      doc(
        {},
        {},
        {
          e: exp('e', {
            variants: [
              { key: 'a', weight: 60 },
              { key: 'b', weight: 60 },
            ],
          }),
        },
      ),
      ['experiments', 'e', 'variants'],
      /sum to 100 \(they sum to 120\)/,
    );
    expectIssue(
      doc(
        {},
        {},
        {
          e: exp('e', {
            variants: [
              { key: 'a', weight: 50 },
              { key: 'a', weight: 50 },
            ],
          }),
        },
      ),
      ['experiments', 'e', 'variants', 1, 'key'],
      /duplicate variant key 'a'/,
    );
    expectIssue(doc({}, {}, { e: exp('e', { traffic_allocation: 101 }) }), ['experiments', 'e', 'traffic_allocation'], /<=100/);
    expectIssue(doc({}, {}, { e: exp('e', { traffic_allocation: 10.005 }) }), ['experiments', 'e', 'traffic_allocation'], /two decimals/);
    expectIssue(
      doc({}, {}, { e: exp('e', { namespace: { key: 'n', start: 50, end: 50 } }) }),
      ['experiments', 'e', 'namespace', 'end'],
      /start must be below end/,
    );
    expectIssue(
      doc({}, {}, { e: exp('e', { namespace: { key: 'n', start: 0, end: 120 } }) }),
      ['experiments', 'e', 'namespace', 'end'],
      /<=100/,
    );
    expectIssue(doc({}, {}, { e: exp('e', { status: 'RUNNIN' }) }), ['experiments', 'e', 'status'], /RUNNING/);
    expectIssue(
      doc({}, {}, { e: exp('e', { targeting: { attr: 'a', op: 'regex', values: ['x'] } }) }),
      ['experiments', 'e', 'targeting', 'op'],
      /unknown operator "regex"/,
    );
  });

  it('reports every problem at once', () => {
    const all = issues(doc({ f: flag('f', { off_variant: 'x', default_serve: { variant: 'y' } }), g: flag('h') }));
    expect(all.map((i) => formatPath(i.path)).sort()).toEqual(['flags.f.default_serve.variant', 'flags.f.off_variant', 'flags.g.key']);
    // A structurally broken resource does not crash the whole-document checks.
    const broken = doc({ a: flag('a', { prerequisites: [{ flag: 'b', variants: ['on'] }] }), b: { key: 'b', type: 'boolean' } });
    expect(
      issues(broken)
        .map((i) => formatPath(i.path))
        .sort(),
    ).toEqual(['flags.b.default_serve', 'flags.b.enabled', 'flags.b.variants']);
  });
});
