/**
 * This package's version, sent in `User-Agent` (kept equal to package.json by a test).
 *
 * @example
 * ```ts
 * log.info({ sdk: SDK_VERSION }, 'switchyard sdk');
 * ```
 */
export const SDK_VERSION = '0.1.0';
