import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { ApiError, ERROR_STATUS, type ErrorCode } from '../errors';
import { isStaleWrite, isStoreUnavailable } from '../store/store-errors';
import type { AppEnv } from './app-env';

/** The status recorded for a request whose client hung up before it was answered (nginx's convention). */
export const CLIENT_CLOSED_REQUEST = 499;

/**
 * Judged by the request itself, not the error's code: an ECONNRESET from the database is the
 * server's failure (a 503 once the store has typed it as unavailable).
 */
function clientWentAway(c: Context<AppEnv>): boolean {
  const incoming = c.env?.incoming;
  if (incoming === undefined) return false;
  return incoming.aborted || incoming.readableAborted || (incoming.destroyed && !incoming.complete);
}

/** Seconds a client is asked to wait before retrying while the database is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * The one place any error becomes the documented envelope. A store that is down or too slow
 * (a typed store error, whichever route or service met it) is a `503 SERVICE_UNAVAILABLE` with
 * `Retry-After`, which the SDKs retry; a compare-and-set that lost a race is a `409 CONFLICT`.
 * Unknown errors are logged with their stack and answered as INTERNAL_ERROR without it.
 */
export function createErrorHandler(logger: Logger, docsBaseUrl: string) {
  const envelope = (c: Context<AppEnv>, code: ErrorCode, message: string, details: unknown, headers?: Record<string, string>) => {
    for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v);
    const requestId = c.get('requestId') ?? '';
    c.header('X-Request-ID', requestId);
    return c.json(
      { error: { code, message, details: details ?? null, request_id: requestId, documentation_url: `${docsBaseUrl}/errors.md#${code}` } },
      ERROR_STATUS[code] as 400,
    );
  };
  const handler = (err: Error, c: Context<AppEnv>) => {
    if (err instanceof ApiError) return envelope(c, err.code, err.message, err.details, err.headers);
    if (isStoreUnavailable(err)) {
      (c.get('log') ?? logger).warn({ err: err.message }, 'database unavailable; answered 503');
      return envelope(
        c,
        'SERVICE_UNAVAILABLE',
        'the database is unavailable; nothing of this request was stored, retry later',
        { retry_after_seconds: UNAVAILABLE_RETRY_AFTER_SECONDS },
        { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      );
    }
    if (isStaleWrite(err)) return envelope(c, 'CONFLICT', err.message, null);
    if (err instanceof HTTPException) {
      const status = err.status;
      const code: ErrorCode =
        status === 413
          ? 'PAYLOAD_TOO_LARGE'
          : status === 401
            ? 'AUTHENTICATION_REQUIRED'
            : status === 403
              ? 'PERMISSION_DENIED'
              : status === 404
                ? 'RESOURCE_NOT_FOUND'
                : status < 500
                  ? 'VALIDATION_ERROR'
                  : 'INTERNAL_ERROR';
      return envelope(c, code, err.message || code, null);
    }
    if (clientWentAway(c)) {
      // Nobody is left to read an answer, and it is not the server's failure: not an error in
      // the log, and not a 500 in the metrics (499 is the de facto "client closed request").
      (c.get('log') ?? logger).debug({ err: err.message }, 'client closed the request');
      return c.body(null, CLIENT_CLOSED_REQUEST as 400);
    }
    (c.get('log') ?? logger).error({ err }, 'unhandled error');
    return envelope(c, 'INTERNAL_ERROR', 'an unexpected error occurred; the request id identifies it in the server log', null);
  };
  const notFoundHandler = (c: Context<AppEnv>) => envelope(c, 'RESOURCE_NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`, null);
  return { handler, notFoundHandler, envelope };
}
