/**
 * Codes of {@link SwitchyardError}.
 *
 * @example
 * ```ts
 * client.on('error', (e) => {
 *   if (e.code === SwitchyardErrorCode.STREAM_ERROR) showOfflineBadge();
 * });
 * ```
 */
export const SwitchyardErrorCode = {
  /** `createBrowserClient` / `createLocalClient` got options it cannot work with. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The server refused the key (HTTP 401 or 403). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The server answered with another non-2xx status. */
  HTTP_ERROR: 'HTTP_ERROR',
  /** The request did not reach the server (offline, DNS, CORS, server down). */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** The server's answer was not what the SDK expected. */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
  /** The update stream was lost; values are kept (reason `STALE`) while it reconnects. */
  STREAM_ERROR: 'STREAM_ERROR',
  /** An event was not queued: the context has no `key` to use as its unit id. */
  MISSING_KEY: 'MISSING_KEY',
  /** The server rejected an events batch as invalid (400); the batch was dropped. */
  EVENTS_REJECTED: 'EVENTS_REJECTED',
} as const;

/** One of {@link SwitchyardErrorCode}. */
export type SwitchyardErrorCode = (typeof SwitchyardErrorCode)[keyof typeof SwitchyardErrorCode];

/**
 * The one error class of the browser SDK. Evaluation never throws it; it rejects `ready()` and
 * `identify()` and is passed to `on('error')` listeners.
 *
 * @example
 * ```ts
 * client.ready().catch((e: SwitchyardError) => {
 *   if (e.code === 'UNAUTHORIZED') console.error('check the client key');
 * });
 * ```
 */
export class SwitchyardError extends Error {
  readonly code: SwitchyardErrorCode;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;

  constructor(code: SwitchyardErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'SwitchyardError';
    this.code = code;
    this.status = status;
  }
}
