import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';
import { expectError } from './support';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.stop());

/** Signs in through the session route and returns the cookie pair and the CSRF token. */
async function signIn(email = ADMIN_EMAIL, password = ADMIN_PASSWORD): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const r = await t.request('POST', '/api/v1/auth/session', { body: { email, password } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const setCookie = r.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, csrf: r.body.data.csrf_token, setCookie };
}

describe('console session cookie', () => {
  it('sets an HttpOnly, SameSite=Strict cookie and never returns the access token in the body', async () => {
    const { setCookie } = await signIn();
    expect(setCookie).toMatch(/^sy_session=[^;]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    // Plain HTTP on loopback: a Secure cookie would never be sent back.
    expect(setCookie).not.toContain('Secure');
    const r = await t.request('POST', '/api/v1/auth/session', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    expect(JSON.stringify(r.body)).not.toContain(setCookie.split(';')[0]!.split('=')[1]!.slice(0, 40));
    expect(r.body.data.user.attributes.role).toBe('ADMIN');
  });

  it('marks the cookie Secure behind a trusted HTTPS proxy', async () => {
    const s = await startTestServer({ trustProxy: true });
    try {
      const r = await s.request('POST', '/api/v1/auth/session', {
        body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(r.headers.get('set-cookie')).toContain('Secure');
    } finally {
      await s.stop();
    }
  });

  it('rejects a wrong password with the error envelope and no cookie', async () => {
    const r = await t.request('POST', '/api/v1/auth/session', { body: { email: ADMIN_EMAIL, password: 'nope-nope' } });
    expectError(r, 'AUTHENTICATION_REQUIRED');
    expect(r.headers.get('set-cookie')).toBeNull();
  });

  it('authenticates reads by cookie and returns the same CSRF token on GET /auth/session', async () => {
    const { cookie, csrf } = await signIn();
    const me = await t.request('GET', '/api/v1/auth/session', { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(me.body.data.csrf_token).toBe(csrf);
    const flags = await t.request('GET', '/api/v1/feature-flags', { headers: { cookie } });
    expect(flags.status).toBe(200);
  });

  it('refuses a cookie-authenticated write without the CSRF token, and applies nothing', async () => {
    const { cookie } = await signIn();
    const r = await t.request('POST', '/api/v1/feature-flags', { headers: { cookie }, body: { key: 'csrf-none', type: 'boolean' } });
    expectError(r, 'PERMISSION_DENIED');
    const wrong = await t.request('POST', '/api/v1/feature-flags', {
      headers: { cookie, 'x-csrf-token': 'forged' },
      body: { key: 'csrf-none', type: 'boolean' },
    });
    expectError(wrong, 'PERMISSION_DENIED');
    const get = await t.request('GET', '/api/v1/feature-flags/csrf-none', { token: t.adminToken });
    expectError(get, 'RESOURCE_NOT_FOUND');
  });

  it('refuses a cookie-authenticated write from another Origin even with the token', async () => {
    const { cookie, csrf } = await signIn();
    for (const origin of ['https://evil.example', 'null']) {
      const r = await t.request('POST', '/api/v1/feature-flags', {
        headers: { cookie, 'x-csrf-token': csrf, origin },
        body: { key: 'csrf-origin', type: 'boolean' },
      });
      expectError(r, 'PERMISSION_DENIED');
    }
  });

  it('accepts a cookie-authenticated write with the token from the same origin', async () => {
    const { cookie, csrf } = await signIn();
    const r = await t.request('POST', '/api/v1/feature-flags', {
      headers: { cookie, 'x-csrf-token': csrf, origin: t.url },
      body: { key: 'csrf-ok', type: 'boolean' },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  });

  it('lets bearer tokens and API keys write without a CSRF token (a cross-site page cannot send them)', async () => {
    const r = await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'bearer-ok', type: 'boolean' } });
    expect(r.status).toBe(201);
  });

  it('a viewer signed in by cookie is still refused writes by RBAC', async () => {
    const created = await t.request('POST', '/api/v1/users', {
      token: t.adminToken,
      body: { email: 'cookie-viewer@test.local', role: 'VIEWER', password: 'viewer-password-1' },
    });
    expect(created.status).toBe(201);
    const { cookie, csrf } = await signIn('cookie-viewer@test.local', 'viewer-password-1');
    const r = await t.request('POST', '/api/v1/feature-flags', {
      headers: { cookie, 'x-csrf-token': csrf },
      body: { key: 'viewer-no', type: 'boolean' },
    });
    expectError(r, 'PERMISSION_DENIED');
  });

  it('signs out: DELETE clears the cookie', async () => {
    const { cookie } = await signIn();
    const r = await t.request('DELETE', '/api/v1/auth/session', { headers: { cookie } });
    expect(r.status).toBe(204);
    const cleared = r.headers.get('set-cookie') ?? '';
    expect(cleared).toMatch(/^sy_session=;/);
    expect(cleared).toContain('Max-Age=0');
    const after = await t.request('GET', '/api/v1/auth/session');
    expectError(after, 'AUTHENTICATION_REQUIRED');
  });
});
