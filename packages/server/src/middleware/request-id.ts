import type { MiddlewareHandler } from 'hono';
import { randomUUID } from 'node:crypto';
import type { AppEnv } from '../http/app-env';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Honours a sane incoming `X-Request-ID` (so a caller can trace its own id through our logs)
 * and otherwise mints one; every response carries it.
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header('x-request-id');
    const id = incoming !== undefined && SAFE_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', id);
    c.header('X-Request-ID', id);
    await next();
    c.header('X-Request-ID', id);
  };
}
