import { describe, expect, it } from 'vitest';
import {
  checkReferences,
  conditionSchema,
  configExperimentSchema,
  flagSchema,
  formatPath,
  keySchema,
  segmentSchema,
  validateConfig,
} from './schema';
import type { ConfigDocument, Flag } from './types';

import { doc, exp, flag } from './test-support/config-documents';

describe('validateConfig: accepted documents', () => {
  it('accepts an empty document and returns it', () => {
    const r = validateConfig(doc());
    expect(r).toEqual({ ok: true, config: doc() });
  });

  it('accepts a document using every feature', () => {
    const input = doc(
      {
        'new-checkout': flag('new-checkout', {
          name: 'New checkout',
          bucket_by: 'company_id',
          salt: 'new-checkout-v2',
          prerequisites: [{ flag: 'backend', variants: ['on'] }],
          rules: [
            { id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } },
            {
              id: 'beta',
              when: { all: [{ segment: 'beta' }, { not: { attr: 'country', op: 'in', values: ['FR'] } }] },
              serve: {
                split: [
                  { variant: 'on', weight: 12.5 },
                  { variant: 'off', weight: 87.5 },
                ],
              },
            },
            { id: 'pattern', when: { attr: 'email', op: 'matches', values: ['^[a-z]+@example\\.com$'] }, serve: { variant: 'off' } },
            { id: 'always', serve: { variant: 'off' } },
          ],
          default_serve: {
            split: [
              { variant: 'on', weight: 33.33 },
              { variant: 'off', weight: 66.67 },
            ],
          },
        }),
        backend: flag('backend', { enabled: false }),
        colour: {
          key: 'colour',
          type: 'string',
          enabled: true,
          variants: [{ key: 'red', value: 'red' }],
          default_serve: { variant: 'red' },
        },
        limits: {
          key: 'limits',
          type: 'json',
          enabled: true,
          variants: [{ key: 'a', value: { n: [1, null, 'x'] } }],
          default_serve: { variant: 'a' },
        },
      },
      { beta: { key: 'beta', included: ['u1'], excluded: ['u2'], when: { attr: 'plan', op: 'exists' } } },
      {
        'checkout-exp': exp('checkout-exp', {
          targeting: { segment: 'beta' },
          traffic_allocation: 40.5,
          namespace: { key: 'checkout', start: 0, end: 50 },
          bucket_by: 'account',
          salt: 's',
        }),
      },
    );
    const r = validateConfig(input);
    expect(r.ok ? 'ok' : r.issues).toBe('ok');
  });

  it('accepts keys named like Object.prototype members', () => {
    const input = doc({
      constructor: flag('constructor'),
      toString: flag('toString', { prerequisites: [{ flag: 'constructor', variants: ['on'] }] }),
    });
    expect(validateConfig(input).ok).toBe(true);
  });
});

describe('flagSchema / segmentSchema / configExperimentSchema / conditionSchema / keySchema', () => {
  it('flagSchema validates one flag with paths relative to it', () => {
    expect(flagSchema.safeParse(flag('f')).success).toBe(true);
    const r = flagSchema.safeParse(
      flag('f', {
        rules: [
          {
            id: 'r',
            when: {
              all: [
                { attr: 'a', op: 'eq', values: ['x'] },
                { attr: 'b', op: 'nope', values: [1] },
              ],
            },
            serve: { variant: 'on' },
          },
        ],
      }),
    );
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path)).toEqual([['rules', 0, 'when', 'all', 1, 'op']]);
    const missing = flagSchema.safeParse({ key: 'f' });
    expect(missing.error?.issues.map((i) => i.path[0]).sort()).toEqual(['default_serve', 'enabled', 'type', 'variants']);
  });

  it('segmentSchema and configExperimentSchema', () => {
    expect(segmentSchema.safeParse({ key: 's' }).success).toBe(true);
    expect(segmentSchema.safeParse({ key: 's', included: [1] }).error?.issues[0]?.path).toEqual(['included', 0]);
    expect(configExperimentSchema.safeParse(exp('e')).success).toBe(true);
    expect(configExperimentSchema.safeParse(exp('e', { variants: [] })).error?.issues.map((i) => i.message)).toEqual([
      'an experiment needs at least two variants (the first is control)',
      'weights must sum to 100 (they sum to 0)',
    ]);
  });

  it('conditionSchema', () => {
    expect(conditionSchema.safeParse({ all: [{ attr: 'a', op: 'eq', values: ['x'] }, { segment: 'beta' }] }).success).toBe(true);
    expect(conditionSchema.safeParse({ any: [{ not: { attr: 'a', op: 'gt' } }] }).error?.issues[0]?.path).toEqual([
      'any',
      0,
      'not',
      'values',
    ]);
  });

  it('keySchema', () => {
    for (const k of ['a', 'A1', '0', 'new-checkout', 'a.b_c-d', 'k'.repeat(128)]) expect(keySchema.safeParse(k).success, k).toBe(true);
    for (const k of ['', '-a', '.a', '_a', 'a b', 'a/b', 'é', 'k'.repeat(129), 'a\n'])
      expect(keySchema.safeParse(k).success, k).toBe(false);
  });

  it('formatPath', () => {
    expect(formatPath(['flags', 'f', 'rules', 0, 'when'])).toBe('flags.f.rules.0.when');
    expect(formatPath([])).toBe('');
  });
});

describe('checkReferences', () => {
  const base = (flags: Record<string, Flag>): Pick<ConfigDocument, 'flags' | 'segments' | 'experiments'> => ({
    flags,
    segments: {},
    experiments: {},
  });

  it('returns no issues for a consistent document', () => {
    expect(checkReferences(base({ a: flag('a') as unknown as Flag }))).toEqual([]);
  });

  it('finds cycles, unknown flags and unknown variants directly', () => {
    const a = flag('a', { prerequisites: [{ flag: 'b', variants: ['on'] }] }) as unknown as Flag;
    const b = flag('b', {
      prerequisites: [
        { flag: 'a', variants: ['nope'] },
        { flag: 'z', variants: ['on'] },
      ],
    }) as unknown as Flag;
    expect(checkReferences(base({ a, b }))).toEqual([
      { path: ['flags', 'b', 'prerequisites', 0, 'variants', 0], message: "flag 'a' has no variant 'nope'" },
      { path: ['flags', 'b', 'prerequisites', 1, 'flag'], message: "unknown flag 'z'" },
      { path: ['flags', 'a', 'prerequisites'], message: 'prerequisite cycle: a -> b -> a' },
    ]);
  });
});
