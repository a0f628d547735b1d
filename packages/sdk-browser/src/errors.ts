/**
 * The SDK's error class and codes: the protocol's, shared with the Node SDK. Evaluation never
 * throws; a `SwitchyardError` rejects `ready()` and `identify()` and reaches `on('error')`.
 *
 * @example
 * ```ts
 * client.ready().catch((e: SwitchyardError) => {
 *   if (e.code === SwitchyardErrorCode.UNAUTHORIZED) console.error('check the client key');
 * });
 * ```
 */
export { SwitchyardError, SwitchyardErrorCode } from '@switchyard/core/protocol';
