import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { compileConfig, patchCompiledConfig } from './compile';
import { applyPatch } from './patch';
import { checkPatchReferences, checkReferences, formatPath, type ConfigIssue } from './schema';
import type { Flag } from './types';
import { documentArb } from './test-support/arbitraries';
import { patchBodyArb } from './test-support/patches';

vi.setConfig({ testTimeout: 120_000 });

const isCycle = (i: ConfigIssue) => i.message.includes(' cycle: ');
const lines = (issues: ConfigIssue[]) =>
  issues
    .filter((i) => !isCycle(i))
    .map((i) => `${formatPath(i.path)}: ${i.message}`)
    .sort();

describe('checkPatchReferences', () => {
  it('finds what checkReferences finds in the patched document, for any patch of a valid document (property)', () => {
    fc.assert(
      fc.property(documentArb, fc.array(patchBodyArb, { minLength: 1, maxLength: 4 }), (doc, bodies) => {
        let compiled = compileConfig(structuredClone(doc));
        for (const body of bodies) {
          const patch = structuredClone(body);
          const full = checkReferences(applyPatch(compiled.document, { ...patch, version: 0 }));
          const incremental = checkPatchReferences(compiled, patch);
          expect(lines(incremental)).toEqual(lines(full));
          // With several cycles either check may name another one first.
          expect(incremental.some(isCycle)).toBe(full.some(isCycle));
          // Only a valid document is saved: the next patch starts from one.
          if (full.length === 0) compiled = patchCompiledConfig(compiled, { ...patch, version: compiled.version + 1 });
        }
      }),
      { numRuns: 400 },
    );
  });

  it('names the flags a deleted prerequisite or segment leaves dangling', () => {
    const flag = (key: string, extra: Partial<Flag> = {}): Flag => ({
      key,
      type: 'boolean',
      enabled: true,
      variants: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
      default_serve: { variant: 'on' },
      ...extra,
    });
    const flags: Record<string, Flag> = {};
    for (let i = 0; i < 50; i++) flags[`f${i}`] = flag(`f${i}`);
    flags.child = flag('child', { prerequisites: [{ flag: 'f1', variants: ['on'] }] });
    flags.targeted = flag('targeted', { rules: [{ id: 'r', when: { segment: 'beta' }, serve: { variant: 'off' } }] });
    const c = compileConfig({ schema_version: 1, version: 1, flags, segments: { beta: { key: 'beta', included: [] } }, experiments: {} });
    expect(checkPatchReferences(c, { flags: { f1: null }, segments: { beta: null } }).map((i) => formatPath(i.path))).toEqual([
      'flags.child.prerequisites.0.flag',
      'flags.targeted.rules.0.when',
    ]);
    expect(checkPatchReferences(c, { flags: { f1: flag('f1', { prerequisites: [{ flag: 'child', variants: ['on'] }] }) } })).toEqual([
      { path: ['flags', 'f1', 'prerequisites'], message: 'prerequisite cycle: f1 -> child -> f1' },
    ]);
  });
});
