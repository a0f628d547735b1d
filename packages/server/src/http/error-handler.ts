import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { ApiError, ERROR_STATUS, type ErrorCode } from '../errors';
import type { AppEnv } from './app-env';

/**
 * The one place any error becomes the documented envelope. Unknown errors are logged with
 * their stack and answered as INTERNAL_ERROR without it.
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
    (c.get('log') ?? logger).error({ err }, 'unhandled error');
    return envelope(c, 'INTERNAL_ERROR', 'an unexpected error occurred; the request id identifies it in the server log', null);
  };
  const notFoundHandler = (c: Context<AppEnv>) => envelope(c, 'RESOURCE_NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`, null);
  return { handler, notFoundHandler, envelope };
}
