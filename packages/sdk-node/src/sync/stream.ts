import { EventSource, type FetchLike } from 'eventsource';
import { drain, joinUrl, type Transport } from '../http/transport';
import { parseRetryAfter } from '@switchyard/core/protocol';

/** Why a stream connection ended. */
export type StreamFailure =
  /** 401/403: wrong or revoked key. */
  | { kind: 'unauthorized'; status: number; message: string }
  /** The server (or a proxy) answered but not with an event stream: fall back to polling. */
  | { kind: 'refused'; status: number; message: string }
  /** Network error, 5xx, 429, or a stream that ended: reconnect with backoff. */
  | { kind: 'retry'; status: number | null; retryAfterMs: number | null; message: string };

export interface StreamHandlers {
  onOpen(): void;
  /** Any bytes arrived (events, comments such as heartbeats): the connection is alive. */
  onActivity(): void;
  onPut(data: string, id: string): void;
  onPatch(data: string, id: string): void;
  /** Called at most once; the connection is finished. */
  onFailure(failure: StreamFailure): void;
}

export interface StreamConnectionOptions {
  transport: Transport;
  baseUrl: string;
  /** The version held, to resume from (`Last-Event-ID`); `null` asks for a full `put`. */
  lastEventId: string | null;
  /**
   * The request fails when the response headers take longer than this (a server or proxy that
   * accepts the connection and says nothing). Once they are in, the silence watchdog takes over.
   */
  headersTimeoutMs: number;
  handlers: StreamHandlers;
  /** A handler threw (a bug): reported here instead of crashing the process. */
  onInternalError: (err: unknown) => void;
}

/**
 * One SSE connection to `GET /sdk/v1/stream`, through `eventsource` with our fetch.
 *
 * `eventsource` would reconnect on its own at a fixed interval; instead each connection is used
 * once and the synchronizer makes the next one, so reconnects get exponential backoff with full
 * jitter, resume from the version actually held, and honour `Retry-After`. The fetch wrapper
 * also sees what `eventsource` hides: the status and headers of a refused request, and every
 * chunk, heartbeat comments included, which is what liveness is judged on.
 */
export class StreamConnection {
  private readonly es: EventSource;
  private done = false;
  private status: number | null = null;
  private contentType = '';
  private retryAfterMs: number | null = null;

  constructor(private readonly options: StreamConnectionOptions) {
    const { handlers } = options;
    this.es = new EventSource(joinUrl(options.baseUrl, '/sdk/v1/stream'), { fetch: this.fetch });
    // EventTarget rethrows a listener's exception as an uncaught exception (a crashed process),
    // so every listener is fenced; the handlers are not expected to throw, this is insurance.
    const fenced = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        options.onInternalError(err);
      }
    };
    this.es.addEventListener('open', () => fenced(() => !this.done && handlers.onOpen()));
    this.es.addEventListener('put', (e: MessageEvent) => fenced(() => !this.done && handlers.onPut(String(e.data), e.lastEventId)));
    this.es.addEventListener('patch', (e: MessageEvent) => fenced(() => !this.done && handlers.onPatch(String(e.data), e.lastEventId)));
    this.es.addEventListener('error', (e: Event) => fenced(() => this.fail(e as Event & { message?: string })));
  }

  /** Ends the connection without reporting a failure (shutdown, or a silent connection being replaced). */
  close(): void {
    this.done = true;
    this.es.close();
  }

  private fail(e: { message?: string }): void {
    if (this.done) return;
    this.done = true;
    // eventsource arms its own reconnect timer right after dispatching 'error'; closing on the
    // next microtask clears it, so nothing but our backoff ever reconnects.
    queueMicrotask(() => this.es.close());
    const status = this.status;
    const message = e.message ?? 'stream error';
    let failure: StreamFailure;
    if (status === 401 || status === 403) failure = { kind: 'unauthorized', status, message: `HTTP ${status}` };
    else if (status === 200 && !this.contentType.startsWith('text/event-stream'))
      failure = { kind: 'refused', status, message: `not an event stream (content-type ${JSON.stringify(this.contentType)})` };
    else if (status === null || status === 200 || status === 408 || status === 429 || (status >= 500 && status !== 501)) {
      failure = {
        kind: 'retry',
        status,
        retryAfterMs: this.retryAfterMs,
        message: status === null || status === 200 ? message : `HTTP ${status}`,
      };
    } else failure = { kind: 'refused', status, message: `HTTP ${status}` };
    this.options.handlers.onFailure(failure);
  }

  private readonly fetch: FetchLike = async (url, init) => {
    const headers: Record<string, string> = { ...init.headers };
    if (this.options.lastEventId !== null) headers['Last-Event-ID'] = this.options.lastEventId;
    const headersTimeout = new AbortController();
    const timer = setTimeout(
      () => headersTimeout.abort(new Error(`no response headers within ${this.options.headersTimeoutMs} ms`)),
      this.options.headersTimeoutMs,
    );
    const signals = [headersTimeout.signal];
    if (init.signal !== undefined && init.signal !== null) signals.push(init.signal as AbortSignal);
    const req = { method: 'GET', headers, signal: AbortSignal.any(signals) };
    // The transport's own timeout would also cut the body: the stream is bounded only until its
    // headers arrive, then the synchronizer's silence watchdog covers a connection that hangs.
    let res;
    try {
      res = await this.options.transport.request(String(url), req, 0);
    } finally {
      clearTimeout(timer);
    }
    this.status = res.status;
    this.contentType = res.headers.get('content-type') ?? '';
    this.retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    const base = { url: res.url, status: res.status, redirected: res.redirected, headers: res.headers };
    if (res.status !== 200 || !this.contentType.startsWith('text/event-stream') || res.body === null) {
      // eventsource fails these without reading the body; reading it frees the keep-alive socket.
      void drain(res);
      return { ...base, body: null };
    }
    const reader = res.body.getReader();
    const onActivity = this.options.handlers.onActivity;
    const done = () => this.done;
    return {
      ...base,
      body: {
        getReader: () => ({
          async read() {
            const r = await reader.read();
            if (!r.done && !done()) onActivity();
            return r;
          },
          cancel: (reason?: unknown) => reader.cancel(reason),
        }),
      },
    };
  };
}
