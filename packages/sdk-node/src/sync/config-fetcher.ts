import { drain, joinUrl, type Transport } from '../http/transport';
import { parseRetryAfter } from '@switchyard/core/protocol';

/** What one `GET /sdk/v1/config` produced. */
export type FetchConfigResult =
  | { kind: 'document'; body: unknown; etag: string | null }
  | { kind: 'not-modified' }
  /** 401/403: the key is wrong or revoked. */
  | { kind: 'unauthorized'; status: number }
  | { kind: 'error'; status: number | null; retryAfterMs: number | null; message: string };

/**
 * Fetches the whole config document, with `If-None-Match` so an unchanged config costs a `304`.
 * Used for polling and to reconcile when a patch cannot be applied. Never throws.
 */
export class ConfigFetcher {
  private readonly url: string;

  constructor(
    private readonly transport: Transport,
    baseUrl: string,
  ) {
    this.url = joinUrl(baseUrl, '/sdk/v1/config');
  }

  async fetch(etag: string | null, signal?: AbortSignal): Promise<FetchConfigResult> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (etag !== null) headers['If-None-Match'] = etag;
    let res;
    try {
      res = await this.transport.request(this.url, signal === undefined ? { headers } : { headers, signal });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { kind: 'error', status: null, retryAfterMs: null, message: e.cause?.code ?? e.message ?? String(err) };
    }
    const text = await drain(res);
    if (res.status === 304) return { kind: 'not-modified' };
    if (res.status === 401 || res.status === 403) return { kind: 'unauthorized', status: res.status };
    if (res.status !== 200) {
      return {
        kind: 'error',
        status: res.status,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
        message: `HTTP ${res.status}`,
      };
    }
    try {
      return { kind: 'document', body: JSON.parse(text) as unknown, etag: res.headers.get('etag') };
    } catch (err) {
      return { kind: 'error', status: 200, retryAfterMs: null, message: `malformed JSON: ${(err as Error).message}` };
    }
  }
}
