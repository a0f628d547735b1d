import { Agent, fetch as undiciFetch } from 'undici';
import { SDK_VERSION } from '../version';

/**
 * The parts of a fetch `Response` the SDK reads (a WHATWG `Response` fits).
 *
 * @example
 * ```ts
 * const res: HttpResponse = await fetch(url);
 * ```
 */
export interface HttpResponse {
  readonly status: number;
  readonly url: string;
  readonly redirected: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/**
 * The parts of `RequestInit` the SDK sets.
 *
 * @example
 * ```ts
 * const init: HttpRequestInit = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' };
 * ```
 */
export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * A fetch-compatible function. The default is undici's `fetch` over a keep-alive `Agent`; pass
 * your own (e.g. `globalThis.fetch`, a proxy-aware fetch) through the `fetch` option.
 *
 * @example
 * ```ts
 * import { ProxyAgent, fetch as undiciFetch } from 'undici';
 * const proxy = new ProxyAgent('http://proxy.internal:3128');
 * createClient({ sdkKey, baseUrl, fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: proxy }) as never });
 * ```
 */
export type FetchFunction = (url: string, init: HttpRequestInit) => Promise<HttpResponse>;

/** Every request the SDK makes goes through one transport: auth, User-Agent, timeouts. */
export interface Transport {
  /** Sends a request with the SDK headers; `timeoutMs` aborts it (0 = no timeout, for the stream). */
  request(url: string, init?: HttpRequestInit, timeoutMs?: number): Promise<HttpResponse>;
  /** Closes the keep-alive pool (when the SDK owns it). */
  close(): Promise<void>;
}

export interface TransportOptions {
  sdkKey: string;
  fetch?: FetchFunction | undefined;
  requestTimeoutMs: number;
}

/**
 * Creates the transport. One undici `Agent` is shared by the stream, config requests and event
 * batches, so batches reuse warm keep-alive connections instead of a TCP (and TLS) handshake each.
 */
export function createTransport(options: TransportOptions): Transport {
  let agent: Agent | null = null;
  const base: FetchFunction =
    options.fetch ??
    ((url, init) => {
      agent ??= new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 10 * 60_000, connect: { timeout: options.requestTimeoutMs } });
      // undici's Response is structurally a fetch Response; its stream types differ only nominally.
      return undiciFetch(url, { ...init, dispatcher: agent }) as unknown as Promise<HttpResponse>;
    });
  const sdkHeaders: Record<string, string> = {
    Authorization: `Bearer ${options.sdkKey}`,
    'User-Agent': `switchyard-sdk-node/${SDK_VERSION}`,
  };
  return {
    request(url, init = {}, timeoutMs = options.requestTimeoutMs) {
      const signals: AbortSignal[] = [];
      if (init.signal !== undefined) signals.push(init.signal);
      if (timeoutMs > 0) signals.push(AbortSignal.timeout(timeoutMs));
      const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
      const req: HttpRequestInit = { ...init, headers: { ...sdkHeaders, ...init.headers } };
      if (signal !== undefined) req.signal = signal;
      else delete req.signal;
      try {
        return base(url, req);
      } catch (err) {
        // A user-supplied fetch that throws synchronously still becomes a rejection.
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
    async close() {
      const a = agent;
      agent = null;
      // destroy(), not close(): close() waits for open requests, and a stream never finishes.
      if (a !== null) await a.destroy().catch(() => {});
    },
  };
}

/** Joins a base URL and a path without doubling or losing the slash. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}

/** Reads and discards a body so a keep-alive socket goes back to the pool. */
export async function drain(res: HttpResponse): Promise<string> {
  try {
    return await res.text();
  } catch {
    return '';
  }
}
