import type { Context } from 'hono';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { AppEnv } from '../http/app-env';

/**
 * The console's Content-Security-Policy: scripts, styles and connections only from this
 * origin, no inline script or style elements, no eval, no framing, no plugins.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Browser features the console never uses, switched off. */
export const CONSOLE_PERMISSIONS_POLICY =
  'camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), magnetometer=(), gyroscope=(), accelerometer=()';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** Paths that belong to the server, never to the console's client-side routes. */
const SERVER_PREFIXES = ['/api', '/sdk', '/docs', '/health', '/ready', '/metrics', '/ofrep'];

function isServerPath(path: string): boolean {
  return SERVER_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

function securityHeaders(c: Context<AppEnv>): void {
  c.header('Content-Security-Policy', CONSOLE_CSP);
  c.header('Permissions-Policy', CONSOLE_PERMISSIONS_POLICY);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
}

/**
 * Serves the built console at `/`: files under `assets/` have content hashes in their names and
 * are cached for a year as immutable; `index.html` is revalidated on every load, and is also
 * the answer for any other GET that is not a file and not a server path (client-side routes).
 * It runs where no API route matched (the app's not-found handler), so it never shadows the API
 * and never becomes a route of its own in metrics; `null` means "not the console's either".
 */
export function consoleHandler(dir: string): (c: Context<AppEnv>) => Promise<Response | null> {
  const root = normalize(dir + sep);
  // Read per request (it is small): a console rebuilt under a running server is picked up.
  const index = () => readFile(join(root, 'index.html'));

  return async (c) => {
    const path = c.req.path;
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || isServerPath(path)) return null;
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return null;
    }
    const file = normalize(join(root, decoded));
    if (file.startsWith(root) && file !== root) {
      const info = await stat(file).catch(() => null);
      if (info?.isFile() === true && !file.endsWith(`${sep}index.html`)) {
        securityHeaders(c);
        const immutable = decoded.startsWith('/assets/');
        c.header('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=300');
        c.header('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
        return c.body(new Uint8Array(await readFile(file)));
      }
      // A missing hashed asset is a 404, not the app: a stale page must not get HTML as script.
      if (decoded.startsWith('/assets/')) return null;
    }
    // Client-side routes answer browsers (which navigate with `Accept: text/html`); an API client
    // or script asking for anything else at an unknown path gets the 404 envelope. `/` itself is
    // the console for anyone (curl included).
    if (path !== '/' && !(c.req.header('accept') ?? '').includes('text/html')) return null;
    securityHeaders(c);
    c.header('Cache-Control', 'no-cache');
    c.header('Content-Type', TYPES['.html']);
    return c.body(new Uint8Array(await index()));
  };
}
