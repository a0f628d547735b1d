import { canonicalJson } from './canonical-json';

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/**
 * The fields of `draft` the person changed since they loaded `base`.
 *
 * @example
 * ```ts
 * changedFields({ enabled: true, rules: [] }, { enabled: true, rules: [rule] }); // ['rules']
 * ```
 */
export function changedFields<T extends object>(base: T, draft: T): (keyof T)[] {
  return (Object.keys(draft) as (keyof T)[]).filter((k) => !same(base[k], draft[k]));
}

/** One row of a conflict: a field, its value on the server now, and the person's. */
export interface ConflictRow<K> {
  field: K;
  theirs: unknown;
  yours: unknown;
  /** Both sides changed it (to different values): reapplying keeps the person's. */
  both: boolean;
}

/**
 * What a `412` means for an edit made from `base`: every field someone else changed since
 * (`latest` differs from `base`) or the person changed (`draft` differs from `base`), with the
 * server's current value beside the person's. A field only the other side changed is kept as
 * theirs when reapplying; a field only the person changed is theirs to reapply.
 *
 * @example
 * ```ts
 * conflictRows({ enabled: true, rules: [] }, { enabled: true, rules: [r] }, { enabled: false, rules: [] });
 * // [{ field: 'enabled', theirs: false, yours: true, both: false }, { field: 'rules', theirs: [], yours: [r], both: false }]
 * ```
 */
export function conflictRows<T extends object>(base: T, draft: T, latest: T): ConflictRow<keyof T>[] {
  return (Object.keys(draft) as (keyof T)[])
    .filter((k) => !same(base[k], latest[k]) || !same(base[k], draft[k]))
    .map((k) => ({
      field: k,
      theirs: latest[k],
      // A field the person did not touch is reapplied as the server has it now.
      yours: same(base[k], draft[k]) ? latest[k] : draft[k],
      both: !same(base[k], latest[k]) && !same(base[k], draft[k]) && !same(latest[k], draft[k]),
    }));
}

/**
 * The person's changes (the fields they changed since `base`) applied on top of `latest`: what
 * "reapply" saves, so a field someone else changed meanwhile (a kill switch turned off) is not
 * put back by an edit of another field.
 *
 * @example
 * ```ts
 * rebaseDraft({ enabled: true, rules: [] }, { enabled: true, rules: [r] }, { enabled: false, rules: [] });
 * // { enabled: false, rules: [r] }
 * ```
 */
export function rebaseDraft<T extends object>(base: T, draft: T, latest: T): T {
  const out = { ...latest };
  for (const k of changedFields(base, draft)) out[k] = draft[k];
  return out;
}
