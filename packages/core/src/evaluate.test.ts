import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  bucket,
  compileConfig,
  CoreError,
  emptyConfig,
  evaluate,
  evaluateAll,
  type ConfigDocument,
  type EvaluationContext,
  type Flag,
} from './index';

const BOOL = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];
const flag = (key: string, extra: Partial<Flag> = {}): Flag => ({
  key,
  type: 'boolean',
  enabled: true,
  variants: BOOL,
  off_variant: 'off',
  default_serve: { variant: 'on' },
  ...extra,
});
const doc = (parts: Partial<ConfigDocument>): ConfigDocument => ({
  schema_version: 1,
  version: 5,
  flags: {},
  segments: {},
  experiments: {},
  ...parts,
});

const compiled = compileConfig(
  doc({
    flags: {
      dated: flag('dated', {
        rules: [{ id: 'early', when: { attr: 'signup', op: 'before', values: ['2024-01-01T00:00:00Z'] }, serve: { variant: 'off' } }],
      }),
      country: flag('country', { rules: [{ id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'off' } }] }),
      half: flag('half', {
        default_serve: {
          split: [
            { variant: 'on', weight: 50 },
            { variant: 'off', weight: 50 },
          ],
        },
      }),
    },
    experiments: {
      exp: {
        key: 'exp',
        status: 'RUNNING',
        variants: [
          { key: 'control', weight: 50, value: 'a' },
          { key: 'treatment', weight: 50, value: 'b' },
        ],
        targeting: { attr: 'country', op: 'exists' },
      },
    },
  }),
);

describe('compileConfig', () => {
  it('throws a CoreError only when the input is not a config document', () => {
    for (const bad of [null, 'x', [], { flags: [] }, { flags: {}, segments: 'x' }]) {
      expect(() => compileConfig(bad as unknown as ConfigDocument)).toThrow(CoreError);
    }
    try {
      compileConfig(null as unknown as ConfigDocument);
    } catch (e) {
      expect((e as CoreError).code).toBe('INVALID_CONFIG');
    }
  });

  it('tolerates missing sections and version', () => {
    const c = compileConfig({ flags: { f: flag('f') } } as unknown as ConfigDocument);
    expect(c.version).toBe(0);
    expect(evaluate(c, 'f', {}, false).value).toBe(true);
  });

  it('exposes the version, the document and one entry per key; a flag wins a key collision', () => {
    const d = doc({
      flags: { k: flag('k') },
      experiments: {
        k: {
          key: 'k',
          status: 'PAUSED',
          variants: [
            { key: 'control', weight: 50 },
            { key: 't', weight: 50 },
          ],
        },
      },
    });
    const c = compileConfig(d);
    expect(c.version).toBe(5);
    expect(c.document).toEqual(d);
    expect(c.entries.get('k')?.kind).toBe('flag');
    expect(evaluate(c, 'k', {}, false)).toEqual({ value: true, variant: 'on', reason: 'DEFAULT' });
  });
});

describe('evaluate: inputs JSON cannot carry', () => {
  it('Date attributes for before/after', () => {
    expect(evaluate(compiled, 'dated', { signup: new Date('2023-06-01T00:00:00Z') }, true)).toEqual({
      value: false,
      variant: 'off',
      reason: 'TARGETING_MATCH',
      ruleId: 'early',
    });
    expect(evaluate(compiled, 'dated', { signup: new Date('2024-06-01T00:00:00Z') }, true).reason).toBe('DEFAULT');
    expect(evaluate(compiled, 'dated', { signup: new Date('garbage') }, true).reason).toBe('DEFAULT');
  });

  it('undefined default skips the type check, like null', () => {
    expect(evaluate(compiled, 'country', { country: 'US' }, undefined)).toEqual({
      value: false,
      variant: 'off',
      reason: 'TARGETING_MATCH',
      ruleId: 'us',
    });
  });

  it('non-finite numeric unit ids are missing', () => {
    for (const key of [NaN, Infinity, -Infinity]) {
      expect(evaluate(compiled, 'half', { key } as unknown as EvaluationContext, false)).toEqual({
        value: false,
        variant: null,
        reason: 'ERROR',
        errorCode: 'TARGETING_KEY_MISSING',
      });
    }
  });

  it('a null or undefined context is an empty one', () => {
    expect(evaluate(compiled, 'country', null as unknown as EvaluationContext, true)).toEqual({
      value: true,
      variant: 'on',
      reason: 'DEFAULT',
    });
    expect(evaluate(compiled, 'half', undefined as unknown as EvaluationContext, true).errorCode).toBe('TARGETING_KEY_MISSING');
  });

  it('a throwing getter gives the caller default with ERROR / GENERAL, never an exception', () => {
    const hostile = {
      key: 'u1',
      get country(): string {
        throw new Error('boom');
      },
    };
    expect(evaluate(compiled, 'country', hostile, true)).toEqual({ value: true, variant: null, reason: 'ERROR', errorCode: 'GENERAL' });
    expect(evaluate(compiled, 'exp', hostile, 'x')).toEqual({
      value: 'x',
      variant: null,
      reason: 'ERROR',
      errorCode: 'GENERAL',
      inExperiment: false,
    });
    const proxy = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        has: () => {
          throw new Error('trap');
        },
      },
    );
    expect(evaluate(compiled, 'half', proxy, false).reason).toBe('ERROR');
  });

  it('an enrolled unit with a wrong-typed default gets TYPE_MISMATCH and no exposure', () => {
    const d = evaluate(compiled, 'exp', { key: 'u1', country: 'US' }, 42);
    expect(d).toEqual({ value: 42, variant: null, reason: 'ERROR', errorCode: 'TYPE_MISMATCH', inExperiment: false });
  });

  it('a serve naming an unknown variant (hand-made document) gives the caller default with ERROR / GENERAL', () => {
    const c = compileConfig(
      doc({
        flags: {
          f: flag('f', { rules: [{ id: 'r', serve: { variant: 'ghost' } }] }),
          g: flag('g', { default_serve: { split: [{ variant: 'ghost', weight: 100 }] } }),
        },
      }),
    );
    expect(evaluate(c, 'f', {}, true)).toEqual({ value: true, variant: null, reason: 'ERROR', ruleId: 'r', errorCode: 'GENERAL' });
    expect(evaluate(c, 'g', { key: 'u' }, true)).toEqual({ value: true, variant: null, reason: 'ERROR', errorCode: 'GENERAL' });
  });

  it('an empty split or an experiment without variants (hand-made documents) gives the caller default, never an exception', () => {
    const c = compileConfig(
      doc({
        flags: { f: flag('f', { default_serve: { split: [] } }) },
        experiments: { e: { key: 'e', status: 'RUNNING', variants: [] }, p: { key: 'p', status: 'PAUSED', variants: [] } },
      }),
    );
    expect(evaluate(c, 'f', { key: 'u' }, true)).toEqual({ value: true, variant: null, reason: 'ERROR', errorCode: 'GENERAL' });
    expect(evaluate(c, 'e', { key: 'u' }, 'x')).toEqual({ value: 'x', variant: null, reason: 'ERROR', errorCode: 'GENERAL' });
    expect(evaluate(c, 'p', { key: 'u' }, 'x')).toEqual({ value: 'x', variant: null, reason: 'DEFAULT', inExperiment: false });
  });

  it('results are frozen and may be shared between calls', () => {
    const a = evaluate(compiled, 'country', { country: 'US' }, true);
    const b = evaluate(compiled, 'country', { country: 'US' }, true);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual(b);
  });

  it('split results follow the bucket', () => {
    for (let i = 0; i < 50; i++) {
      const key = `user-${i}`;
      const d = evaluate(compiled, 'half', { key }, false);
      expect(d.variant).toBe(bucket('half', key) < 5000 ? 'on' : 'off');
    }
  });
});

