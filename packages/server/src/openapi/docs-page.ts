import type { Context, Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CONSOLE_CSP, CONSOLE_PERMISSIONS_POLICY } from '../console/serve-console';
import type { AppEnv } from '../http/app-env';

/**
 * `/docs`: Swagger UI rendering `/api/v1/openapi.json`, every file served by this server from
 * the `swagger-ui-dist` package (no CDN: it works offline and behind a firewall) under the
 * console's strict Content-Security-Policy. The page has no inline script or style, so its
 * set-up lives in `/docs/init.js`.
 */
const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head><body>
<noscript>This page needs JavaScript. The OpenAPI document itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

// No validator badge (it would call swagger.io) and no "try it out" by default: the page reads,
// a caller who wants to send requests enables it per operation.
const INIT_JS = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
  persistAuthorization: false,
});
`;

/** Files served under `/docs/`, read from `swagger-ui-dist` on first use and kept in memory. */
const FILES: Record<string, { from: 'dist' | 'inline'; type: string }> = {
  'swagger-ui.css': { from: 'dist', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { from: 'dist', type: 'text/javascript; charset=utf-8' },
  'init.js': { from: 'inline', type: 'text/javascript; charset=utf-8' },
  // Named in the page, so a browser does not ask for /favicon.ico and log a 404.
  'favicon-32x32.png': { from: 'dist', type: 'image/png' },
};

let distDir: string | undefined;
const cache = new Map<string, Buffer | string>();

function fileBody(name: string): Buffer | string {
  let body = cache.get(name);
  if (body === undefined) {
    if (FILES[name]!.from === 'inline') body = INIT_JS;
    else {
      distDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
      body = readFileSync(join(distDir, name));
    }
    cache.set(name, body);
  }
  return body;
}

function secure(c: Context<AppEnv>): void {
  c.header('Content-Security-Policy', CONSOLE_CSP);
  c.header('Permissions-Policy', CONSOLE_PERMISSIONS_POLICY);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
}

/**
 * Mounts `/docs` and its files on `app`.
 *
 * @example
 * ```ts
 * mountDocs(app); // GET /docs renders /api/v1/openapi.json with Swagger UI
 * ```
 */
export function mountDocs(app: Hono<AppEnv>): void {
  app.get('/docs', (c) => {
    secure(c);
    return c.html(DOCS_HTML);
  });
  for (const [name, { type }] of Object.entries(FILES)) {
    app.get(`/docs/${name}`, (c) => {
      secure(c);
      // The package version is part of the server's: an hour of caching is safe across upgrades.
      return c.body(fileBody(name) as never, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=3600' });
    });
  }
}
