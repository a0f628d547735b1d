import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rotateSigningKey } from '../src/admin-rotate-signing-key';
import { runCli } from './cli-process';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';

describe('rotating a generated signing key', () => {
  let t: TestServer;
  const storeOptions = () => ({ dbPath: t.dbPath, databaseUrl: undefined, jwtSecret: undefined, masterKey: undefined });
  beforeAll(async () => {
    // No SWITCHYARD_JWT_SECRET: the server generates its keyring into a key file beside the database.
    // The tests below sign in repeatedly while they wait for the rotation to be picked up.
    t = await startTestServer({ jwtSecret: undefined, loginRatePerMinute: 10_000 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a running server signs with the new key within seconds while earlier sessions stay valid', async () => {
    const before = t.adminToken;
    const oldKid = decodeProtectedHeader(before).kid;
    const { kid, source } = await rotateSigningKey(storeOptions());
    expect(source).toBe('key-file');
    expect(kid).not.toBe(oldKid);
    await vi.waitFor(
      async () => {
        expect((await t.request('GET', '/api/v1/auth/me', { token: before })).status).toBe(200);
        const fresh = await t.login(ADMIN_EMAIL, ADMIN_PASSWORD);
        expect(decodeProtectedHeader(fresh).kid).toBe(kid);
      },
      { timeout: 20_000, interval: 250 },
    );
    expect((await t.request('GET', '/api/v1/auth/me', { token: before })).status).toBe(200);
  });

  it('--retire-now ends every session signed by an earlier key; signing in again works', async () => {
    const before = await t.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    const { kid, retired } = await rotateSigningKey(storeOptions(), true);
    expect(retired).toBeGreaterThanOrEqual(2);
    await vi.waitFor(async () => expect((await t.request('GET', '/api/v1/auth/me', { token: before })).status).toBe(401), {
      timeout: 20_000,
      interval: 250,
    });
    const fresh = await t.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(decodeProtectedHeader(fresh).kid).toBe(kid);
    const audit = await t.request('GET', '/api/v1/audit-log?limit=100', { token: fresh });
    const rotations = audit.body.data.filter((r: { attributes: { action: string } }) => r.attributes.action === 'auth.signing_key_rotated');
    expect(rotations).toHaveLength(2);
  });

  it('the CLI rotates, refuses a missing database without creating one, and points SWITCHYARD_JWT_SECRET users to the list', async () => {
    const ok = await runCli(['admin', 'rotate-signing-key', '--db', t.dbPath]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/New signing key \S+ \(key-file\)/);

    const missing = join(t.dir, 'nope', 'switchyard.db');
    const refused = await runCli(['admin', 'rotate-signing-key', '--db', missing]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('no database at');
    expect(existsSync(missing)).toBe(false);

    const env = await runCli(['admin', 'rotate-signing-key', '--db', t.dbPath], { env: { SWITCHYARD_JWT_SECRET: 'x'.repeat(40) } });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toContain('putting a new secret first');
  });
});
