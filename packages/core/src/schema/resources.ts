import { z } from 'zod';
import { EXPERIMENT_STATUSES, FLAG_TYPES, type FlagType, type Serve } from '../types';
import { conditionSchema } from './condition';

/** Keys of flags, segments and experiments. */
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * A flag, segment or experiment key.
 *
 * @example
 * ```ts
 * keySchema.parse('new-checkout');
 * ```
 */
export const keySchema = z
  .string()
  .regex(KEY_PATTERN, 'must start with a letter or digit and contain only letters, digits, ".", "_" or "-" (at most 128 characters)');

const jsonValueSchema: z.ZodType<unknown> = z.json();

/** A percentage with at most two decimals, 0-100. */
export const percentSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((w) => Math.abs(w * 100 - Math.round(w * 100)) < 1e-6, 'must have at most two decimals');

const variantSchema = z.object({ key: keySchema, value: jsonValueSchema });
const splitEntrySchema = z.object({ variant: z.string(), weight: percentSchema });

/** `{variant}`, `{split: [{variant, weight}]}` or `{experiment: key}`. */
export const serveSchema = z.union([
  z.strictObject({ variant: z.string() }),
  z.strictObject({ split: z.array(splitEntrySchema).min(1) }),
  z.strictObject({ experiment: keySchema }),
]);

const ruleSchema = z.object({ id: z.string().min(1).max(128), when: conditionSchema.optional(), serve: serveSchema });
const prerequisiteSchema = z.object({ flag: keySchema, variants: z.array(z.string()).min(1) });

type Issue = (message: string, path: (string | number)[]) => void;

/** Weights in basis points must sum to exactly 10,000. */
export function checkWeights(weights: readonly number[], path: (string | number)[], issue: Issue): void {
  const total = weights.reduce((a, w) => a + Math.round(w * 100), 0);
  if (total !== 10_000) issue(`weights must sum to 100 (they sum to ${total / 100})`, path);
}

function valueMatchesType(type: FlagType, value: unknown): boolean {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'json':
      return true;
  }
}

function checkServe(serve: Serve, variants: ReadonlySet<string>, path: (string | number)[], issue: Issue): void {
  if ('variant' in serve) {
    if (!variants.has(serve.variant)) issue(`unknown variant '${serve.variant}'`, [...path, 'variant']);
    return;
  }
  // Whether the experiment exists and its variants are the flag's needs the whole document (checkReferences).
  if ('experiment' in serve) return;
  serve.split.forEach((s, i) => {
    if (!variants.has(s.variant)) issue(`unknown variant '${s.variant}'`, [...path, 'split', i, 'variant']);
  });
  checkWeights(
    serve.split.map((s) => s.weight),
    [...path, 'split'],
    issue,
  );
}

/**
 * A flag's per-environment fields; every other field of {@link flagSchema} is its definition,
 * shared by every environment. The server's management API bodies are built from these lists
 * and `flagSchema.shape`, so a field added here reaches them.
 *
 * @example
 * ```ts
 * const isState = (FLAG_STATE_FIELDS as readonly string[]).includes('rules'); // true
 * ```
 */
export const FLAG_STATE_FIELDS = ['enabled', 'off_variant', 'prerequisites', 'rules', 'default_serve'] as const;
export type FlagStateField = (typeof FLAG_STATE_FIELDS)[number];

/**
 * A flag as it appears in the config document, with its saving-time checks: variant values of
 * the declared type, unique variant keys and rule ids, every referenced variant defined, split
 * weights summing to 100.
 *
 * @example
 * ```ts
 * const r = flagSchema.safeParse(body);
 * if (!r.success) console.log(r.error.issues.map((i) => i.path.join('.') + ': ' + i.message));
 * ```
 */
