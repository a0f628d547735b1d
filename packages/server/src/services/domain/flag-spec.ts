import { flagSchema } from '@switchyard/core/schema';
import { FLAG_STATE_FIELDS } from '../../store/legacy-flags';
import type { KindSpec } from './kind-spec';
import { sameJson } from './same-json';

const BOOLEAN_VARIANTS = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];

/** Keys of a flag's definition that are not part of what SDKs evaluate. */
const NOT_IN_CONFIG = ['description', 'tags', 'environments'] as const;

/** A flag's per-environment state. */
export type FlagState = Record<string, unknown>;

/** Whether `field` is one of a flag's per-environment state fields. */
export const isStateField = (field: string): boolean => (FLAG_STATE_FIELDS as readonly string[]).includes(field);

/** The definition part of a flag input or stored flag (no state fields, no `environments`). */
export function definitionOf(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!isStateField(k) && k !== 'environments') out[k] = v;
  return out;
}

/** The state fields present in `data`. */
export function stateFieldsOf(data: Record<string, unknown>): FlagState {
  const out: FlagState = {};
  for (const [k, v] of Object.entries(data)) if (isStateField(k)) out[k] = v;
  return out;
}

/**
 * Defaults of a flag's definition, as a LaunchDarkly or Unleash user would expect them: a
 * boolean flag without variants gets `on`/`off`; `name`, `salt` and `bucket_by` default to the
 * key, the key and `key`.
 */
export function normalizeDefinition(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  const key = out.key;
  if (out.name === undefined && typeof key === 'string') out.name = key;
  if (out.type === 'boolean' && out.variants === undefined) out.variants = BOOLEAN_VARIANTS.map((v) => ({ ...v }));
  out.bucket_by ??= 'key';
  if (out.salt === undefined && typeof key === 'string') out.salt = key;
  return out;
}

/**
 * Defaults of one environment's state: disabled; a boolean flag is off when disabled and
 * serves `on` to everyone once enabled; other types serve their first variant by default.
 */
export function normalizeState(state: FlagState, definition: Record<string, unknown>): FlagState {
  const out: FlagState = { ...state };
  out.enabled ??= false;
  const variants = Array.isArray(definition.variants) ? (definition.variants as { key?: unknown }[]) : [];
  const has = (k: string) => variants.some((v) => v?.key === k);
  if (out.off_variant === undefined && definition.type === 'boolean' && has('off')) out.off_variant = 'off';
  if (out.default_serve === undefined) {
    const first = definition.type === 'boolean' && has('on') ? 'on' : variants[0]?.key;
    if (typeof first === 'string') out.default_serve = { variant: first };
  }
  out.prerequisites ??= [];
  out.rules ??= [];
  return out;
}

/** A stored flag's state in `environment`: its own, or the defaults when it has none there yet. */
export function stateIn(data: Record<string, unknown>, environment: string): FlagState {
  const own = (data.environments as Record<string, FlagState> | undefined)?.[environment];
  return own ?? normalizeState({}, data);
}

/** The environments among `environments` where a stored flag's state is not the default one (what a create or delete of it touches). */
export const configuredEnvironments = (data: Record<string, unknown>, environments: readonly string[]): string[] =>
  environments.filter((e) => !sameJson(stateIn(data, e), normalizeState({}, data)));

/** The flag as one environment sees it: definition plus that environment's state (the config and API form). */
export function projectFlag(data: Record<string, unknown>, environment: string): Record<string, unknown> {
  return { ...definitionOf(data), ...stateIn(data, environment) };
}

/** The flag as the config document of `environment` carries it. */
export function configFlagIn(data: Record<string, unknown>, environment: string): Record<string, unknown> {
  const out = projectFlag(data, environment);
  for (const k of NOT_IN_CONFIG) delete out[k];
  return out;
}

/**
 * A flag's API attributes in the request environment: the definition, that environment's
 * state flattened at the top level, and every environment's state under `environments`.
 */
export function flagAttributes(
  data: Record<string, unknown>,
  environment: string,
  environments: readonly string[],
): Record<string, unknown> {
  return {
    ...projectFlag(data, environment),
    environments: Object.fromEntries(environments.map((e) => [e, stateIn(data, e)])),
  };
}

/**
 * Only the old single-document defaults (kept for callers that normalize a whole projected
 * flag, such as the demo seed): definition and state defaults at once.
 */
export function normalizeFlag(input: Record<string, unknown>): Record<string, unknown> {
  const def = normalizeDefinition(definitionOf(input));
  return { ...def, ...normalizeState(stateFieldsOf(input), def) };
}

/** Flags: validated by core's `flagSchema` in every environment, published under `flags` in each environment's config. */
export const flagSpec: KindSpec = {
  kind: 'flag',
  type: 'feature-flag',
  label: 'feature flag',
  normalize: normalizeFlag,
  schema: flagSchema,
  // Flags are enabled per environment: the status filter reads the request environment's state.
  statusOf: () => null,
  docField: 'flags',
};
