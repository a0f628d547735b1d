import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/app-env';

/** Name of the console's session cookie; it holds the same JWT that `/auth/login` returns. */
export const SESSION_COOKIE = 'sy_session';

/** Header a cookie-authenticated write must carry (double-submit of a value derived from the session). */
export const CSRF_HEADER = 'X-CSRF-Token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The CSRF token of a session: a hash of its JWT. Only a page that can read the session's
 * answers (same origin) learns it; another site can make the browser send the cookie but can
 * neither read the cookie nor compute the hash, so it cannot forge the header.
 */
export function csrfTokenOf(sessionToken: string): string {
  return createHash('sha256').update(`csrf:${sessionToken}`).digest('base64url');
}

/** Whether the request came over HTTPS (directly, or per `X-Forwarded-Proto` behind a trusted proxy). */
function isHttps(c: Context<AppEnv>, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return trustProxy && (c.req.header('x-forwarded-proto') ?? '').split(',')[0]!.trim() === 'https';
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure when served over HTTPS. */
export function setSessionCookie(c: Context<AppEnv>, token: string, maxAgeSeconds: number, trustProxy: boolean): void {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c, trustProxy),
    path: '/',
    maxAge: maxAgeSeconds,
  });
}

/** Clears the session cookie. */
export function clearSessionCookie(c: Context<AppEnv>, trustProxy: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: isHttps(c, trustProxy) });
}

/** The session cookie's token, if the request has one. */
export function sessionTokenOf(c: Context<AppEnv>): string | null {
  const v = getCookie(c, SESSION_COOKIE);
  return v === undefined || v === '' ? null : v;
}

/**
 * Guards a request authenticated by the session cookie: a write must carry the session's CSRF
 * token, and a browser-sent `Origin`, when present, must be this server's own. Requests with an
 * `Authorization` or `X-API-Key` header never get here: a cross-site page cannot set those.
 */
export function checkCsrf(c: Context<AppEnv>, sessionToken: string): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== 'null') {
    const own = new URL(c.req.url);
    const host = c.req.header('host') ?? own.host;
    if (!URL.canParse(origin) || new URL(origin).host !== host)
      throw new ApiError('PERMISSION_DENIED', 'cross-origin write refused: the Origin is not this server', [
        { path: 'Origin', message: origin },
      ]);
  } else if (origin === 'null') {
    throw new ApiError('PERMISSION_DENIED', 'cross-origin write refused: an opaque Origin cannot use the session cookie');
  }
  const sent = c.req.header(CSRF_HEADER) ?? '';
  const expected = csrfTokenOf(sessionToken);
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new ApiError(
      'PERMISSION_DENIED',
      `a write authenticated by the session cookie needs the ${CSRF_HEADER} header from GET /api/v1/auth/session`,
    );
}
