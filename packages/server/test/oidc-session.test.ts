import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

const ISSUER = 'https://idp.console.test/';
const AUDIENCE = 'switchyard-console';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('signing in to the console with an OIDC token', () => {
  let jwks: Server;
  let t: TestServer;
  let plain: TestServer;
  let key: Key;
  const sign = (claims: Record<string, unknown>, exp: string | number = '10m') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt()
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('carol')
      .setExpirationTime(exp)
      .sign(key);
  const cookieOf = (setCookie: string | null) => /^sy_session=([^;]+)/.exec(setCookie ?? '')?.[1] ?? null;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
    const { port } = jwks.address() as AddressInfo;
    t = await startTestServer({
      oidc: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, issuer: ISSUER, audience: AUDIENCE, roleClaim: 'role', roleMap: {} },
    });
    plain = await startTestServer();
  });
  afterAll(async () => {
    await t?.stop();
    await plain?.stop();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  it('says which providers exist, without credentials', async () => {
    const r = await t.request('GET', '/api/v1/auth/providers');
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ password: true, oidc: { issuer: ISSUER } });
    expect((await plain.request('GET', '/api/v1/auth/providers')).body.data).toEqual({ password: true, oidc: null });
  });

  it('exchanges an IdP token for an HttpOnly session cookie that lasts as long as the token', async () => {
    const token = await sign({ role: 'EXPERIMENTER', email: 'carol@idp.test' }, '10m');
    const r = await t.request('POST', '/api/v1/auth/session/token', { token });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.data.user).toMatchObject({
      id: 'oidc:carol',
      attributes: { email: 'carol@idp.test', role: 'EXPERIMENTER', source: 'oidc' },
    });
    expect(r.body.data.expires_in).toBeGreaterThan(500);
    expect(r.body.data.expires_in).toBeLessThanOrEqual(600);
    const setCookie = r.headers.get('set-cookie');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const cookie = cookieOf(setCookie);
    expect(cookie).not.toBeNull();

    // The cookie is a session: it reads, and writes with the CSRF token it was given.
    const session = await t.request('GET', '/api/v1/auth/session', { headers: { cookie: `sy_session=${cookie}` } });
    expect(session.status).toBe(200);
    expect(session.body.data.user.id).toBe('oidc:carol');
    expect(session.body.data.csrf_token).toBe(r.body.data.csrf_token);
    const write = (csrf?: string) =>
      t.request('POST', '/api/v1/feature-flags', {
        headers: { cookie: `sy_session=${cookie}`, ...(csrf ? { 'x-csrf-token': csrf } : {}) },
        body: { key: csrf ? 'carols-flag' : 'no-csrf-flag', type: 'boolean' },
      });
    expect((await write()).status).toBe(403);
    expect((await write(r.body.data.csrf_token)).status).toBe(201);
    expect((await t.request('GET', '/api/v1/feature-flags/no-csrf-flag', { token: t.adminToken })).status).toBe(404);
  });

  it('refuses a forged or expired token, an API key, and a request with only the cookie', async () => {
    const forged = await new SignJWT({ role: 'ADMIN' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt()
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('mallory')
      .setExpirationTime('10m')
      .sign((await generateKeyPair('RS256')).privateKey);
    const refused = await t.request('POST', '/api/v1/auth/session/token', { token: forged });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('AUTHENTICATION_REQUIRED');
    expect(refused.headers.get('set-cookie')).toBeNull();

    const expired = await sign({ role: 'ADMIN' }, Math.floor(Date.now() / 1000) - 60);
    expect((await t.request('POST', '/api/v1/auth/session/token', { token: expired })).status).toBe(401);

    const noRole = await sign({ email: 'x@idp.test' });
    expect((await t.request('POST', '/api/v1/auth/session/token', { token: noRole })).status).toBe(403);

    const byKey = await t.request('POST', '/api/v1/auth/session/token', { apiKey: t.serverKey });
    expect(byKey.status).toBe(403);

    const token = await sign({ role: 'VIEWER' });
    const cookie = cookieOf((await t.request('POST', '/api/v1/auth/session/token', { token })).headers.get('set-cookie'));
    const onlyCookie = await t.request('POST', '/api/v1/auth/session/token', { headers: { cookie: `sy_session=${cookie}` } });
    expect(onlyCookie.status).toBe(403);
    expect(onlyCookie.headers.get('set-cookie')).toBeNull();
  });
});
