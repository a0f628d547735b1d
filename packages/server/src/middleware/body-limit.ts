import type { MiddlewareHandler } from 'hono';
import { bodyLimit as streamingBodyLimit } from 'hono/body-limit';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/app-env';

/**
 * Refuses bodies over `maxBytes` with `413 PAYLOAD_TOO_LARGE`. A body with a `Content-Length`
 * is judged by the header alone and left unread, so that routes can read it straight from
 * Node's request (`readBodyText`) instead of through a web stream; Node's parser never delivers
 * more bytes than the header announced. A chunked body is counted as it streams (hono's
 * body-limit middleware).
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () => {
    throw new ApiError('PAYLOAD_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
  };
  const streaming = streamingBodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async function bodyLimitMiddleware(c, next) {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streaming(c, next);
    if (Number(length) > maxBytes) tooLarge();
    c.set('bodyUnread', true);
    await next();
  };
}
