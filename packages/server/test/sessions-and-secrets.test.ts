import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kidOf } from '../src/auth/signing-keys';
import { startServer } from '../src/server';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';
import { expectError } from './support';

/** The server's own token format, signed with whatever key a test has its hands on. */
function forge(secret: Uint8Array, claims: { sub: string; tv?: number }, o: { exp?: string | null; kid?: string } = {}) {
  let jwt = new SignJWT({ role: 'ADMIN', tv: claims.tv ?? 0 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: o.kid ?? kidOf(secret) })
    .setSubject(claims.sub)
    .setIssuer('switchyard')
    .setAudience('switchyard-api')
    .setIssuedAt();
  if (o.exp !== null) jwt = jwt.setExpirationTime(o.exp ?? '5m');
  return jwt.sign(secret);
}

const mode = (path: string) => statSync(path).mode & 0o777;

describe('secrets at rest (SQLite file, no configured JWT secret)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ jwtSecret: undefined });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('creates the database, its WAL and shared-memory files 0600 in a 0700 folder, and the key file 0600', async () => {
    // A write makes sure the WAL exists.
    expect((await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'modes', name: 'm' } })).status).toBe(201);
    expect(mode(t.dbPath)).toBe(0o600);
    expect(mode(`${t.dbPath}-wal`)).toBe(0o600);
    expect(mode(`${t.dbPath}-shm`)).toBe(0o600);
    expect(mode(`${t.dbPath}.keys.json`)).toBe(0o600);
  });

  it('keeps no signing key in the database: nothing read from its files mints a token the server accepts', async () => {
    const me = await t.request('GET', '/api/v1/auth/me', { token: t.adminToken });
    const adminId = me.body.data.id as string;
    const keyFile = JSON.parse(readFileSync(`${t.dbPath}.keys.json`, 'utf8')) as { keys: { kid: string; secret: string }[] };
    const realKey = new Uint8Array(Buffer.from(keyFile.keys[0]!.secret, 'base64url'));
    // The key file's key works (so the forging below is a fair attempt)...
    expect((await t.request('GET', '/api/v1/auth/me', { token: await forge(realKey, { sub: adminId }) })).status).toBe(200);
    // ...but the database files never hold it, in any encoding.
    const bytes = Buffer.concat([readFileSync(t.dbPath), readFileSync(`${t.dbPath}-wal`)]);
    for (const enc of ['base64url', 'base64', 'hex'] as const) expect(bytes.includes(Buffer.from(realKey).toString(enc))).toBe(false);
    expect(bytes.includes(Buffer.from(realKey))).toBe(false);
    // Every value of the settings table, tried as the HMAC key, is refused.
    const db = new Database(t.dbPath, { readonly: true, fileMustExist: true });
    const values = (db.prepare('SELECT value FROM settings').all() as { value: string }[]).map((r) => r.value).filter((v) => v !== '');
    db.close();
    for (const v of values) {
      const secret = new TextEncoder().encode(v);
      const token = await forge(secret, { sub: adminId });
      expectError(await t.request('GET', '/api/v1/auth/me', { token }), 'AUTHENTICATION_REQUIRED');
      const withRealKid = await forge(secret, { sub: adminId }, { kid: keyFile.keys[0]!.kid });
      expectError(await t.request('GET', '/api/v1/auth/me', { token: withRealKid }), 'AUTHENTICATION_REQUIRED');
    }
  });

  it('refuses tokens without exp, or older than the longest lifetime', async () => {
    const me = await t.request('GET', '/api/v1/auth/me', { token: t.adminToken });
    const keyFile = JSON.parse(readFileSync(`${t.dbPath}.keys.json`, 'utf8')) as { keys: { secret: string }[] };
    const key = new Uint8Array(Buffer.from(keyFile.keys[0]!.secret, 'base64url'));
    const noExp = await forge(key, { sub: me.body.data.id }, { exp: null });
    expectError(await t.request('GET', '/api/v1/auth/me', { token: noExp }), 'AUTHENTICATION_REQUIRED');
    const old = await new SignJWT({ tv: 0 })
      .setProtectedHeader({ alg: 'HS256', kid: kidOf(key) })
      .setSubject(me.body.data.id)
      .setIssuer('switchyard')
      .setAudience('switchyard-api')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 2 * 24 * 3600)
      .setExpirationTime('10y')
      .sign(key);
    expectError(await t.request('GET', '/api/v1/auth/me', { token: old }), 'AUTHENTICATION_REQUIRED');
  });
});

