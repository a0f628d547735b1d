import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { createHash } from 'node:crypto';
import { createAuthenticator, credentialOf } from './auth/authenticate';
import type { AppEnv } from './http/app-env';
import { createErrorHandler, UNAVAILABLE_RETRY_AFTER_SECONDS } from './http/error-handler';
import { checkDependencies } from './services/infra/readiness';
import { mount, type RouteDef } from './http/route';
import { bodyLimit } from './middleware/body-limit';
import { metricsMiddleware } from './middleware/metrics';
import { rateLimit } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import { requestLog } from './middleware/request-log';
import { buildOpenApi } from './openapi/document';
import { mountDocs } from './openapi/docs-page';
import { apiKeyRoutes } from './routes/api-keys';
import { auditLogRoutes } from './routes/audit-log';
import { authRoutes } from './routes/auth';
import { sessionRoutes } from './routes/session';
import { sessionTokenRoutes } from './routes/session-token';
import { findConsoleDir } from './console/console-dir';
import { consoleHandler } from './console/serve-console';
import { featureFlagRoutes } from './routes/feature-flags';
import { segmentRoutes } from './routes/segments';
import { IMPORT_PATH, importRoutes } from './routes/import';
import { userRoutes } from './routes/users';
import { mountOfrep, ofrepOpenApiPaths } from './routes/ofrep';
import { experimentRoutes } from './routes/experiments';
import { eventBatchRoutes, sdkRoutes } from './routes/sdk';
import { clientIpOf, commitMutation, originOf, type ServerContext } from './services/context';
import { ApiError } from './errors';
import { environmentRoutes } from './routes/environments';
import { webhookRoutes } from './routes/webhooks';
import { rolloutRoutes } from './routes/rollouts';
import { resolveEnvironment } from './services/domain/environments';

/** Route groups by prefix; later features add their own groups here. */
export function routeGroups(ctx: ServerContext): { prefix: string; routes: RouteDef<any, any>[] }[] {
  return [
    {
      prefix: '/api/v1',
      routes: [
        ...authRoutes(ctx),
        ...sessionRoutes(ctx),
        ...sessionTokenRoutes(ctx),
        ...userRoutes(ctx),
        ...apiKeyRoutes(ctx),
        ...environmentRoutes(ctx),
        ...featureFlagRoutes(ctx),
        ...rolloutRoutes(ctx),
        ...segmentRoutes(ctx),
        ...importRoutes(ctx),
        ...experimentRoutes(ctx),
        ...eventBatchRoutes(ctx),
        ...auditLogRoutes(ctx),
        ...webhookRoutes(ctx),
      ],
    },
    { prefix: '/sdk/v1', routes: sdkRoutes(ctx) },
    // New or experimental endpoints start here and may change between minor versions; see
    // docs/api-versioning.md. Empty while nothing is in beta.
    { prefix: '/api/beta', routes: [] },
  ];
}

/**
 * The Hono app. Middleware order: request id, structured log, security headers, CORS, metrics,
 * body limit, rate limit; then routes; one error handler for everything.
 */
