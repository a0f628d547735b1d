import { SwitchyardError } from './errors';

/**
 * One request to the server with the key in `X-API-Key`, aborted after `timeoutMs` (a stalled
 * connection must not hang `ready()`). `GET` without a body, `POST` with a JSON one. A request
 * that gets no answer becomes a {@link SwitchyardError} `NETWORK_ERROR`; any answer is returned.
 */
export async function request(url: string, key: string, body: unknown, timeoutMs: number): Promise<Response> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return await fetch(url, {
      method: body ? 'POST' : 'GET',
      // x-api-key already makes every request preflighted, so a content type on a GET costs nothing.
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : null,
      signal: abort.signal,
    });
  } catch (e) {
    throw new SwitchyardError('NETWORK_ERROR', `${url}: ${abort.signal.aborted ? 'timed out' : (e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

/** {@link request}, then the JSON body of a `2xx`; anything else becomes a {@link SwitchyardError}. */
export async function requestJson(url: string, key: string, body: unknown, timeoutMs: number): Promise<any> {
  const res = await request(url, key, body, timeoutMs);
  if (!res.ok) {
    const code = res.status === 401 || res.status === 403 ? 'UNAUTHORIZED' : 'HTTP_ERROR';
    throw new SwitchyardError(code, `${url} answered ${res.status}`, { status: res.status });
  }
  try {
    return await res.json();
  } catch (e) {
    throw new SwitchyardError('INVALID_RESPONSE', `${url}: not JSON`, { cause: e });
  }
}

/**
 * A full-jitter backoff delay for attempt `n` (from 1): uniform up to `min(30 s, 1 s * 2^(n-1))`,
 * plus 100 ms, so a fleet of pages reconnecting after a server restart spreads out.
 */
export function jitter(n: number): number {
  return 100 + Math.random() * Math.min(30_000, 500 * 2 ** Math.min(n, 6));
}
