import { SwitchyardClient } from './client';
import type { ClientOptions } from './options';

/**
 * Creates a client and starts syncing (unless `offline`). Create one per process and share it;
 * call `close()` on shutdown to deliver queued events.
 *
 * @example
 * ```ts
 * import { createClient } from '@switchyard/sdk-node';
 *
 * const client = createClient({ sdkKey: process.env.SWITCHYARD_SDK_KEY!, baseUrl: 'https://switchyard.internal' });
 * await client.ready({ timeoutMs: 2000 });
 * client.boolean('new-checkout', { key: 'user-1', country: 'US' }, false);
 *
 * // Tests: no network, a fixed config.
 * const offline = createClient({ offline: true, bootstrap: { schema_version: 1, version: 1, flags: {}, segments: {}, experiments: {} } });
 * ```
 */
export function createClient(options: ClientOptions): SwitchyardClient {
  return new SwitchyardClient(options);
}
