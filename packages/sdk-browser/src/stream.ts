import { SseEvent } from '@switchyard/core/protocol';
import { SwitchyardError } from './errors';
import { jitter } from './http';

/** Handlers of the stream's data events; each gets the parsed JSON `data`. */
export type StreamHandlers = Record<'put' | 'patch', (data: any) => void>;

/** What {@link openStream} reports besides data. */
export interface StreamOptions {
  /** Called on each (re)open, so the URL can carry the version held (resume). */
  url: () => string;
  handlers: StreamHandlers;
  /** The connection opened, or anything arrived on it (data or a heartbeat): the server is reachable. */
  onAlive(): void;
  /** The stream failed, timed out or went silent; it is being replaced. */
  onError(e: SwitchyardError): void;
  /** An open that takes longer than this fails (a stalled connection). */
  timeoutMs: number;
  /** An open stream silent for this long (about three missed heartbeats) is replaced. */
  staleAfterMs: number;
}

/**
 * Opens an SSE stream with the browser's EventSource and keeps one open. Every failure closes
 * the EventSource and opens a new one after a jittered backoff (the browser's own reconnect
 * uses a fixed delay, in step with every other page), resuming from the version held. An open
 * that does not complete within `timeoutMs`, and an open stream that hears neither data nor the
 * server's named `heartbeat` event for `staleAfterMs` (a NAT or proxy that dropped the
 * connection without a FIN, a laptop that slept), count as failures. Returns a function that
 * closes the stream for good.
 *
 * @example
 * ```ts
 * const close = openStream({ url: () => url, handlers: { put, patch }, onAlive, onError, timeoutMs: 10_000, staleAfterMs: 45_000 });
 * ```
 */
export function openStream(o: StreamOptions): () => void {
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let closed = false;

  const stop = () => {
    clearTimeout(timer);
    clearTimeout(watchdog);
    source?.close();
    source = undefined;
  };
  const fail = (why: string) => {
    if (closed) return;
    stop();
    o.onError(new SwitchyardError('STREAM_ERROR', `stream ${why}`));
    timer = setTimeout(open, jitter(++attempt));
  };
  const alive = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => fail('silent'), o.staleAfterMs);
    o.onAlive();
  };

  function open() {
    const es = (source = new EventSource(o.url()));
    timer = setTimeout(() => fail('timed out'), o.timeoutMs);
    es.onopen = () => {
      clearTimeout(timer);
      alive();
    };
    for (const name of [SseEvent.PUT, SseEvent.PATCH] as const) {
      es.addEventListener(name, (e) => {
        attempt = 0;
        alive();
        try {
          o.handlers[name](JSON.parse((e as MessageEvent<string>).data));
        } catch (err) {
          o.onError(new SwitchyardError('INVALID_RESPONSE', name, { cause: err }));
        }
      });
    }
    es.addEventListener(SseEvent.HEARTBEAT, alive);
    es.onerror = () => fail('lost');
  }

  open();
  return () => {
    closed = true;
    stop();
  };
}
