const CODES = [
  'INVALID_OPTIONS',
  'TIMEOUT',
  'CLOSED',
  'UNAUTHORIZED',
  'STREAM_ERROR',
  'FETCH_ERROR',
  'NETWORK_ERROR',
  'HTTP_ERROR',
  'INVALID_RESPONSE',
  'INVALID_CONFIG',
  'MISSING_KEY',
  'EVENTS_REJECTED',
  'EVENTS_UNDELIVERED',
] as const;

/**
 * One of {@link SwitchyardErrorCode}:
 *
 * - `INVALID_OPTIONS`: the client was given options it cannot work with;
 * - `TIMEOUT`: `ready()` waited longer than its timeout;
 * - `CLOSED`: the client was closed before the operation could finish;
 * - `UNAUTHORIZED`: the server refused the key (401/403); retrying cannot fix a wrong key;
 * - `STREAM_ERROR`: the stream failed, dropped or went silent; values are kept while it reconnects;
 * - `FETCH_ERROR`: a `GET /sdk/v1/config` (poll or reconcile) failed (Node);
 * - `NETWORK_ERROR`: a request got no answer (offline, DNS, CORS, server down, timed out);
 * - `HTTP_ERROR`: the server answered with an unexpected non-2xx status;
 * - `INVALID_RESPONSE`: the server's answer was not what the SDK expected;
 * - `INVALID_CONFIG`: a config document or patch could not be used; the previous one is kept;
 * - `MISSING_KEY`: an event was not queued, the context has no unit id (empty or missing key);
 * - `EVENTS_REJECTED`: the server rejected events as invalid; those (only those) were dropped;
 * - `EVENTS_UNDELIVERED`: events could not be delivered for now; they stay queued and are
 *   retried. Reported once per outage.
 */
export type SwitchyardErrorCode = (typeof CODES)[number];

/**
 * The codes of {@link SwitchyardError}, the same in the Node and browser SDKs. Messages are for
 * humans and may change; codes do not.
 *
 * @example
 * ```ts
 * client.on('error', (e) => {
 *   if (e.code === SwitchyardErrorCode.UNAUTHORIZED) pageOnCall(e);
 * });
 * ```
 */
// Built from the list: the browser bundles carry each name once instead of twice.
export const SwitchyardErrorCode = /* @__PURE__ */ Object.fromEntries(CODES.map((c) => [c, c])) as {
  readonly [K in SwitchyardErrorCode]: K;
};

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
  // `declare`: assigned in the constructor, and no class-field code in the browser bundles.
  declare readonly code: SwitchyardErrorCode;
  /** The HTTP status behind the error, when the server answered. */
  declare readonly status?: number;

  constructor(code: SwitchyardErrorCode, message: string, options: { status?: number | undefined; cause?: unknown } = {}) {
    super(message);
    this.name = 'SwitchyardError';
    (this as { code: string }).code = code;
    if (options.status !== undefined) (this as { status?: number }).status = options.status;
    // Set by hand rather than through Error's options argument, which ES2020 targets lack.
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
