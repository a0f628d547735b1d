import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { toApiError } from './api-error';

/**
 * The server's named request schemas (generated from its OpenAPI document). Bodies are typed
 * with these at each API function's signature; openapi-fetch's own body check cannot follow the
 * recursive JSON value type of variants, so calls pass the already-typed body `as never`.
 */
export type Schemas = components['schemas'];

let csrfToken: string | null = null;
let environment: string | null = null;

/**
 * Remembers the session's CSRF token (in memory only: a reload asks `GET /auth/session`
 * again). The access token itself is in an HttpOnly cookie this code never sees.
 */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** The environment every request acts in, sent as `?environment=`; `null` for the server's default. */
export function setRequestEnvironment(key: string | null): void {
  environment = key;
}

/** The environment requests currently act in. */
export function requestEnvironment(): string | null {
  return environment;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

const sessionMiddleware: Middleware = {
  async onRequest({ request }) {
    if (!SAFE.has(request.method) && csrfToken !== null) request.headers.set('X-CSRF-Token', csrfToken);
    const url = new URL(request.url);
    // An explicit ?environment= (promote, per-environment toggles) wins over the switcher. The
    // audit log is not scoped by the switcher: there `environment` is a filter the page offers,
    // and changes that apply to every environment (flag definitions, users, keys) carry none.
    if (
      environment === null ||
      url.searchParams.has('environment') ||
      !url.pathname.startsWith('/api/v1/') ||
      url.pathname === '/api/v1/audit-log'
    )
      return request;
    url.searchParams.set('environment', environment);
    // Rebuild with the body as text: Chromium sends a streamed body only over HTTP/2.
    const body = SAFE.has(request.method) ? null : await request.text();
    return new Request(url, { method: request.method, headers: request.headers, body, credentials: 'same-origin' });
  },
};

/**
 * The typed API client: paths, parameters and request bodies come from the server's route
 * schemas, so a body the server would reject by shape does not compile.
 *
 * @example
 * ```ts
 * const { data } = await unwrap(api.GET('/api/v1/feature-flags', { params: { query: { limit: 200 } } }));
 * ```
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(sessionMiddleware);

/** A management API envelope: `data` and, for lists, `meta.pagination`. */
export interface Envelope<T> {
  data: T;
  meta?: { pagination?: { next_cursor: string | null; has_more: boolean } };
}

/**
 * Resolves an openapi-fetch call to its envelope, or throws an {@link ApiError} with the
 * server's code, message and per-field details.
 */
export async function unwrap<T>(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<Envelope<T>> {
  const { data, error, response } = await call;
  if (!response.ok) throw toApiError(response.status, error, response.headers.get('x-request-id'));
  return (data ?? { data: null }) as Envelope<T>;
}
