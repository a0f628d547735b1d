import { api, unwrap, type Envelope } from './client';

/**
 * Calls a route the server's published schema does not have yet (for example one a newer
 * server adds), through the same client and middleware. Prefer the typed `api` everywhere else.
 */
export function untyped<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Envelope<T>> {
  const loose = api as unknown as Record<
    string,
    (p: string, init: { body?: unknown }) => Promise<{ data?: unknown; error?: unknown; response: Response }>
  >;
  return unwrap<T>(loose[method]!(path, body === undefined ? {} : { body }));
}
