/** Codes of {@link CoreError}. */
export const CoreErrorCode = {
  INVALID_CONFIG: 'INVALID_CONFIG',
} as const;

/** One of {@link CoreErrorCode}. */
export type CoreErrorCode = (typeof CoreErrorCode)[keyof typeof CoreErrorCode];

/**
 * The one error class of `@switchyard/core`. Only compiling can throw it; evaluation never throws.
 *
 * @example
 * ```ts
 * try { compileConfig(doc); } catch (e) { if (e instanceof CoreError) console.error(e.code); }
 * ```
 */
export class CoreError extends Error {
  readonly code: CoreErrorCode;

  constructor(code: CoreErrorCode, message: string) {
    super(message);
    this.name = 'CoreError';
    this.code = code;
  }
}
