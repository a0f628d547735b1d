import fc from 'fast-check';
import { OPERATORS } from '../types';
import type { Condition, ConditionValue, ConfigDocument, ConfigExperiment, Flag, Operator, Segment } from '../types';
import { validateConfig } from '../schema';

// Arbitrary documents and hostile contexts, shared by the property tests.

export const ATTRS = ['country', 'age', 'plan', 'version', 'signup', 'tags', 'key', 'company_id', 'constructor', 'toString', '__proto__'];
export const SEGMENTS = ['s0', 's1', 's2'];
export const FLAGS = ['f0', 'f1', 'f2', 'f3', 'constructor'];
export const UNITS = ['u1', 'u2', 'u3', '42', 'José', '😀'];

export function valuesFor(op: Operator): fc.Arbitrary<ConditionValue[] | undefined> {
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

export const leafArb: fc.Arbitrary<Condition> = fc
  .tuple(fc.constantFrom(...ATTRS), fc.constantFrom(...OPERATORS))
  .chain(([attr, op]) => valuesFor(op).map((values) => (values === undefined ? { attr, op } : { attr, op, values })));

export const conditionArb = (segmentPool: string[]): fc.Arbitrary<Condition> =>
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
export const weightsArb = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 10000 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
    const sorted = [0, ...cuts.sort((a, b) => a - b), 10000];
    return sorted.slice(1).map((c, i) => (c - sorted[i]!) / 100);
  });

export const VALUE_BY_TYPE = {
  boolean: (i: number) => i % 2 === 0,
  string: (i: number) => `s${i}`,
  number: (i: number) => i * 1.5,
  json: (i: number) => (i % 2 ? [i, { i }] : { n: i }),
} as const;

/** What a rule or the default serves; with `experiments`, serving one of them is a third option. */
export function serveArb(n: number, experiments: readonly string[] = []): fc.Arbitrary<Flag['default_serve']> {
  return fc.oneof(
    ...(experiments.length ? [fc.constantFrom(...experiments).map((experiment) => ({ experiment }))] : []),
    fc.nat(n - 1).map((i) => ({ variant: `v${i}` })),
    fc
      .integer({ min: 1, max: n })
      .chain((k) => weightsArb(k).map((ws) => ({ split: ws.map((weight, i) => ({ variant: `v${i}`, weight })) }))),
  );
}

export function flagArb(
  key: string,
  index: number,
  prerequisitePool: readonly string[] = FLAGS.slice(0, index),
  experimentPool: readonly string[] = [],
): fc.Arbitrary<Flag> {
  const earlier = [...prerequisitePool];
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
          rules: fc.array(fc.record({ when: fc.option(conditionArb(SEGMENTS), { nil: undefined }), serve: serveArb(n, experimentPool) }), {
            maxLength: 3,
          }),
          default_serve: serveArb(n, experimentPool),
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

export function segmentArb(key: string, index: number): fc.Arbitrary<Segment> {
  return fc
    .record({
      included: fc.subarray(UNITS),
      excluded: fc.subarray(UNITS),
      when: fc.option(conditionArb(SEGMENTS.slice(0, index)), { nil: undefined }),
    })
    .map(({ included, excluded, when }) => (when === undefined ? { key, included, excluded } : { key, included, excluded, when }));
}

/** An experiment whose variant keys are `${variantPrefix}0`, `${variantPrefix}1`, ... */
export function experimentArb(key: string, variantPrefix = 'x'): fc.Arbitrary<ConfigExperiment> {
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
          variants: ws.map((weight, i) =>
            r.withValues ? { key: `${variantPrefix}${i}`, weight, value: `val-${i}` } : { key: `${variantPrefix}${i}`, weight },
          ),
        };
        if (r.targeting !== undefined) e.targeting = r.targeting;
        if (r.traffic !== undefined) e.traffic_allocation = r.traffic;
        if (r.ns !== undefined) e.namespace = { key: 'ns', start: r.ns[0] / 100, end: r.ns[1] / 100 };
        if (r.bucketBy !== undefined) e.bucket_by = r.bucketBy;
        return e;
      }),
    );
}

export const documentArb: fc.Arbitrary<ConfigDocument> = fc
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
export const attrValue = fc.oneof(
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
export const contextArb: fc.Arbitrary<Record<string, unknown>> = fc
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

export const defaultArb = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 3 }),
  fc.integer(),
  fc.constant({}),
  fc.constant(undefined),
);
