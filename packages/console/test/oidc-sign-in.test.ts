import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousA11yViolations } from './support/browser';
import { useConsoleHarness } from './support/harness';

// A real identity provider's half of OIDC that matters here: an RSA key published as a JWKS on
// loopback, and RS256 tokens signed with it (node:crypto, no extra dependency).
const ISSUER = 'https://idp.console.test/';
const AUDIENCE = 'switchyard-console';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function idpToken(claims: Record<string, unknown>, key: KeyObject = privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'dana', iat: now, exp: now + 600, ...claims })}`;
  return `${body}.${sign('sha256', Buffer.from(body), key).toString('base64url')}`;
}

let jwks: Server;
let jwksPort = 0;

// Registered before the harness, so the JWKS is up when the server starts (and closes after it).
beforeAll(async () => {
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
  jwksPort = (jwks.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => jwks.close(() => resolve()));
});

const h = useConsoleHarness({
  signIn: false,
  serverOptions: () => ({
    oidc: { jwksUrl: `http://127.0.0.1:${jwksPort}/jwks.json`, issuer: ISSUER, audience: AUDIENCE, roleClaim: 'role', roleMap: {} },
  }),
});

describe('sign-in with the identity provider (OIDC issuer configured)', () => {
  it('offers it on the sign-in screen, and refuses a token the issuer did not sign', async () => {
    const { page } = h.w;
    await page.goto('/flags');
    await page.getByRole('heading', { name: 'Sign in with your identity provider' }).waitFor();
    expect(await page.getByText(ISSUER).count()).toBe(1);
    expect(await seriousA11yViolations(page)).toEqual([]);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await page.getByLabel('Identity-provider token').fill(idpToken({ role: 'ADMIN' }, stranger));
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /invalid|expired/ })
      .waitFor();
    expect((await h.w.context.cookies()).find((c) => c.name === 'sy_session')).toBeUndefined();
  });

  it('signs in with a token from the issuer, with the role it carries, and keeps no token in web storage', async () => {
    const { page } = h.w;
    const token = idpToken({ role: 'EXPERIMENTER', email: 'dana@idp.test', name: 'Dana' });
    await page.getByLabel('Identity-provider token').fill(token);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('heading', { name: 'Feature flags' }).waitFor();
    expect(await page.locator('.whoami').textContent()).toContain('dana@idp.test · EXPERIMENTER');
    const session = (await h.w.context.cookies()).find((c) => c.name === 'sy_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(storage).not.toContain(token.slice(0, 30));

    // A write through the session works (CSRF token included by the console) and is Dana's.
    await page.getByRole('button', { name: 'New flag' }).click();
    const dialog = page.getByRole('dialog', { name: 'New flag' });
    await dialog.getByLabel('Key').fill('danas-flag');
    await dialog.getByRole('button', { name: 'Create flag' }).click();
    await page.getByRole('heading', { name: 'danas-flag' }).waitFor();
    expect((await h.server.admin('GET', '/api/v1/feature-flags/danas-flag')).data.relationships.owner.data.id).toBe('oidc:dana');

    // A reload keeps the session; signing out ends it in this browser.
    await page.reload();
    await page.getByRole('heading', { name: 'danas-flag' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Switchyard' }).waitFor();
    expect((await h.w.context.cookies()).find((c) => c.name === 'sy_session')).toBeUndefined();
  });

  it('raised no uncaught page error and no CSP violation', () => {
    expect(h.w.errors).toEqual([]);
    expect(h.w.cspViolations).toEqual([]);
  });
});
