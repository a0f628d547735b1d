/**
 * What went wrong, as a stable string a program can branch on. Messages are for humans and may
 * change; codes do not.
 *
 * @example
 * ```ts
 * client.on('error', (err) => { if (err.code === SwitchyardErrorCode.UNAUTHORIZED) pageOnCall(err); });
 * ```
 */
export const SwitchyardErrorCode = {
  /** `ready()` waited longer than its timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The server refused the SDK key (401/403). Sync stops: retrying cannot fix a wrong key. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The client was closed before the operation could finish. */
  CLOSED: 'CLOSED',
  /** `createClient` was given options it cannot work with (missing key, unreadable bootstrap, ...). */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The stream connection failed or dropped; the client reconnects with backoff. */
  STREAM_ERROR: 'STREAM_ERROR',
  /** A `GET /sdk/v1/config` request (poll or reconcile) failed. */
  FETCH_ERROR: 'FETCH_ERROR',
  /** A config document or patch could not be parsed or compiled; the previous config is kept. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** The server rejected an event batch with a 4xx; those events were dropped. */
  EVENTS_REJECTED: 'EVENTS_REJECTED',
} as const;

/**
 * One of {@link SwitchyardErrorCode}.
 *
 * @example
 * ```ts
 * const fatal: SwitchyardErrorCode[] = ['UNAUTHORIZED'];
 * ```
 */
export type SwitchyardErrorCode = (typeof SwitchyardErrorCode)[keyof typeof SwitchyardErrorCode];

/**
 * The one error class of the SDK. Evaluation never throws it; it reaches you through a rejected
 * `ready()`, an `'error'` event, or `createClient` when its options are unusable.
 *
 * @example
 * ```ts
 * client.on('error', (err) => {
 *   if (err.code === 'UNAUTHORIZED') alert('check SWITCHYARD_SDK_KEY');
 * });
 * try {
 *   await client.ready({ timeoutMs: 2000 });
 * } catch (err) {
 *   if (err instanceof SwitchyardError && err.code === 'TIMEOUT') {
 *     // keep going: evaluations serve defaults until the config arrives
 *   }
 * }
 * ```
 */
export class SwitchyardError extends Error {
  readonly code: SwitchyardErrorCode;
  /** HTTP status behind the error, when there was one. */
  readonly status?: number;

  constructor(code: SwitchyardErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchyardError';
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
  }
}
