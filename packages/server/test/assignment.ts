import { compileConfig, evaluate, type ConfigDocument } from '@switchyard/core';

type Variants = readonly { key: string; weight: number }[];
const FIFTY_FIFTY: Variants = [
  { key: 'control', weight: 50 },
  { key: 'treatment', weight: 50 },
];

const compiled = new Map<string, ReturnType<typeof compileConfig>>();

/**
 * The variant core assigns `unit` in a RUNNING experiment `key` (salt = key, all traffic, no
 * targeting, 50/50 control/treatment unless `variants` say otherwise): what an honest SDK reports,
 * and what the server checks exposures against.
 */
export function assignedVariant(key: string, unit: string, variants: Variants = FIFTY_FIFTY): string {
  const k = JSON.stringify([key, variants]);
  let c = compiled.get(k);
  if (c === undefined) {
    const doc = {
      schema_version: 1,
      version: 1,
      flags: {},
      segments: {},
      experiments: { [key]: { status: 'RUNNING', variants: [...variants], traffic_allocation: 100, bucket_by: 'key', salt: key } },
    } as unknown as ConfigDocument;
    c = compileConfig(doc);
    compiled.set(k, c);
  }
  const variant = evaluate(c, key, { key: unit }, null).variant;
  if (variant === null) throw new Error(`experiment '${key}' enrols no unit '${unit}'`);
  return variant;
}

/** `n` unit ids `<prefix>-<j>` that core assigns to `variant` in experiment `key`. */
export function unitsAssigned(key: string, variant: string, n: number, prefix: string, variants: Variants = FIFTY_FIFTY): string[] {
  const out: string[] = [];
  for (let j = 0; out.length < n; j++) {
    const unit = `${prefix}-${j}`;
    if (assignedVariant(key, unit, variants) === variant) out.push(unit);
  }
  return out;
}

/** The other arm of a 50/50 control/treatment experiment. */
export const otherArm = (variant: string): string => (variant === 'control' ? 'treatment' : 'control');
