/**
 * `@switchyard/sdk-browser`: remote evaluation with a public client key. The server evaluates,
 * a stream pushes re-evaluated results, and the page never sees rules or segment lists. This
 * entry does not include core's evaluator (see `@switchyard/sdk-browser/local` for that).
 *
 * @packageDocumentation
 */
import { checkOptions, createClient, netOptions } from './client';
import { remoteSource } from './remote-source';
import type { BrowserClient, BrowserClientOptions } from './types';

/**
 * Creates a remote-mode client: the server evaluates every flag for the context
 * (`POST /sdk/v1/evaluate`) and streams re-evaluated results whenever the config changes.
 * Last session's values for the same context are served at once (reason `CACHED`) from
 * localStorage. Throws a `SwitchyardError` (`INVALID_OPTIONS`) only for unusable options;
 * evaluation never throws.
 *
 * @example
 * ```ts
 * import { createBrowserClient } from '@switchyard/sdk-browser';
 *
 * const client = createBrowserClient({
 *   clientKey: 'sy_cli_...',
 *   baseUrl: 'https://flags.example.com',
 *   context: { key: 'user-1', plan: 'pro' },
 * });
 * await client.ready();
 * if (client.boolean('new-checkout', false)) renderNewCheckout();
 * const arm = client.variant('checkout-exp'); // records one exposure
 * client.track('purchase', { value: 42.5 });
 * client.on('change', ({ keys }) => rerender(keys));
 * ```
 */
export function createBrowserClient(options: BrowserClientOptions): BrowserClient {
  const baseUrl = checkOptions(options ?? {}, options?.clientKey, 'clientKey');
  return createClient(options, baseUrl, options.clientKey, remoteSource(baseUrl, options.clientKey, netOptions(options)));
}

export { SwitchyardError, SwitchyardErrorCode } from './errors';
export type {
  BrowserClient,
  BrowserClientOptions,
  ClientEvents,
  ClientOptions,
  ClientStatus,
  Context,
  FlagDetail,
  LocalClientOptions,
  TrackData,
} from './types';
