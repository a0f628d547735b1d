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
import type { Condition, ConditionValue, ConfigExperiment, Operator, Segment } from './types';
import { validateConfig } from './schema';

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

// ---- arbitrary valid documents and hostile contexts ---------------------------------------

const ATTRS = ['country', 'age', 'plan', 'version', 'signup', 'tags', 'key', 'company_id', 'constructor', 'toString', '__proto__'];
const SEGMENTS = ['s0', 's1', 's2'];
const FLAGS = ['f0', 'f1', 'f2', 'f3', 'constructor'];
const UNITS = ['u1', 'u2', 'u3', '42', 'José', '😀'];

function valuesFor(op: Operator): fc.Arbitrary<ConditionValue[] | undefined> {
  const list = <T extends ConditionValue>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: 1, maxLength: 3 });
  switch (op) {
    case 'exists':
    case 'not_exists':
      return fc.constant(undefined);
    case 'matches':
      return list(fc.constantFrom('^U', 'S$', '^\\d+$', 'a|b', '^(pro|team)$', '.*', '[^@]+@x\\.com'));
    case 'semver_eq':
    case 'semver_gt':
    case 'semver_gte':
    case 'semver_lt':
    case 'semver_lte':
      return list(fc.constantFrom('1.0.0', '1.2', '2', 'v2.0.0-rc.1', '0.9.9+b', 'garbage'));
    case 'before':
    case 'after':
      return list(fc.oneof(fc.constantFrom('2024-01-01T00:00:00Z', '2023-06-01', 'nope'), fc.integer({ min: 0, max: 2e12 })));
    default:
      return list(
        fc.oneof(
          fc.constantFrom('US', 'CA', 'pro', '', '30', 'true'),
          fc.integer({ min: -5, max: 50 }),
          fc.boolean(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        ),
      );
  }
}

const leafArb: fc.Arbitrary<Condition> = fc
  .tuple(fc.constantFrom(...ATTRS), fc.constantFrom(...OPERATORS))
  .chain(([attr, op]) => valuesFor(op).map((values) => (values === undefined ? { attr, op } : { attr, op, values })));

const conditionArb = (segmentPool: string[]): fc.Arbitrary<Condition> =>
  fc.letrec<{ cond: Condition }>((tie) => ({
    cond: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leafArb,
      ...(segmentPool.length ? [fc.constantFrom(...segmentPool).map((segment) => ({ segment }))] : []),
      fc.array(tie('cond'), { maxLength: 3 }).map((all) => ({ all })),
      fc.array(tie('cond'), { maxLength: 3 }).map((any) => ({ any })),
      tie('cond').map((not) => ({ not })),
    ),
  })).cond;

/** Weights in percent with two decimals summing to exactly 100. */
const weightsArb = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 10000 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
    const sorted = [0, ...cuts.sort((a, b) => a - b), 10000];
    return sorted.slice(1).map((c, i) => (c - sorted[i]!) / 100);
  });

const VALUE_BY_TYPE = {
  boolean: (i: number) => i % 2 === 0,
  string: (i: number) => `s${i}`,
  number: (i: number) => i * 1.5,
  json: (i: number) => (i % 2 ? [i, { i }] : { n: i }),
} as const;

function serveArb(n: number): fc.Arbitrary<Flag['default_serve']> {
  return fc.oneof(
    fc.nat(n - 1).map((i) => ({ variant: `v${i}` })),
    fc
      .integer({ min: 1, max: n })
      .chain((k) => weightsArb(k).map((ws) => ({ split: ws.map((weight, i) => ({ variant: `v${i}`, weight })) }))),
  );
}

function flagArb(key: string, index: number): fc.Arbitrary<Flag> {
  const earlier = FLAGS.slice(0, index);
  return fc
    .record({
      type: fc.constantFrom('boolean', 'string', 'number', 'json' as const),
      n: fc.integer({ min: 1, max: 4 }),
      enabled: fc.boolean(),
      withOff: fc.boolean(),
      bucketBy: fc.option(fc.constantFrom('key', 'company_id'), { nil: undefined }),
      salt: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
    })
    .chain(({ type, n, enabled, withOff, bucketBy, salt }) =>
      fc
        .record({
          rules: fc.array(fc.record({ when: fc.option(conditionArb(SEGMENTS), { nil: undefined }), serve: serveArb(n) }), { maxLength: 3 }),
          default_serve: serveArb(n),
          off: fc.nat(n - 1),
          prerequisites: earlier.length
            ? fc.array(
                fc.constantFrom(...earlier).map((flag) => ({ flag, variants: ['v0'] })),
                { maxLength: 2 },
              )
            : fc.constant<{ flag: string; variants: string[] }[]>([]),
        })
        .map(({ rules, default_serve, off, prerequisites }) => {
          const f: Flag = {
            key,
            type,
            enabled,
            variants: Array.from({ length: n }, (_, i) => ({ key: `v${i}`, value: VALUE_BY_TYPE[type](i) })),
            rules: rules.map((r, i) =>
              r.when === undefined ? { id: `r${i}`, serve: r.serve } : { id: `r${i}`, when: r.when, serve: r.serve },
            ),
            default_serve,
          };
          if (withOff) f.off_variant = `v${off}`;
          if (bucketBy !== undefined) f.bucket_by = bucketBy;
          if (salt !== undefined) f.salt = salt;
          if (prerequisites.length) f.prerequisites = prerequisites;
          return f;
        }),
    );
}

