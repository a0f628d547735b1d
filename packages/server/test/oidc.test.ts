import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, startTestServer, type TestServer } from './helpers';
import { expectError } from './support';

const ISSUER = 'https://idp.test.local/';
const AUDIENCE = 'switchyard-tests';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('external OIDC tokens verified against a JWKS', () => {
  let jwks: Server;
  let jwksHits = 0;
  let t: TestServer;
  let signingKey: Key;
  let strangerKey: Key;

  const sign = (
    claims: JWTPayload,
    o: { key?: Key; kid?: string; iss?: string; aud?: string; exp?: string | number; sub?: string | null } = {},
  ) => {
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? 'k1' })
      .setIssuedAt()
      .setIssuer(o.iss ?? ISSUER)
      .setAudience(o.aud ?? AUDIENCE)
      .setExpirationTime(o.exp ?? '5m');
    if (o.sub !== null) jwt = jwt.setSubject(o.sub ?? 'alice');
    return jwt.sign(o.key ?? signingKey);
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((req, res) => {
      jwksHits++;
      if (req.url !== '/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
    const { port } = jwks.address() as AddressInfo;
    t = await startTestServer({
      oidc: {
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
        roleClaim: 'groups',
        roleMap: { 'flag-admins': 'ADMIN', 'flag-viewers': 'VIEWER' },
      },
    });
  });
  afterAll(async () => {
    await t.stop();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  it('provisions the user on first sight and shows it in /auth/me', async () => {
    const token = await sign({ groups: ['engineering', 'flag-admins'], email: 'alice@idp.test', name: 'Alice' });
    const me = await t.request('GET', '/api/v1/auth/me', { token });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(me.body.data).toMatchObject({
      id: 'oidc:alice',
      type: 'user',
      attributes: { email: 'alice@idp.test', name: 'Alice', role: 'ADMIN', source: 'oidc' },
    });
    expect(jwksHits).toBeGreaterThan(0);
    // The same subject is one user, not a new one per token.
    const again = await t.request('GET', '/api/v1/auth/me', { token: await sign({ groups: ['flag-admins'], email: 'alice@idp.test' }) });
    expect(again.body.data.id).toBe('oidc:alice');
    const users = await t.request('GET', '/api/v1/users?limit=200', { token: t.adminToken });
    expect(users.body.data.filter((u: { id: string }) => u.id === 'oidc:alice')).toHaveLength(1);
  });

  it('applies the mapped role: flag-admins may create flags and read the audit log', async () => {
    const token = await sign({ groups: ['flag-admins'], email: 'alice@idp.test' });
    const created = await t.request('POST', '/api/v1/feature-flags', { token, body: { key: 'oidc-flag', type: 'boolean' } });
    expect(created.status).toBe(201);
    expect(created.body.data.relationships.owner.data.id).toBe('oidc:alice');
    expect((await t.request('GET', '/api/v1/audit-log?limit=1', { token })).status).toBe(200);
    const audit = await t.request('GET', '/api/v1/audit-log?resource_id=oidc-flag', { token: t.adminToken });
    expect(audit.body.data[0].attributes.actor).toMatchObject({ type: 'user', id: 'oidc:alice', label: 'alice@idp.test' });
  });

  it('a claim the role map names maps to its role; a VIEWER may read but not create', async () => {
    const token = await sign({ groups: 'flag-viewers', email: 'bob@idp.test' }, { sub: 'bob' });
    expect((await t.request('GET', '/api/v1/auth/me', { token })).body.data.attributes.role).toBe('VIEWER');
    expect((await t.request('GET', '/api/v1/feature-flags', { token })).status).toBe(200);
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { token, body: { key: 'oidc-viewer-flag', type: 'boolean' } }),
      'PERMISSION_DENIED',
    );
    expectError(await t.request('GET', '/api/v1/audit-log', { token }), 'PERMISSION_DENIED');
  });

  it("follows the claim when the issuer changes a user's groups", async () => {
    const admin = await sign({ groups: ['flag-admins'] }, { sub: 'carol' });
    expect((await t.request('POST', '/api/v1/feature-flags', { token: admin, body: { key: 'carol-flag', type: 'boolean' } })).status).toBe(
      201,
    );
    const viewer = await sign({ groups: ['flag-viewers'] }, { sub: 'carol' });
    expect((await t.request('GET', '/api/v1/auth/me', { token: viewer })).body.data.attributes.role).toBe('VIEWER');
    expectError(
      await t.request('PATCH', '/api/v1/feature-flags/carol-flag', { token: viewer, body: { enabled: true } }),
      'PERMISSION_DENIED',
    );
  });

  it('a valid token whose claim maps to no role is refused (403)', async () => {
    const token = await sign({ groups: ['marketing'] }, { sub: 'dave' });
    expectError(await t.request('GET', '/api/v1/feature-flags', { token }), 'PERMISSION_DENIED');
    expectError(await t.request('GET', '/api/v1/feature-flags', { token: await sign({}, { sub: 'dave' }) }), 'PERMISSION_DENIED');
  });

  it('with a role map, only its exact keys grant roles: role names, other cases and prototype names grant nothing, never a 500', async () => {
    for (const group of ['admin', 'ADMIN', 'Flag-Admins', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const token = await sign({ groups: [group] }, { sub: `probe-${group}` });
      expectError(await t.request('GET', '/api/v1/feature-flags', { token }), 'PERMISSION_DENIED');
    }
    const token = await sign({ groups: 'constructor' }, { sub: 'probe-string' });
    expectError(await t.request('GET', '/api/v1/auth/me', { token }), 'PERMISSION_DENIED');
  });

  it('refuses an issuer token without exp (401)', async () => {
    const noExp = await new SignJWT({ groups: ['flag-admins'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt()
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('no-exp')
      .sign(signingKey);
    expectError(await t.request('GET', '/api/v1/auth/me', { token: noExp }), 'AUTHENTICATION_REQUIRED');
  });

  it('never attaches an external identity to a local account with the same email', async () => {
    const token = await sign({ groups: ['flag-viewers'], email: ADMIN_EMAIL }, { sub: 'mallory' });
    const me = await t.request('GET', '/api/v1/auth/me', { token });
    expect(me.status).toBe(200);
    expect(me.body.data.id).toBe('oidc:mallory');
    expect(me.body.data.attributes.email).not.toBe(ADMIN_EMAIL);
    expect(me.body.data.attributes.role).toBe('VIEWER');
    expectError(await t.request('GET', '/api/v1/audit-log', { token }), 'PERMISSION_DENIED');
  });

  it('refuses wrong audience, wrong issuer, expired, unknown key, missing subject and tampered tokens with 401', async () => {
    const good = await sign({ groups: ['flag-admins'] });
    const [header, payload] = good.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), groups: ['flag-admins'], sub: 'eve' }),
    ).toString('base64url');
    const bad = {
      'wrong audience': await sign({ groups: ['flag-admins'] }, { aud: 'someone-else' }),
      'wrong issuer': await sign({ groups: ['flag-admins'] }, { iss: 'https://evil.test/' }),
      expired: await sign({ groups: ['flag-admins'] }, { exp: Math.floor(Date.now() / 1000) - 600 }),
      'unknown signing key': await sign({ groups: ['flag-admins'] }, { key: strangerKey }),
      'unknown kid': await sign({ groups: ['flag-admins'] }, { key: strangerKey, kid: 'k2' }),
      'no subject': await sign({ groups: ['flag-admins'] }, { sub: null }),
      'tampered payload': `${header}.${forged}.${good.split('.')[2]}`,
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`,
      'HS256 with the public JWKS as secret': await new SignJWT({ groups: ['flag-admins'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('eve')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('k1')),
      garbage: 'not.a.jwt',
    };
    for (const [why, token] of Object.entries(bad)) {
      const r = await t.request('GET', '/api/v1/auth/me', { token });
      expect(r.status, why).toBe(401);
      expectError(r, 'AUTHENTICATION_REQUIRED');
      expectError(
        await t.request('POST', '/api/v1/feature-flags', { token, body: { key: 'should-not-exist', type: 'boolean' } }),
        'AUTHENTICATION_REQUIRED',
      );
    }
    expectError(await t.request('GET', '/api/v1/feature-flags/should-not-exist', { token: t.adminToken }), 'RESOURCE_NOT_FOUND');
    const users = await t.request('GET', '/api/v1/users?limit=200', { token: t.adminToken });
    expect(users.body.data.map((u: { id: string }) => u.id)).not.toContain('oidc:eve');
  });

  it('local password logins keep working next to OIDC', async () => {
    const token = await t.login(ADMIN_EMAIL, 'admin-password-1');
    const me = await t.request('GET', '/api/v1/auth/me', { token });
    expect(me.body.data.attributes).toMatchObject({ email: ADMIN_EMAIL, role: 'ADMIN', source: 'local' });
  });
});

describe('management keys of a person who signs in through the identity provider', () => {
  it('stop working once their role has gone unconfirmed for over 24 h (removed at the IdP), and work again when they sign in', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const jwks = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
    let offsetMs = 0;
    const t = await startTestServer({
      now: () => Date.now() + offsetMs,
      oidc: {
        jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
        roleClaim: 'groups',
        roleMap: { 'flag-admins': 'ADMIN' },
      },
    });
    try {
      const token = () =>
        new SignJWT({ groups: ['flag-admins'], email: 'carol@idp.test' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuedAt()
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('carol')
          .setExpirationTime('5m')
          .sign(privateKey);
      const created = await t.request('POST', '/api/v1/api-keys', {
        token: await token(),
        body: { name: 'carol automation', kind: 'management' },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const key = created.body.data.attributes.key as string;
      expect((await t.request('GET', '/api/v1/users', { apiKey: key })).status).toBe(200);

      // Within the trust window (a token lasts at most 24 h), the key keeps its creator's role.
      offsetMs = 23 * 60 * 60_000;
      expect((await t.request('GET', '/api/v1/users', { apiKey: key })).status).toBe(200);

      // Carol was removed at the IdP and never signed in again: her key no longer acts for her.
      offsetMs = 26 * 60 * 60_000;
      expectError(await t.request('GET', '/api/v1/users', { apiKey: key }), 'AUTHENTICATION_REQUIRED');
      expectError(
        await t.request('POST', '/api/v1/feature-flags', { apiKey: key, body: { key: 'by-carol', type: 'boolean' } }),
        'AUTHENTICATION_REQUIRED',
      );

      // She signs in again with the role still granted: the key works again.
      expect((await t.request('GET', '/api/v1/auth/me', { token: await token() })).status).toBe(200);
      expect((await t.request('GET', '/api/v1/users', { apiKey: key })).status).toBe(200);
    } finally {
      await t.stop();
      await new Promise<void>((resolve) => jwks.close(() => resolve()));
    }
  });
});