export const flagSchema = z
  .object({
    key: keySchema,
    name: z.string().max(256).optional(),
    description: z.string().max(4096).optional(),
    type: z.enum(FLAG_TYPES),
    enabled: z.boolean(),
    variants: z.array(variantSchema).min(1).max(100),
    off_variant: z.string().optional(),
    bucket_by: z.string().min(1).max(128).optional(),
    salt: z.string().max(256).optional(),
    prerequisites: z.array(prerequisiteSchema).max(50).optional(),
    rules: z.array(ruleSchema).max(500).optional(),
    default_serve: serveSchema,
  })
  .superRefine((flag, ctx) => {
    const issue: Issue = (message, path) => ctx.addIssue({ code: 'custom', message, path });
    const keys = new Set<string>();
    flag.variants.forEach((v, i) => {
      if (keys.has(v.key)) issue(`duplicate variant key '${v.key}'`, ['variants', i, 'key']);
      keys.add(v.key);
      if (!valueMatchesType(flag.type, v.value)) issue(`value must be of the flag's type '${flag.type}'`, ['variants', i, 'value']);
    });
    if (flag.off_variant !== undefined && !keys.has(flag.off_variant)) issue(`unknown variant '${flag.off_variant}'`, ['off_variant']);
    const ids = new Set<string>();
    (flag.rules ?? []).forEach((r, i) => {
      if (ids.has(r.id)) issue(`duplicate rule id '${r.id}'`, ['rules', i, 'id']);
      ids.add(r.id);
      checkServe(r.serve, keys, ['rules', i, 'serve'], issue);
    });
    checkServe(flag.default_serve, keys, ['default_serve'], issue);
    (flag.prerequisites ?? []).forEach((p, i) => {
      if (p.flag === flag.key) issue('a flag cannot be its own prerequisite', ['prerequisites', i, 'flag']);
    });
  })
  .meta({ id: 'Flag' });

/**
 * A segment: explicit `included`/`excluded` unit keys plus an optional condition.
 *
 * @example
 * ```ts
 * segmentSchema.parse({ key: 'beta-testers', included: ['u1'], excluded: [] });
 * ```
 */
export const segmentSchema = z
  .object({
    key: keySchema,
    name: z.string().max(256).optional(),
    description: z.string().max(4096).optional(),
    included: z.array(z.string().max(256)).max(100_000).optional(),
    excluded: z.array(z.string().max(256)).max(100_000).optional(),
    when: conditionSchema.optional(),
  })
  .meta({ id: 'Segment' });

/** An experiment arm: key, weight in percent, optional value. */
export const experimentVariantSchema = z.object({ key: keySchema, weight: percentSchema, value: jsonValueSchema.optional() });

/** A namespace range in percent, `[start, end)`. */
export const namespaceSchema = z
  .object({ key: keySchema, start: percentSchema, end: percentSchema })
  .refine((n) => n.start < n.end, { message: 'start must be below end', path: ['end'] });

/** Checks every experiment shape shares: at least two uniquely keyed variants whose weights sum to 100. */
export function checkExperimentVariants(variants: readonly { key: string; weight: number }[], issue: Issue): void {
  if (variants.length < 2) issue('an experiment needs at least two variants (the first is control)', ['variants']);
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if (seen.has(v.key)) issue(`duplicate variant key '${v.key}'`, ['variants', i, 'key']);
    seen.add(v.key);
  });
  checkWeights(
    variants.map((v) => v.weight),
    ['variants'],
    issue,
  );
}

/**
 * An experiment as the config document carries it: status, variants, targeting, traffic,
 * namespace, `bucket_by` and `salt`.
 *
 * @example
 * ```ts
 * configExperimentSchema.parse({ key: 'exp', status: 'RUNNING', variants: [{ key: 'control', weight: 50 }, { key: 'b', weight: 50 }] });
 * ```
 */
export const configExperimentSchema = z
  .object({
    key: keySchema.optional(),
    status: z.enum(EXPERIMENT_STATUSES),
    variants: z.array(experimentVariantSchema).max(20),
    targeting: conditionSchema.optional(),
    traffic_allocation: percentSchema.optional(),
    namespace: namespaceSchema.optional(),
    bucket_by: z.string().min(1).max(128).optional(),
    salt: z.string().max(256).optional(),
    rollout: z.object({ id: z.string().min(1).max(128), flag: keySchema }).optional(),
  })
  .superRefine((exp, ctx) => checkExperimentVariants(exp.variants, (message, path) => ctx.addIssue({ code: 'custom', message, path })))
  .meta({ id: 'ConfigExperiment' });
