import { flagSchema } from '@switchyard/core/schema';
import type { KindSpec } from './resource-service';

const BOOLEAN_VARIANTS = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];

/**
 * Defaults of a flag, as a LaunchDarkly or Unleash user would expect them: created disabled;
 * a boolean flag without variants gets `on`/`off`, is off when disabled and serves `on` to
 * everyone once enabled; other types serve their first variant by default. `salt` and
 * `bucket_by` default to the key and `key`.
 */
export function normalizeFlag(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  const key = out.key;
  if (out.name === undefined && typeof key === 'string') out.name = key;
  out.enabled ??= false;
  if (out.type === 'boolean' && out.variants === undefined) out.variants = BOOLEAN_VARIANTS.map((v) => ({ ...v }));
  const variants = Array.isArray(out.variants) ? (out.variants as { key?: unknown }[]) : [];
  const has = (k: string) => variants.some((v) => v?.key === k);
  if (out.off_variant === undefined && out.type === 'boolean' && has('off')) out.off_variant = 'off';
  if (out.default_serve === undefined) {
    const first = out.type === 'boolean' && has('on') ? 'on' : variants[0]?.key;
    if (typeof first === 'string') out.default_serve = { variant: first };
  }
  out.bucket_by ??= 'key';
  if (out.salt === undefined && typeof key === 'string') out.salt = key;
  out.prerequisites ??= [];
  out.rules ??= [];
  return out;
}

/** Flags: stored, validated by core's `flagSchema`, published under `flags` in the config. */
export const flagSpec: KindSpec = {
  kind: 'flag',
  type: 'feature-flag',
  label: 'feature flag',
  normalize: normalizeFlag,
  schema: flagSchema,
  statusOf: (d) => (d.enabled === true ? 'enabled' : 'disabled'),
  docField: 'flags',
};
