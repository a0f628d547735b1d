/**
 * Whether two stored values are the same as JSON, `undefined` as `null`. Key order counts: both
 * sides come from the same normalizer, so equal values serialize alike.
 *
 * @example
 * ```ts
 * sameJson(stateIn(before.data, 'production'), stateIn(after.data, 'production')); // no state change there
 * ```
 */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
