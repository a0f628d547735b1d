import { describe, expect, it } from 'vitest';
import { bucket, compileConfig, evaluate, type ConfigDocument, type ConfigExperiment, type Flag } from './index';
import { checkReferences, flagSchema, validateConfig } from './schema';

// The spec vectors cover enrolment and fall-through; these cover documents the server would not
// publish (an experiment missing from the document, arms the flag does not have) and the checks.

const BOOL = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];
const flag = (extra: Partial<Flag>): Flag => ({
  key: 'checkout',
  type: 'boolean',
  enabled: true,
  variants: BOOL,
  off_variant: 'off',
  default_serve: { variant: 'off' },
  ...extra,
});
const running = (variants: string[]): ConfigExperiment => ({
  status: 'RUNNING',
  variants: variants.map((key) => ({ key, weight: 100 / variants.length })),
});
const doc = (f: Flag, experiments: Record<string, ConfigExperiment> = {}): ConfigDocument => ({
  schema_version: 1,
  version: 1,
  flags: { [f.key]: f },
  segments: {},
  experiments,
});
const units = Array.from({ length: 400 }, (_, i) => `u${i}`);

describe('a flag serving an experiment', () => {
  it('falls through when the experiment is not in the document (a draft, a completed one)', () => {
    const c = compileConfig(doc(flag({ rules: [{ id: 'exp', serve: { experiment: 'gone' } }], default_serve: { variant: 'on' } })));
    for (const u of units.slice(0, 20))
      expect(evaluate(c, 'checkout', { key: u }, false)).toEqual({ value: true, variant: 'on', reason: 'DEFAULT' });
  });

  it('answers an arm the flag lacks with the caller default and no exposure (only a hand-made document has one)', () => {
    const c = compileConfig(doc(flag({ default_serve: { experiment: 'exp' } }), { exp: running(['off', 'mystery']) }));
    const got = units.map((u) => evaluate(c, 'checkout', { key: u }, true));
    const mystery = got.filter((d) => d.reason === 'ERROR');
    expect(mystery.length).toBeGreaterThan(100);
    for (const d of mystery) expect(d).toEqual({ value: true, variant: null, reason: 'ERROR', errorCode: 'GENERAL' });
    const off = got.filter((d) => d.reason === 'SPLIT');
    expect(off.length + mystery.length).toBe(units.length);
    for (const d of off) expect(d).toEqual({ value: false, variant: 'off', reason: 'SPLIT', inExperiment: true, experiment: 'exp' });
  });

  it('gives each enrolled unit the arm the experiment itself gives it, with the flag value', () => {
    const c = compileConfig(doc(flag({ default_serve: { experiment: 'exp' } }), { exp: running(['off', 'on']) }));
    for (const u of units) {
      const viaFlag = evaluate(c, 'checkout', { key: u }, false);
      const direct = evaluate(c, 'exp', { key: u }, null);
      expect(viaFlag.variant).toBe(direct.variant);
      expect(viaFlag.value).toBe(direct.variant === 'on');
      // The experiment's own split: bucket(exp, unit) < 5000 is the first arm.
      expect(direct.variant).toBe(bucket('exp', u) < 5000 ? 'off' : 'on');
    }
  });

  it('with no off variant, a unit the default experiment does not enrol gets the caller default', () => {
    const f = flag({ default_serve: { experiment: 'exp' } });
    delete f.off_variant;
    const c = compileConfig(
      doc(f, {
        exp: {
          status: 'PAUSED',
          variants: [
            { key: 'off', weight: 50 },
            { key: 'on', weight: 50 },
          ],
        },
      }),
    );
    expect(evaluate(c, 'checkout', { key: 'u1' }, true)).toEqual({ value: true, variant: null, reason: 'DEFAULT' });
  });
});

describe('saving a flag that serves an experiment', () => {
  it('accepts {experiment} as a serve and rejects a malformed one', () => {
    expect(flagSchema.safeParse(flag({ default_serve: { experiment: 'exp' } })).success).toBe(true);
    expect(flagSchema.safeParse(flag({ default_serve: { experiment: 'not a key!' } })).success).toBe(false);
    expect(flagSchema.safeParse(flag({ default_serve: { experiment: 'exp', variant: 'on' } })).success).toBe(false);
  });

  it('requires the experiment arms to be flag variants when the experiment is in the document', () => {
    const f = flag({ rules: [{ id: 'r', serve: { experiment: 'exp' } }] });
    expect(checkReferences(doc(f, { exp: running(['off', 'on']) }))).toEqual([]);
    expect(checkReferences(doc(f, { exp: running(['off', 'blue']) }))).toEqual([
      {
        path: ['flags', 'checkout', 'rules', 0, 'serve', 'experiment'],
        message: "experiment 'exp' has variant 'blue', which is not a variant of this flag",
      },
    ]);
    expect(validateConfig(doc(f)).ok).toBe(true);
  });
});