export function createApp(ctx: ServerContext, extraGroups: { prefix: string; routes: RouteDef<any, any>[] }[] = []): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const errors = createErrorHandler(ctx.logger, ctx.options.docsBaseUrl);
  const authenticate = createAuthenticator(ctx);
  const groups = [...routeGroups(ctx), ...extraGroups];

  app.use('*', requestId());
  app.use('*', async (c, next) => {
    c.set('clientIp', clientIpOf(c, ctx.options.trustProxy));
    await next();
  });
  app.use('*', requestLog(ctx.logger));
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }));
  app.use(
    '*',
    cors({
      origin: ctx.options.corsOrigins.includes('*') ? '*' : ctx.options.corsOrigins,
      allowHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'X-Request-ID', 'If-Match', 'If-None-Match', 'Last-Event-ID'],
      exposeHeaders: [
        'X-Request-ID',
        'ETag',
        'Retry-After',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Deprecation',
        'Sunset',
        'Link',
      ],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      maxAge: 600,
    }),
  );
  // Before the limits, so that the 413s and 429s they answer are counted like any other response.
  app.use('*', metricsMiddleware(ctx.metrics));
  // A bulk import carries a whole migration in one body: it has its own, larger limit.
  const importLimit = bodyLimit(ctx.options.importBodyLimitBytes);
  const defaultLimit = bodyLimit(ctx.options.bodyLimitBytes);
  app.use('*', (c, next) => (c.req.path === IMPORT_PATH ? importLimit : defaultLimit)(c, next));
  for (const path of ['/api/v1/auth/login', '/api/v1/auth/session'])
    app.use(
      path,
      rateLimit(ctx.loginLimiter, (c) => {
        // Only password attempts count: reading or ending a session is not a guess.
        if (c.req.method !== 'POST') return null;
        return `login:${c.get('clientIp') ?? 'unknown'}`;
      }),
    );
  app.use(
    '*',
    rateLimit(ctx.apiLimiter, (c) => {
      const cred = credentialOf(c, c.req.path.startsWith('/sdk/'));
      if (cred === null || !cred.startsWith('sy_')) return null;
      const key = `key:${createHash('sha256').update(cred).digest('base64url').slice(0, 22)}`;
      // A client key is shared by every visitor of a site: count it per visitor, or one visitor
      // could use up everyone's budget.
      return cred.startsWith('sy_cli_') ? `${key}:${c.get('clientIp') ?? 'unknown'}` : key;
    }),
  );

  app.get('/health', (c) => c.json({ data: { status: 'ok' } }));
  app.get('/ready', async (c) => {
    const dependencies = await checkDependencies(ctx.dependencies ?? { database: () => ctx.store.ping() });
    const down = Object.keys(dependencies).filter((name) => dependencies[name]!.status === 'down');
    if (down.length > 0)
      return errors.envelope(
        c,
        'SERVICE_UNAVAILABLE',
        `not ready: ${down.join(', ')} ${down.length === 1 ? 'does' : 'do'} not answer`,
        { dependencies, config_version: ctx.config.version },
        { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      );
    return c.json({ data: { status: 'ready', config_version: ctx.config.version, dependencies } });
  });
  app.get('/metrics', async (c) => c.text(await ctx.metrics.registry.metrics(), 200, { 'Content-Type': ctx.metrics.registry.contentType }));
  const openapi = buildOpenApi(groups, ofrepOpenApiPaths);
  app.get('/api/v1/openapi.json', (c) => c.json(openapi));
  mountDocs(app);

  for (const g of groups) mount(app, g.prefix, g.routes, authenticate, (c) => resolveEnvironment(ctx, c));
  mountOfrep(app, ctx, authenticate);

  app.onError((err, c) => {
    // A signed-in caller refused by RBAC is worth an audit record (who tried what); the record
    // is written off the response path and its failure only logged.
    const actor = c.get('actor');
    if (err instanceof ApiError && err.code === 'PERMISSION_DENIED' && actor !== undefined) {
      commitMutation(ctx, originOf(c), {
        writes: [],
        audit: {
          action: 'auth.denied',
          resourceType: 'request',
          resourceId: null,
          resourceKey: `${c.req.method} ${c.req.path}`,
          before: null,
          after: { message: err.message },
        },
      }).catch((e: unknown) => ctx.logger.warn({ err: e }, 'could not audit a denied request'));
    }
    return errors.handler(err, c);
  });
  const consoleDir = findConsoleDir();
  const serveConsole = consoleDir === null ? null : consoleHandler(consoleDir);
  app.notFound(async (c) => (serveConsole === null ? null : await serveConsole(c)) ?? errors.notFoundHandler(c));
  return app;
}
