import { describe, expect, it } from 'vitest';
import { applyPatch, emptyConfig } from './patch';
import { compileConfig } from './compile';
import { evaluate } from './evaluate';
import type { ConfigDocument, Flag, Segment } from './types';

const flag = (key: string, on: boolean): Flag => ({
  key,
  type: 'boolean',
  enabled: true,
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  default_serve: { variant: on ? 'on' : 'off' },
});

const base = (): ConfigDocument => ({
  schema_version: 1,
  version: 7,
  flags: { a: flag('a', true), b: flag('b', true) },
  segments: { s: { key: 's', included: ['u1'] } },
  experiments: {
    e: {
      key: 'e',
      status: 'PAUSED',
      variants: [
        { key: 'control', weight: 50 },
        { key: 't', weight: 50 },
      ],
    },
  },
});

describe('emptyConfig', () => {
  it('is an empty version-0 document, a new object each time', () => {
    expect(emptyConfig()).toEqual({ schema_version: 1, version: 0, flags: {}, segments: {}, experiments: {} });
    expect(emptyConfig()).not.toBe(emptyConfig());
    expect(emptyConfig().flags).not.toBe(emptyConfig().flags);
  });
});

describe('applyPatch', () => {
  it('adds, replaces and deletes (null) resources and takes the patch version', () => {
    const next = applyPatch(base(), {
      version: 8,
      flags: { a: flag('a', false), b: null, c: flag('c', true) },
      segments: { s: null, t: { key: 't', excluded: ['u2'] } },
      experiments: {
        e: {
          key: 'e',
          status: 'RUNNING',
          variants: [
            { key: 'control', weight: 50 },
            { key: 't', weight: 50 },
          ],
        },
      },
    });
    expect(next.version).toBe(8);
    expect(next.schema_version).toBe(1);
    expect(Object.keys(next.flags).sort()).toEqual(['a', 'c']);
    expect(next.flags.a!.default_serve).toEqual({ variant: 'off' });
    expect(next.segments).toEqual({ t: { key: 't', excluded: ['u2'] } });
    expect(next.experiments.e!.status).toBe('RUNNING');
  });

  it('leaves sections the patch does not name untouched', () => {
    const doc = base();
    const next = applyPatch(doc, { version: 8, flags: { a: null } });
    expect(next.segments).toBe(doc.segments);
    expect(next.experiments).toBe(doc.experiments);
    expect(next.flags).toEqual({ b: doc.flags.b });
  });

  it('does not modify its input', () => {
    const doc = base();
    const snapshot = structuredClone(doc);
    applyPatch(doc, { version: 9, flags: { a: null, z: flag('z', true) }, segments: { s: null }, experiments: { e: null } });
    expect(doc).toEqual(snapshot);
  });

  it('deleting an unknown key is a no-op; an empty patch only bumps the version', () => {
    const doc = base();
    expect(applyPatch(doc, { version: 8, flags: { nope: null } }).flags).toEqual(doc.flags);
    expect(applyPatch(doc, { version: 8 })).toEqual({ ...doc, version: 8 });
  });

  it('treats prototype-named keys as ordinary keys', () => {
    const next = applyPatch(emptyConfig(), {
      version: 1,
      flags: { constructor: flag('constructor', true), toString: flag('toString', false) },
    });
    expect(Object.keys(next.flags).sort()).toEqual(['constructor', 'toString']);
    const removed = applyPatch(next, { version: 2, flags: { constructor: null } });
    expect(Object.keys(removed.flags)).toEqual(['toString']);
    expect(evaluate(compileConfig(removed), 'toString', { key: 'u' }, true).value).toBe(false);
  });

  it('a patched document compiles to the new behaviour', () => {
    const doc = base();
    const before = compileConfig(doc);
    const seg: Segment = { key: 's', included: ['u2'] };
    const next = applyPatch(doc, {
      version: 8,
      flags: { a: { ...flag('a', false), rules: [{ id: 'in-s', when: { segment: 's' }, serve: { variant: 'on' } }] } },
      segments: { s: seg },
    });
    const after = compileConfig(next);
    expect(after.version).toBe(8);
    expect(evaluate(before, 'a', { key: 'u9' }, false).value).toBe(true);
    expect(evaluate(after, 'a', { key: 'u9' }, false)).toEqual({ value: false, variant: 'off', reason: 'DEFAULT' });
    expect(evaluate(after, 'a', { key: 'u2' }, false)).toEqual({ value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'in-s' });
    expect(evaluate(compileConfig(applyPatch(next, { version: 9, flags: { a: null } })), 'a', { key: 'u2' }, false).errorCode).toBe(
      'FLAG_NOT_FOUND',
    );
  });
});