function segmentArb(key: string, index: number): fc.Arbitrary<Segment> {
  return fc
    .record({
      included: fc.subarray(UNITS),
      excluded: fc.subarray(UNITS),
      when: fc.option(conditionArb(SEGMENTS.slice(0, index)), { nil: undefined }),
    })
    .map(({ included, excluded, when }) => (when === undefined ? { key, included, excluded } : { key, included, excluded, when }));
}

function experimentArb(key: string): fc.Arbitrary<ConfigExperiment> {
  return fc
    .record({
      status: fc.constantFrom('DRAFT', 'RUNNING', 'RUNNING', 'PAUSED', 'COMPLETED', 'ARCHIVED' as const),
      n: fc.integer({ min: 2, max: 4 }),
      withValues: fc.boolean(),
      targeting: fc.option(conditionArb(SEGMENTS), { nil: undefined }),
      traffic: fc.option(
        fc.integer({ min: 0, max: 10000 }).map((b) => b / 100),
        { nil: undefined },
      ),
      ns: fc.option(
        fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 10000 })).filter(([a, b]) => a < b),
        { nil: undefined },
      ),
      bucketBy: fc.option(fc.constantFrom('key', 'company_id'), { nil: undefined }),
    })
    .chain((r) =>
      weightsArb(r.n).map((ws) => {
        const e: ConfigExperiment = {
          key,
          status: r.status,
          variants: ws.map((weight, i) => (r.withValues ? { key: `x${i}`, weight, value: `val-${i}` } : { key: `x${i}`, weight })),
        };
        if (r.targeting !== undefined) e.targeting = r.targeting;
        if (r.traffic !== undefined) e.traffic_allocation = r.traffic;
        if (r.ns !== undefined) e.namespace = { key: 'ns', start: r.ns[0] / 100, end: r.ns[1] / 100 };
        if (r.bucketBy !== undefined) e.bucket_by = r.bucketBy;
        return e;
      }),
    );
}

const documentArb: fc.Arbitrary<ConfigDocument> = fc
  .record({
    flags: fc.tuple(...FLAGS.map((k, i) => flagArb(k, i))),
    segments: fc.tuple(...SEGMENTS.map((k, i) => segmentArb(k, i))),
    experiments: fc.tuple(experimentArb('e0'), experimentArb('e1')),
    version: fc.nat(),
  })
  .map(({ flags, segments, experiments, version }) => ({
    schema_version: 1 as const,
    version,
    flags: Object.fromEntries(flags.map((f) => [f.key, f])),
    segments: Object.fromEntries(segments.map((s) => [s.key, s])),
    experiments: Object.fromEntries(experiments.map((e) => [e.key, e])),
  }))
  .filter((d) => validateConfig(d).ok);

/** Attribute values of every kind, typed ones that conditions may actually match included. */
const attrValue = fc.oneof(
  fc.constantFrom('US', 'CA', 'pro', '', '30', 'true', '1.2.3', 'v2.0.0-rc.1', '2024-01-01T00:00:00Z', 'u1', 'José', '\ud800'),
  fc.integer({ min: -5, max: 50 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: false }),
  fc.array(fc.oneof(fc.constantFrom('US', 'pro', 'a'), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.anything({ maxDepth: 2 }),
);

const throwing = () => {
  throw new Error('hostile getter');
};
const contextArb: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    attrs: fc.dictionary(fc.oneof(fc.constantFrom(...ATTRS), fc.string({ maxLength: 6 })), attrValue, { maxKeys: 6 }),
    key: fc.option(
      fc.oneof(fc.constantFrom(...UNITS), fc.string({ unit: 'binary', maxLength: 8 }), fc.integer(), fc.double(), fc.boolean()),
      { nil: undefined },
    ),
    hostile: fc.option(fc.constantFrom(...ATTRS), { freq: 8, nil: undefined }),
    nullProto: fc.boolean(),
  })
  .map(({ attrs, key, hostile, nullProto }) => {
    const ctx: Record<string, unknown> = nullProto ? Object.create(null) : {};
    for (const [k, v] of Object.entries(attrs))
      Object.defineProperty(ctx, k, { value: v, enumerable: true, configurable: true, writable: true });
    if (key !== undefined) ctx.key = key;
    if (hostile !== undefined) Object.defineProperty(ctx, hostile, { get: throwing, enumerable: true, configurable: true });
    return ctx;
  });

const defaultArb = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 3 }),
  fc.integer(),
  fc.constant({}),
  fc.constant(undefined),
);
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
