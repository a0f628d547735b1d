/**
 * Codes of {@link SwitchyardError}, the same in the Node and browser SDKs. Messages are for
 * humans and may change; codes do not.
 *
 * @example
 * ```ts
 * client.on('error', (e) => {
 *   if (e.code === SwitchyardErrorCode.UNAUTHORIZED) pageOnCall(e);
 * });
 * ```
 */
export const SwitchyardErrorCode = {
  /** The client was given options it cannot work with. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** `ready()` waited longer than its timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The client was closed before the operation could finish. */
  CLOSED: 'CLOSED',
  /** The server refused the key (401/403). Retrying cannot fix a wrong key. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The stream failed, dropped or went silent; values are kept while it reconnects. */
  STREAM_ERROR: 'STREAM_ERROR',
  /** A request for the config or for evaluated values failed (network, timeout, non-2xx). */
  FETCH_ERROR: 'FETCH_ERROR',
  /** A request did not reach the server (offline, DNS, CORS, server down, timed out). */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** The server answered with an unexpected non-2xx status. */
  HTTP_ERROR: 'HTTP_ERROR',
  /** The server's answer was not what the SDK expected. */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
  /** A config document or patch could not be parsed or compiled; the previous config is kept. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** An event was not queued: the context has no unit id (an empty or missing key). */
  MISSING_KEY: 'MISSING_KEY',
  /** The server rejected events as invalid; those events (only those) were dropped. */
  EVENTS_REJECTED: 'EVENTS_REJECTED',
  /** Events could not be delivered for now; they stay queued and are retried. Reported once per outage. */
  EVENTS_UNDELIVERED: 'EVENTS_UNDELIVERED',
} as const;

/** One of {@link SwitchyardErrorCode}. */
export type SwitchyardErrorCode = (typeof SwitchyardErrorCode)[keyof typeof SwitchyardErrorCode];

/** Codes that concern analytics only: evaluation is unaffected, so an OpenFeature provider stays READY. */
export const EVENT_ERROR_CODES: readonly SwitchyardErrorCode[] = ['EVENTS_REJECTED', 'EVENTS_UNDELIVERED', 'MISSING_KEY'];

/**
 * The one error class of both SDKs. Evaluation never throws it; it reaches you through a
 * rejected `ready()`, an `'error'` event, or client creation when the options are unusable.
 *
 * @example
 * ```ts
 * try {
 *   await client.ready({ timeoutMs: 2000 });
 * } catch (e) {
 *   if (e instanceof SwitchyardError && e.code === 'TIMEOUT') {
 *     // keep going: evaluations serve defaults until the config arrives
 *   }
 * }
 * ```
 */
export class SwitchyardError extends Error {
  readonly code: SwitchyardErrorCode;
  /** The HTTP status behind the error, when the server answered. */
  readonly status?: number;

  constructor(code: SwitchyardErrorCode, message: string, options: { status?: number | undefined; cause?: unknown } = {}) {
    super(message);
    this.name = 'SwitchyardError';
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
    // Set by hand rather than through Error's options argument, which ES2020 targets lack.
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
