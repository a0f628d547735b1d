/** `T` without its `undefined` values: each key optional, and present only with a value. */
export type DefinedOf<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/**
 * The fields of `options` that are set, so a spread over defaults does not put `undefined` back
 * (and optional properties stay absent rather than `undefined`, as `exactOptionalPropertyTypes` wants).
 *
 * @example
 * ```ts
 * const sizing = { ...PG_POOL_DEFAULTS, ...definedOf({ max: options.pgPoolMax }) }; // max stays 10 when unset
 * ```
 */
export function definedOf<T extends object>(options: T): DefinedOf<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as DefinedOf<T>;
}