describe('configured secrets', () => {
  it('refuses a JWT secret shorter than 32 bytes, and OIDC without an audience, before serving', async () => {
    await expect(
      startServer({ port: 0, dbPath: ':memory:', logLevel: 'silent', printCredentials: false, env: {}, jwtSecret: 'x' }),
    ).rejects.toThrow(/SWITCHYARD_JWT_SECRET.*32 bytes/);
    await expect(
      startServer({
        port: 0,
        dbPath: ':memory:',
        logLevel: 'silent',
        printCredentials: false,
        env: {},
        jwtSecret: 'a-secret-long-enough-for-hs256-signing-1',
        oidc: { jwksUrl: 'http://127.0.0.1:9/jwks.json', roleClaim: 'role', roleMap: {} },
      }),
    ).rejects.toThrow(/SWITCHYARD_OIDC_AUDIENCE/);
  });

  it('rotates by listing secrets: tokens signed with the old one keep working while it is listed', async () => {
    const oldSecret = 'the-old-secret-that-is-long-enough-0001';
    const newSecret = 'the-new-secret-that-is-long-enough-0002';
    const a = await startTestServer({ jwtSecret: oldSecret });
    try {
      const me = await a.request('GET', '/api/v1/auth/me', { token: a.adminToken });
      const id = me.body.data.id as string;
      const tokenOld = await forge(new TextEncoder().encode(oldSecret), { sub: id });
      expect((await a.request('GET', '/api/v1/auth/me', { token: tokenOld })).status).toBe(200);
      const tokenNew = await forge(new TextEncoder().encode(newSecret), { sub: id });
      expectError(await a.request('GET', '/api/v1/auth/me', { token: tokenNew }), 'AUTHENTICATION_REQUIRED');
    } finally {
      await a.stop();
    }
  });
});