describe('evaluateAll', () => {
  it('evaluates every flag and experiment without type checks', () => {
    const all = evaluateAll(compiled, { key: 'user-1', country: 'US', signup: '2020-01-01' });
    expect(Object.keys(all).sort()).toEqual(['country', 'dated', 'exp', 'half']);
    expect(all.country).toEqual({ value: false, variant: 'off', reason: 'TARGETING_MATCH', ruleId: 'us' });
    expect(all.dated!.ruleId).toBe('early');
    expect(all.exp!.inExperiment).toBe(true);
    expect(all.exp!.reason).toBe('SPLIT');
    expect(evaluateAll(compiled, {}).exp).toEqual({ value: null, variant: null, reason: 'DEFAULT', inExperiment: false });
  });

  it("leaves a guarded rollout's experiment out of the listing, while the flag serving it names it and evaluate() answers it", () => {
    const arms = [
      { key: 'on', weight: 100 },
      { key: 'off', weight: 0 },
    ];
    const c = compileConfig(
      doc({
        flags: { shipped: flag('shipped', { default_serve: { experiment: 'rollout.ab12cd34' } }) },
        experiments: {
          'rollout.ab12cd34': { status: 'RUNNING', variants: arms, rollout: { id: 'ab12cd34-0000', flag: 'shipped' } },
          ab: { status: 'RUNNING', variants: arms },
        },
      }),
    );
    const all = evaluateAll(c, { key: 'user-1' });
    expect(Object.keys(all).sort()).toEqual(['ab', 'shipped']);
    expect(all.shipped).toMatchObject({ variant: 'on', inExperiment: true, experiment: 'rollout.ab12cd34' });
    expect(evaluate(c, 'rollout.ab12cd34', { key: 'user-1' }, null)).toMatchObject({ variant: 'on', inExperiment: true });
  });
});

describe('dates without an offset', () => {
  it('are read as UTC, whatever the machine zone', () => {
    const doc = {
      schema_version: 1 as const,
      version: 1,
      segments: {},
      experiments: {},
      flags: {
        f: {
          key: 'f',
          type: 'boolean' as const,
          enabled: true,
          variants: [
            { key: 'on', value: true },
            { key: 'off', value: false },
          ],
          rules: [{ id: 'r', when: { attr: 'at', op: 'before' as const, values: ['2024-06-01T12:00:00Z'] }, serve: { variant: 'on' } }],
          default_serve: { variant: 'off' },
        },
      },
    };
    const compiled = compileConfig(doc);
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York'; // Node re-reads TZ when it changes
    try {
      expect(new Date(2024, 0, 1).getTimezoneOffset()).not.toBe(0);
      expect(evaluate(compiled, 'f', { key: 'u', at: '2024-06-01T11:59:59' }, false).value).toBe(true);
      expect(evaluate(compiled, 'f', { key: 'u', at: '2024-06-01T12:00:00' }, false).value).toBe(false);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('a patch cannot touch the prototype', () => {
    const next = applyPatch(emptyConfig(), JSON.parse('{"version": 1, "flags": {"__proto__": {"polluted": true}}}'));
    expect(Object.getPrototypeOf(next.flags)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
