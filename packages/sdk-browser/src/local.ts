/**
 * `@switchyard/sdk-browser/local`: local evaluation for trusted apps. The whole config arrives
 * over SSE with a server key and core evaluates it in the page.
 *
 * @packageDocumentation
 */
import { checkOptions, createClient, netOptions } from './client';
import { localSource } from './local-source';
import type { BrowserClient, LocalClientOptions } from './types';

/**
 * Creates a local-mode client: it streams the full config document with a **server key** and
 * evaluates with `@switchyard/core` in the page, so `identify()` is instant and offline-safe.
 * A server key reads every rule and segment list: use this only in trusted apps (internal
 * tools, kiosks, Electron), never on a public site; public pages use `createBrowserClient`.
 *
 * @example
 * ```ts
 * import { createLocalClient } from '@switchyard/sdk-browser/local';
 *
 * const client = createLocalClient({ serverKey: 'sy_srv_...', baseUrl: 'https://flags.example.com', context: { key: 'agent-7' } });
 * await client.ready();
 * client.string('support-layout', 'classic');
 * await client.identify({ key: 'agent-8' }); // evaluated at once, no request
 * ```
 */
export function createLocalClient(options: LocalClientOptions): BrowserClient {
  const baseUrl = checkOptions(options ?? {}, options?.serverKey, 'serverKey');
  return createClient(options, baseUrl, options.serverKey, localSource(baseUrl, options.serverKey, netOptions(options)));
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
