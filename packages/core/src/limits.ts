/**
 * Longest string attribute an operator looks at, in UTF-16 code units (JavaScript's
 * `string.length`). A longer string is treated as missing by every operator — all are false
 * except `not_exists` — so the cost of evaluating a rule is bounded by the config, not by the
 * caller's input. Every Switchyard SDK and the server apply the same limit.
 *
 * @example
 * ```ts
 * isPresent('x'.repeat(MAX_ATTRIBUTE_LENGTH)); // true
 * isPresent('x'.repeat(MAX_ATTRIBUTE_LENGTH + 1)); // false: treated as missing
 * ```
 */
export const MAX_ATTRIBUTE_LENGTH = 4096;

/**
 * Whether an attribute value counts as present for the operators: not `undefined` or `null`, and
 * not a string over {@link MAX_ATTRIBUTE_LENGTH}.
 *
 * @example
 * ```ts
 * isPresent(null); // false
 * isPresent(0); // true
 * ```
 */
export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && (typeof v !== 'string' || v.length <= MAX_ATTRIBUTE_LENGTH);
}
