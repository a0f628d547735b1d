import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import murmur from 'murmurhash3js-revisited';
import {
  bucket,
  compileConfig,
  createBucketer,
  evaluate,
  hash32,
  OPERATORS,
  Reason,
  type ConfigDocument,
  type EvaluationDetail,
  type Flag,
} from './index';
import type { ConfigExperiment } from './types';
import { validateConfig } from './schema';
import { contextArb, defaultArb, documentArb } from './test-support/arbitraries';

// Property runs are CPU-bound; on a loaded machine they can take longer than vitest's 5 s default.
vi.setConfig({ testTimeout: 120_000 });

// ---- reference hashing ------------------------------------------------------------------

const utf8 = new TextEncoder();
const refHash = (s: string) => murmur.x86.hash32(utf8.encode(s), 0) >>> 0;
const refBucket = (salt: string, unit: string) => Number((BigInt(refHash(`${salt}.${unit}`)) * 10000n) / 4294967296n);

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: codeUnit, maxLength: 40 }),
  fc.string({ unit: fc.oneof(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }), codeUnit), maxLength: 40 }),
  fc.string({ maxLength: 40 }),
);

describe('hashing (property)', () => {
  it('hash32 equals murmurhash3js-revisited over TextEncoder UTF-8 on any string', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(hash32(s)).toBe(refHash(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('createBucketer(salt)(u) === bucket(salt, u) === floor(hash * 10000 / 2^32)', () => {
    fc.assert(
      fc.property(anyString, anyString, (salt, unit) => {
        const expected = refBucket(salt, unit);
        expect(bucket(salt, unit)).toBe(expected);
        expect(createBucketer(salt)(unit)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('one bucketer gives the same answers over many units, in any order', () => {
    fc.assert(
      fc.property(anyString, fc.array(anyString, { maxLength: 20 }), (salt, units) => {
        const b = createBucketer(salt);
        const first = units.map(b);
        expect(units.map(b)).toEqual(first);
        expect(first).toEqual(units.map((u) => refBucket(salt, u)));
      }),
    );
  });
});

// ---- rollouts, splits, traffic ----------------------------------------------------------

const BOOL = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];
const doc = (parts: Partial<ConfigDocument>): ConfigDocument => ({
  schema_version: 1,
  version: 1,
  flags: {},
  segments: {},
  experiments: {},
  ...parts,
});
const rolloutFlag = (key: string, salt: string, basisPoints: number): Flag => ({
  key,
  type: 'boolean',
  enabled: true,
  variants: BOOL,
  salt,
  default_serve: {
    split: [
      { variant: 'on', weight: basisPoints / 100 },
      { variant: 'off', weight: (10000 - basisPoints) / 100 },
    ],
  },
});
// Non-empty: the empty string is no unit (see unitIdOf), covered by the spec vectors.
const unitIds = fc.array(fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 })), {
  minLength: 1,
  maxLength: 60,
});
const salts = fc.string({ unit: 'binary', maxLength: 16 });

describe('rollouts and splits (property)', () => {
  it('a rollout of p % serves exactly the units with bucket < round(p * 100), and raising p only adds units', () => {
    fc.assert(
      fc.property(
        salts,
        fc.integer({ min: 0, max: 10000 }),
        fc.integer({ min: 0, max: 10000 }),
        unitIds,
        fc.nat(2),
        (salt, rx, y, units, pin) => {
          // Random units rarely sit on a boundary; pin one there (bound = its bucket, or one above) most of the time.
          const x = pin === 0 ? rx : refBucket(salt, units[0]!) + pin - 1;
          const [lo, hi] = x <= y ? [x, y] : [y, x];
          const low = compileConfig(doc({ flags: { r: rolloutFlag('r', salt, lo) } }));
          const high = compileConfig(doc({ flags: { r: rolloutFlag('r', salt, hi) } }));
          for (const key of units) {
            const a = evaluate(low, 'r', { key }, false);
            const b = evaluate(high, 'r', { key }, false);
            expect(a.reason).toBe(Reason.SPLIT);
            expect(a.value).toBe(refBucket(salt, key) < lo);
            if (a.value === true) expect(b.value).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a weighted split serves the first slice whose cumulative upper bound exceeds the bucket', () => {
    const weightsArb = fc.uniqueArray(fc.integer({ min: 0, max: 10000 }), { maxLength: 5 }).map((cuts) => {
      const sorted = [0, ...cuts.sort((a, b) => a - b), 10000];
      return sorted.slice(1).map((c, i) => (c - sorted[i]!) / 100);
    });
    fc.assert(
      fc.property(salts, weightsArb, unitIds, fc.boolean(), (salt, randomWeights, units, pin) => {
        // When pinned, the first cut is exactly units[0]'s bucket, so that unit sits on a boundary.
        const b0 = refBucket(salt, units[0]!);
        const weights = pin && b0 > 0 ? [b0 / 100, (10000 - b0) / 100] : randomWeights;
        const variants = weights.map((_, i) => ({ key: `v${i}`, value: i }));
        const f: Flag = {
          key: 'w',
          type: 'number',
          enabled: true,
          variants,
          salt,
          default_serve: { split: weights.map((weight, i) => ({ variant: `v${i}`, weight })) },
        };
        expect(validateConfig(doc({ flags: { w: f } })).ok).toBe(true);
        const c = compileConfig(doc({ flags: { w: f } }));
        for (const key of units) {
          const b = refBucket(salt, key);
          let upper = 0;
          let expected = weights.length - 1;
          for (let i = 0; i < weights.length - 1; i++) {
            upper += Math.round(weights[i]! * 100);
            if (b < upper) {
              expected = i;
              break;
            }
          }
          expect(evaluate(c, 'w', { key }, 0)).toEqual({ value: expected, variant: `v${expected}`, reason: 'SPLIT' });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a 30/70 split over 100,000 units lands within 1 % of its weights', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }), (salt) => {
        const c = compileConfig(doc({ flags: { s: rolloutFlag('s', salt, 3000) } }));
        let on = 0;
        const n = 100_000;
        for (let i = 0; i < n; i++) if (evaluate(c, 's', { key: `unit-${i}` }, false).value === true) on++;
        expect(Math.abs(on / n - 0.3)).toBeLessThan(0.01);
      }),
      { numRuns: 5 },
    );
  });
});

const experiment = (traffic: number, salt: string, extra: Partial<ConfigExperiment> = {}): ConfigExperiment => ({
  key: 'exp',
  status: 'RUNNING',
  salt,
  traffic_allocation: traffic,
  variants: [
    { key: 'control', weight: 25 },
    { key: 'b', weight: 25 },
    { key: 'c', weight: 50 },
  ],
  ...extra,
});

describe('experiments (property)', () => {
  const traffic = fc.integer({ min: 0, max: 10000 }).map((bp) => bp / 100);

  it('changing traffic allocation never moves an enrolled unit between variants, and raising it only adds units', () => {
    fc.assert(
      fc.property(salts, traffic, traffic, unitIds, fc.nat(2), (salt, r1, t2, units, pin) => {
        const t1 = pin === 0 ? r1 : (refBucket(`${salt}.traffic`, units[0]!) + pin - 1) / 100;
        const a = compileConfig(doc({ experiments: { exp: experiment(t1, salt) } }));
        const b = compileConfig(doc({ experiments: { exp: experiment(t2, salt) } }));
        for (const key of units) {
          const da = evaluate(a, 'exp', { key }, null);
          const db = evaluate(b, 'exp', { key }, null);
          expect(da.inExperiment).toBe(refBucket(`${salt}.traffic`, key) < Math.round(t1 * 100));
          if (da.inExperiment && db.inExperiment) expect(db.variant).toBe(da.variant);
          if (da.inExperiment && t1 <= t2) expect(db.inExperiment).toBe(true);
          if (!da.inExperiment) expect(da).toEqual({ value: null, variant: null, reason: 'DEFAULT', inExperiment: false });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('experiments on disjoint ranges of one namespace never share a unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => /^[A-Za-z0-9]/.test(k)),
        unitIds,
        fc.boolean(),
        (randomCut, ns, units, pin) => {
          const b0 = refBucket(`ns.${ns}`, units[0]!);
          const cut = pin && b0 > 0 ? b0 : randomCut;
          const c = compileConfig(
            doc({
              experiments: {
                left: { ...experiment(100, 'left', { namespace: { key: ns, start: 0, end: cut / 100 } }), key: 'left' },
                right: { ...experiment(100, 'right', { namespace: { key: ns, start: cut / 100, end: 100 } }), key: 'right' },
              },
            }),
          );
          for (const key of units) {
            const l = evaluate(c, 'left', { key }, null).inExperiment;
            const r = evaluate(c, 'right', { key }, null).inExperiment;
            expect(l !== r).toBe(true); // 100 % traffic: exactly one of them
            expect(l).toBe(refBucket(`ns.${ns}`, key) < cut);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

const REASONS = new Set<string>(Object.values(Reason));

function checkWellFormed(d: EvaluationDetail, document: ConfigDocument, key: string, def: unknown): void {
  expect(REASONS.has(d.reason)).toBe(true);
  const isExperiment =
    !Object.prototype.hasOwnProperty.call(document.flags, key) && Object.prototype.hasOwnProperty.call(document.experiments, key);
  if (d.variant === null) {
    expect(d.value).toBe(def);
  } else if (isExperiment) {
    const v = document.experiments[key]!.variants.find((x) => x.key === d.variant);
    expect(v).toBeDefined();
    expect(d.value).toEqual(v!.value === undefined ? v!.key : v!.value);
  } else {
    const v = document.flags[key]!.variants.find((x) => x.key === d.variant);
    expect(v).toBeDefined();
    expect(d.value).toEqual(v!.value);
  }
  if (d.variant !== null && def !== null && def !== undefined) expect(typeof d.value).toBe(typeof def);
  if (d.reason === Reason.ERROR) expect(d.errorCode).toBeDefined();
  else expect(d.errorCode).toBeUndefined();
  if (isExperiment) expect(typeof d.inExperiment).toBe('boolean');
  else expect(d.inExperiment).toBeUndefined();
  if (d.inExperiment === true) expect(d.reason).toBe(Reason.SPLIT);
}

describe('evaluate on arbitrary input (property)', () => {
  it('generates a useful share of valid documents', () => {
    // Guards the generator itself: if validation rejected nearly everything, the properties below would test little.
    const samples = fc.sample(documentArb, 20);
    expect(samples.length).toBe(20);
    expect(samples.some((d) => Object.values(d.flags).some((f) => (f.rules ?? []).some((r) => r.when !== undefined)))).toBe(true);
  });

  it('never throws, and returns a well-formed detail, for any schema-valid document and any context', () => {
    fc.assert(
      fc.property(documentArb, fc.array(contextArb, { minLength: 1, maxLength: 4 }), defaultArb, (document, contexts, def) => {
        const c = compileConfig(document);
        const keys = [...Object.keys(document.flags), ...Object.keys(document.experiments), 'missing-key', 'hasOwnProperty'];
        for (const ctx of contexts) {
          for (const key of keys) {
            let d: EvaluationDetail | undefined;
            expect(() => {
              d = evaluate(c, key, ctx as never, def);
            }).not.toThrow();
            checkWellFormed(d!, document, key, def);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic: same document and context, same result (also across compilations)', () => {
    fc.assert(
      fc.property(documentArb, contextArb, defaultArb, (document, ctx, def) => {
        const a = compileConfig(document);
        const b = compileConfig(structuredClone(document));
        for (const key of [...Object.keys(document.flags), ...Object.keys(document.experiments)]) {
          const first = evaluate(a, key, ctx as never, def);
          expect(evaluate(a, key, ctx as never, def)).toEqual(first);
          expect(evaluate(b, key, ctx as never, def)).toEqual(first);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('disabled flags always say DISABLED (or TYPE_MISMATCH), whatever the context', () => {
    fc.assert(
      fc.property(documentArb, contextArb, (document, ctx) => {
        const c = compileConfig(document);
        for (const f of Object.values(document.flags)) {
          if (f.enabled) continue;
          const d = evaluate(c, f.key, ctx as never, null);
          expect(d.reason).toBe(Reason.DISABLED);
          expect(d.variant).toBe(f.off_variant ?? null);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('never throws on hand-made documents with prerequisite and segment cycles', () => {
    const cyclic = documentArb.map((d) => {
      const flags = structuredClone(d.flags);
      // Close the loops the generator avoided: f0 -> f3 and s0 -> s2.
      flags.f0!.prerequisites = [...(flags.f0!.prerequisites ?? []), { flag: 'f3', variants: ['v0'] }];
      flags.f3!.prerequisites = [{ flag: 'f0', variants: ['v0'] }];
      const segments = structuredClone(d.segments);
      segments.s0!.when = { any: [{ segment: 's2' }] };
      segments.s2!.when = { not: { segment: 's0' } };
      return { ...d, flags, segments };
    });
    fc.assert(
      fc.property(cyclic, contextArb, (document, ctx) => {
        expect(validateConfig(document).ok).toBe(false);
        const c = compileConfig(document);
        for (const key of Object.keys(document.flags)) {
          const d = evaluate(c, key, ctx as never, null);
          checkWellFormed(d, document, key, null);
          // f0 and f3 are on a cycle: an enabled one can only fail its prerequisites.
          if ((key === 'f0' || key === 'f3') && document.flags[key]!.enabled) expect(d.reason).toBe(Reason.PREREQUISITE_FAILED);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('never throws on contexts that are not plain objects', () => {
    const c = compileConfig(
      doc({
        flags: {
          f: {
            ...rolloutFlag('f', 'f', 5000),
            rules: [{ id: 'r', when: { any: OPERATORS.map((op) => ({ attr: 'a', op, values: ['1'] })) }, serve: { variant: 'on' } }],
          },
        },
      }),
    );
    fc.assert(
      fc.property(fc.anything(), (ctx) => {
        const d = evaluate(c, 'f', ctx as never, false);
        expect(REASONS.has(d.reason)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
