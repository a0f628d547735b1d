/**
 * The SDK's error class and codes. They are the protocol's, shared with the browser SDK, so
 * code that handles errors reads the same on both sides.
 *
 * @example
 * ```ts
 * client.on('error', (err) => {
 *   if (err.code === SwitchyardErrorCode.UNAUTHORIZED) pageOnCall(err);
 * });
 * ```
 */
export { SwitchyardError, SwitchyardErrorCode } from '@switchyard/core/protocol';
