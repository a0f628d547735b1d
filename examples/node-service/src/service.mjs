import { createServer } from 'node:http';
import { createClient } from './sdk.mjs';

/**
 * A checkout service: `GET /checkout?user=&email=&country=` answers which checkout the user gets
 * (the `new-checkout` flag) and which buy button (the `checkout-cta` experiment, which the
 * server's demo data runs); `POST /purchase` records a conversion; `GET /health` reports whether
 * flags are loaded.
 *
 * One Switchyard client per process, created at start-up and closed on shutdown: evaluation is
 * in-process (no network per request) and the config follows the server over SSE.
 *
 * @param {{ sdkKey: string, baseUrl: string, port?: number, host?: string, clientOptions?: object }} options
 */
export async function startService(options) {
  const client = createClient({ sdkKey: options.sdkKey, baseUrl: options.baseUrl, ...options.clientOptions });
  // Serve defaults rather than refuse to start when Switchyard is slow or down.
  await client.ready({ timeoutMs: 3000 }).catch(() => {});

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://service.local');
    const user = { key: url.searchParams.get('user') ?? 'anonymous' };
    // Only the attributes the request gives: a missing one fails every operator but not_exists.
    for (const attr of ['email', 'country']) {
      const value = url.searchParams.get(attr);
      if (value !== null) user[attr] = value;
    }
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/checkout') {
      const detail = client.detail('new-checkout', user, false);
      // `variant` records one exposure per user; null means "not in the experiment".
      const cta = client.variant('checkout-cta', user) ?? 'control';
      send(200, { user: user.key, checkout: detail.value ? 'new' : 'classic', reason: detail.reason, cta });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/purchase') {
      const amount = Number(url.searchParams.get('amount') ?? '0');
      client.track('purchase', user, { value: Number.isFinite(amount) ? amount : 0 });
      send(202, { ok: true });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/health') {
      send(200, { ready: client.isReady, configVersion: client.configVersion, ...client.stats() });
      return;
    }
    send(404, { error: 'not found' });
  });
  await new Promise((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://${address.address}:${address.port}`,
    client,
    /** Stops accepting requests, then delivers queued events. */
    async close() {
      await new Promise((resolve) => server.close(() => resolve(undefined)));
      await client.close();
    },
  };
}
