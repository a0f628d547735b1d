import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { compileConfig, patchCompiledConfig, type CompiledConfig } from './compile';
import { evaluate } from './evaluate';
import { applyPatch, type ConfigPatch } from './patch';
import type { ConfigDocument, EvaluationContext, Flag } from './types';
import { contextArb, FLAGS } from './test-support/arbitraries';
import { EXPERIMENTS, initialArb, patchBodyArb } from './test-support/patches';

vi.setConfig({ testTimeout: 120_000 });

const KEYS = [...new Set([...FLAGS, ...EXPERIMENTS, 'missing'])];

function results(c: CompiledConfig, contexts: readonly Record<string, unknown>[]) {
  return contexts.map((ctx) => KEYS.map((k) => evaluate(c, k, ctx as EvaluationContext, null)));
}

describe('patchCompiledConfig (property)', () => {
  it('evaluates exactly like a full compile of the patched document, after any sequence of patches', () => {
    fc.assert(
      fc.property(
        initialArb,
        fc.array(patchBodyArb, { minLength: 1, maxLength: 6 }),
        fc.array(contextArb, { minLength: 1, maxLength: 4 }),
        (initial, bodies, contexts) => {
          let doc = structuredClone(initial);
          let inc = compileConfig(structuredClone(initial));
          bodies.forEach((body, i) => {
            const patch: ConfigPatch = { version: initial.version + i + 1, ...structuredClone(body) };
            const before = results(inc, contexts);
            const changed = new Set<string>();
            doc = applyPatch(doc, patch);
            inc = patchCompiledConfig(inc, patch, changed);
            const full = compileConfig(structuredClone(doc));
            expect(inc.version).toBe(patch.version);
            expect(inc.document).toEqual(doc);
            expect([...inc.entries.keys()].sort()).toEqual([...full.entries.keys()].sort());
            for (const k of inc.entries.keys()) expect(inc.entries.get(k)!.kind).toBe(full.entries.get(k)!.kind);
            const after = results(inc, contexts);
            expect(after).toEqual(results(full, contexts));
            // Every key whose answer moved is reported as changed.
            before.forEach((row, c) =>
              row.forEach((d, k) => {
                if (JSON.stringify(d) !== JSON.stringify(after[c]![k])) expect(changed).toContain(KEYS[k]);
              }),
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('patchCompiledConfig', () => {
  const flag = (key: string, extra: Partial<Flag> = {}): Flag => ({
    key,
    type: 'boolean',
    enabled: true,
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    off_variant: 'off',
    default_serve: { variant: 'on' },
    ...extra,
  });

  it('recompiles only what the patch changes and what depends on it', () => {
    const flags: Record<string, Flag> = {};
    for (let i = 0; i < 100; i++) flags[`f${i}`] = flag(`f${i}`);
    flags.seg = flag('seg', { rules: [{ id: 'r', when: { segment: 'beta' }, serve: { variant: 'off' } }] });
    flags.child = flag('child', { prerequisites: [{ flag: 'f1', variants: ['on'] }] });
    flags.grandchild = flag('grandchild', { prerequisites: [{ flag: 'child', variants: ['on'] }] });
    const c = compileConfig({
      schema_version: 1,
      version: 1,
      flags,
      segments: { beta: { key: 'beta', included: ['u1'] } },
      experiments: {},
    });
    const before = new Map(c.entries);
    const changed = new Set<string>();
    const next = patchCompiledConfig(c, { version: 2, flags: { f1: flag('f1', { enabled: false }) } }, changed);
    expect(next).toBe(c);
    expect([...changed].sort()).toEqual(['child', 'f1', 'grandchild']);
    for (const [k, e] of c.entries) expect(e === before.get(k)).toBe(!changed.has(k));
    expect(evaluate(c, 'grandchild', { key: 'u1' }, true).reason).toBe('PREREQUISITE_FAILED');

    changed.clear();
    patchCompiledConfig(c, { version: 3, segments: { beta: { key: 'beta', included: ['u2'] } } }, changed);
    expect([...changed]).toEqual(['seg']);
    expect(evaluate(c, 'seg', { key: 'u1' }, true).value).toBe(true);
    expect(evaluate(c, 'seg', { key: 'u2' }, true).value).toBe(false);
  });

  it('recompiles the flags that serve a changed experiment, and only those', () => {
    const exp = (weights: [number, number], status: 'RUNNING' | 'PAUSED' = 'RUNNING') => ({
      key: 'checkout',
      status,
      variants: [
        { key: 'off', weight: weights[0] },
        { key: 'on', weight: weights[1] },
      ],
    });
    const c = compileConfig({
      schema_version: 1,
      version: 1,
      flags: {
        'via-rule': flag('via-rule', { rules: [{ id: 'r', serve: { experiment: 'checkout' } }], default_serve: { variant: 'off' } }),
        'via-default': flag('via-default', { default_serve: { experiment: 'checkout' } }),
        plain: flag('plain'),
      },
      segments: {},
      experiments: { checkout: exp([100, 0]) },
    });
    expect(evaluate(c, 'via-rule', { key: 'u1' }, null)).toMatchObject({ variant: 'off', reason: 'SPLIT', experiment: 'checkout' });
    const before = new Map(c.entries);
    const changed = new Set<string>();
    patchCompiledConfig(c, { version: 2, experiments: { checkout: exp([0, 100]) } }, changed);
    expect([...changed].sort()).toEqual(['checkout', 'via-default', 'via-rule']);
    expect(c.entries.get('plain')).toBe(before.get('plain'));
    expect(evaluate(c, 'via-rule', { key: 'u1' }, null)).toMatchObject({ variant: 'on', reason: 'SPLIT', inExperiment: true });
    expect(evaluate(c, 'via-default', { key: 'u1' }, null)).toMatchObject({ variant: 'on', reason: 'SPLIT' });

    // Paused, then deleted: the flags fall through, as a full compile has them.
    patchCompiledConfig(c, { version: 3, experiments: { checkout: exp([0, 100], 'PAUSED') } });
    expect(evaluate(c, 'via-rule', { key: 'u1' }, null)).toMatchObject({ variant: 'off', reason: 'DEFAULT' });
    patchCompiledConfig(c, { version: 4, experiments: { checkout: null } });
    expect(evaluate(c, 'via-default', { key: 'u1' }, null)).toMatchObject({ variant: 'off', reason: 'DEFAULT' });
    const full = compileConfig(structuredClone(c.document));
    for (const k of ['via-rule', 'via-default'])
      expect(evaluate(c, k, { key: 'u1' }, null)).toEqual(evaluate(full, k, { key: 'u1' }, null));
  });

  it('serves an experiment whose key a flag shares after an unrelated flag changes (hand-made document)', () => {
    const c = compileConfig({
      schema_version: 1,
      version: 1,
      flags: { shared: flag('shared'), a: flag('a') },
      segments: {},
      experiments: { shared: { key: 'shared', status: 'RUNNING', variants: [{ key: 'on', weight: 100 }] } },
    });
    patchCompiledConfig(c, { version: 2, flags: { a: flag('a', { default_serve: { experiment: 'shared' } }) } });
    const full = compileConfig(structuredClone(c.document));
    expect(evaluate(c, 'a', { key: 'u1' }, null)).toMatchObject({ variant: 'on', reason: 'SPLIT', experiment: 'shared' });
    expect(evaluate(c, 'a', { key: 'u1' }, null)).toEqual(evaluate(full, 'a', { key: 'u1' }, null));
  });

  it('leaves the config as it was when a changed resource does not compile', () => {
    const c = compileConfig({ schema_version: 1, version: 1, flags: { a: flag('a') }, segments: {}, experiments: {} });
    const broken = { ...flag('b'), variants: 7 } as unknown as Flag;
    expect(() => patchCompiledConfig(c, { version: 2, flags: { a: null, b: broken } })).toThrow();
    expect(c.version).toBe(1);
    expect(Object.keys(c.document.flags)).toEqual(['a']);
    expect(evaluate(c, 'a', {}, false).value).toBe(true);
  });

  it('compiles a hand-made compiled config afresh, and never touches the document it was compiled from', () => {
    const doc: ConfigDocument = { schema_version: 1, version: 1, flags: { a: flag('a') }, segments: {}, experiments: {} };
    const compiled = compileConfig(doc);
    patchCompiledConfig(compiled, { version: 2, flags: { a: null } });
    expect(Object.keys(doc.flags)).toEqual(['a']);
    const handMade: CompiledConfig = { version: 1, document: doc, entries: new Map() };
    const next = patchCompiledConfig(handMade, { version: 2, flags: { b: flag('b') } });
    expect(next).not.toBe(handMade);
    expect([...next.entries.keys()].sort()).toEqual(['a', 'b']);
  });
});
