/**
 * `@switchyard/sdk-browser/openfeature`: an OpenFeature web provider for `@openfeature/web-sdk`.
 *
 * @packageDocumentation
 */
export { SwitchyardWebProvider, toSwitchyardContext, type SwitchyardProviderOptions } from './provider';
