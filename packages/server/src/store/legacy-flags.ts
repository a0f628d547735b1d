import { FLAG_STATE_FIELDS } from '@switchyard/core/schema';

/** A flag's per-environment fields (core's list); everything else of a flag is its definition, shared by every environment. */
export { FLAG_STATE_FIELDS };

/**
 * The stored form of a flag saved before environments existed: its state fields move under
 * `environments.<environment>` (the default environment of a migrated store is `production`).
 * A flag already in the new form is returned as it is.
 *
 * @example
 * ```ts
 * upgradeLegacyFlag({ key: 'a', type: 'boolean', enabled: true }, 'production');
 * // { key: 'a', type: 'boolean', environments: { production: { enabled: true } } }
 * ```
 */
export function upgradeLegacyFlag(data: Record<string, unknown>, environment: string): Record<string, unknown> {
  if (typeof data.environments === 'object' && data.environments !== null) return data;
  const out: Record<string, unknown> = {};
  const state: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if ((FLAG_STATE_FIELDS as readonly string[]).includes(k)) state[k] = v;
    else out[k] = v;
  }
  out.environments = { [environment]: state };
  return out;
}
