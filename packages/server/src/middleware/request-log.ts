import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { AppEnv } from '../http/app-env';

/** One structured line per request, with a child logger bound to the request id for handlers. */
export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async function requestLogMiddleware(c, next) {
    const start = performance.now();
    const log = logger.child({ request_id: c.get('requestId') });
    c.set('log', log);
    await next();
    log.info(
      { method: c.req.method, path: c.req.path, status: c.res.status, duration_ms: Math.round((performance.now() - start) * 10) / 10 },
      'request',
    );
  };
}
