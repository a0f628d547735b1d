/**
 * `@switchyard/sdk-node/openfeature`: an OpenFeature server provider (`@openfeature/server-sdk`
 * is a peer dependency).
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { SwitchyardProvider } from '@switchyard/sdk-node/openfeature';
 *
 * await OpenFeature.setProviderAndWait(new SwitchyardProvider({ sdkKey, baseUrl }));
 * ```
 *
 * @packageDocumentation
 */
export { SwitchyardProvider, type SwitchyardProviderOptions } from './provider';
export { toSwitchyardContext } from './context';