describe('sessions end when they should', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ loginRatePerMinute: 10_000 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a password change, a role change and a logout each end the tokens issued before', async () => {
    const u = await t.user('EXPERIMENTER');
    expect((await t.request('GET', '/api/v1/auth/me', { token: u.token })).status).toBe(200);
    // Password change (by an ADMIN).
    expect((await t.request('PATCH', `/api/v1/users/${u.id}`, { token: t.adminToken, body: { password: 'new-password-1' } })).status).toBe(
      200,
    );
    expectError(await t.request('GET', '/api/v1/auth/me', { token: u.token }), 'AUTHENTICATION_REQUIRED');
    const second = await t.login(u.email, 'new-password-1');
    expect((await t.request('GET', '/api/v1/auth/me', { token: second })).status).toBe(200);
    // Role change.
    expect((await t.request('PATCH', `/api/v1/users/${u.id}`, { token: t.adminToken, body: { role: 'VIEWER' } })).status).toBe(200);
    expectError(await t.request('GET', '/api/v1/auth/me', { token: second }), 'AUTHENTICATION_REQUIRED');
    // A name change does not.
    const third = await t.login(u.email, 'new-password-1');
    expect((await t.request('PATCH', `/api/v1/users/${u.id}`, { token: t.adminToken, body: { name: 'Renamed' } })).status).toBe(200);
    expect((await t.request('GET', '/api/v1/auth/me', { token: third })).status).toBe(200);
    // Logout ends every session of the user.
    const fourth = await t.login(u.email, 'new-password-1');
    expect((await t.request('POST', '/api/v1/auth/logout', { token: third })).status).toBe(204);
    expectError(await t.request('GET', '/api/v1/auth/me', { token: third }), 'AUTHENTICATION_REQUIRED');
    expectError(await t.request('GET', '/api/v1/auth/me', { token: fourth }), 'AUTHENTICATION_REQUIRED');
    const audit = await t.request('GET', `/api/v1/audit-log?resource_id=${u.id}&limit=100`, { token: t.adminToken });
    const actions = (audit.body.data as { attributes: { action: string } }[]).map((r) => r.attributes.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.login', 'auth.logout', 'user.update']));
  });

  it('locks an account after five failed logins in a row, even for the right password, and audits the failures', async () => {
    const u = await t.user('VIEWER');
    for (let i = 0; i < 5; i++)
      expectError(
        await t.request('POST', '/api/v1/auth/login', { body: { email: u.email, password: 'wrong-password' } }),
        'AUTHENTICATION_REQUIRED',
      );
    const locked = await t.request('POST', '/api/v1/auth/login', { body: { email: u.email, password: `password-${0}` } });
    expectError(locked, 'RATE_LIMIT_EXCEEDED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account is not affected.
    expect((await t.request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).status).toBe(200);
    const audit = await t.request('GET', `/api/v1/audit-log?action=auth.login_failed&limit=100`, { token: t.adminToken });
    const failed = (audit.body.data as { attributes: { resource: { key: string } } }[]).filter(
      (r) => r.attributes.resource.key === u.email,
    );
    expect(failed).toHaveLength(5);
  });

  it('audits a signed-in caller refused by RBAC', async () => {
    const viewer = await t.user('VIEWER');
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: viewer.token, body: { key: 'denied-flag', type: 'boolean' } }),
      'PERMISSION_DENIED',
    );
    await vi.waitFor(async () => {
      const audit = await t.request('GET', `/api/v1/audit-log?action=auth.denied&limit=100`, { token: t.adminToken });
      const mine = (audit.body.data as { attributes: { actor: { id: string }; resource: { key: string } } }[]).filter(
        (r) => r.attributes.actor.id === viewer.id,
      );
      expect(mine.map((r) => r.attributes.resource.key)).toContain('POST /api/v1/feature-flags');
    });
  });

  it('revokes the server and client keys of a deleted user, and says so in the audit record', async () => {
    const admin2 = await t.user('ADMIN');
    const created = await t.request('POST', '/api/v1/api-keys', { token: admin2.token, body: { name: 'orphan', kind: 'server' } });
    expect(created.status).toBe(201);
    const key = created.body.data.attributes.key as string;
    expect((await t.request('GET', '/sdk/v1/config', { apiKey: key })).status).toBe(200);
    expect((await t.request('DELETE', `/api/v1/users/${admin2.id}`, { token: t.adminToken })).status).toBe(204);
    expectError(await t.request('GET', '/sdk/v1/config', { apiKey: key }), 'AUTHENTICATION_REQUIRED');
    const audit = await t.request('GET', `/api/v1/audit-log?action=user.delete&resource_id=${admin2.id}`, { token: t.adminToken });
    expect(audit.body.data[0].attributes.after.revoked_api_keys).toEqual([{ id: created.body.data.id, name: 'orphan', kind: 'server' }]);
  });
});

describe('per-user rate limit for signed-in callers', () => {
  it('answers 429 with Retry-After once a user has spent the budget, without touching another user', async () => {
    const t = await startTestServer({ apiRateBurst: 40, apiRatePerSecond: 0.01, loginRatePerMinute: 10_000 });
    try {
      const u = await t.user('VIEWER');
      let refused = null as Awaited<ReturnType<TestServer['request']>> | null;
      for (let i = 0; i < 60 && refused === null; i++) {
        const r = await t.request('GET', '/api/v1/feature-flags', { token: u.token });
        if (r.status === 429) refused = r;
        else expect(r.status).toBe(200);
      }
      expect(refused).not.toBeNull();
      expectError(refused!, 'RATE_LIMIT_EXCEEDED');
      expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
      const other = await t.user('VIEWER');
      expect((await t.request('GET', '/api/v1/feature-flags', { token: other.token })).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
