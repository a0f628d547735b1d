import { SwitchyardError } from './errors';

/** Handlers of the stream's named events; each gets the parsed JSON `data`. */
export type StreamHandlers = Record<'put' | 'patch', (data: any) => void>;

/**
 * Opens an SSE stream with the browser's EventSource. The browser reconnects by itself after a
 * network error (the server's `retry:` hint); when it gives up (an HTTP error, a proxy page) the
 * stream is reopened with backoff up to 30 s. `url` is called on each open so it can carry the
 * latest version. Returns a function that closes the stream for good.
 *
 * @example
 * ```ts
 * const close = openStream(() => url, { put: (d) => {}, patch: (d) => {} }, console.warn);
 * ```
 */
export function openStream(url: () => string, handlers: StreamHandlers, onError: (e: SwitchyardError) => void): () => void {
  let source: EventSource;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = 1000;
  const open = () => {
    source = new EventSource(url());
    for (const name of ['put', 'patch'] as const) {
      source.addEventListener(name, (e) => {
        delay = 1000;
        try {
          handlers[name](JSON.parse((e as MessageEvent<string>).data));
        } catch (err) {
          onError(new SwitchyardError('INVALID_RESPONSE', `${name}: ${(err as Error).message}`));
        }
      });
    }
    source.onerror = () => {
      onError(new SwitchyardError('STREAM_ERROR', 'stream lost, reconnecting'));
      if (source.readyState === 2) {
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 30_000);
      }
    };
  };
  open();
  return () => {
    clearTimeout(timer);
    source.close();
  };
}
