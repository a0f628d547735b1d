import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';
import { configVersion, createKey, expectError } from './support';

describe('restart on the same SQLite file keeps everything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-restart-'));
  const dbPath = join(dir, 'switchyard.db');
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('users, flags, segments, keys, revocations, audit and the config version survive', async () => {
    // jwtSecret undefined: the server generates one and persists it in the store.
    const first = await startTestServer({ dbPath, dir, jwtSecret: undefined });
    servers.push(first);
    expect(first.server.credentials).not.toBeNull();
    const made = await first.request('POST', '/api/v1/users', {
      token: first.adminToken,
      body: { email: 'restart-exp@test.local', role: 'EXPERIMENTER', password: 'restart-password' },
    });
    expect(made.status).toBe(201);
    const exp = { id: made.body.data.id as string, token: await first.login('restart-exp@test.local', 'restart-password') };
    await first.request('POST', '/api/v1/segments', {
      token: first.adminToken,
      body: { key: 'restart-seg', name: '日本語 🚀', included: ['u1', "x'); DROP TABLE users;--"] },
    });
    const flag = await first.request('POST', '/api/v1/feature-flags', {
      token: exp.token,
      body: {
        key: 'restart-flag',
        type: 'string',
        enabled: true,
        variants: [
          { key: 'a', value: 'A' },
          { key: 'b', value: 'B' },
        ],
        rules: [{ id: 'seg', when: { segment: 'restart-seg' }, serve: { variant: 'b' } }],
        default_serve: { variant: 'a' },
      },
    });
    expect(flag.status).toBe(201);
    await first.request('PATCH', '/api/v1/feature-flags/restart-flag', { token: exp.token, body: { name: 'Restarted' } });
    const kept = await createKey(first, { token: exp.token }, { name: 'kept', kind: 'management' });
    const revoked = await createKey(first, { token: first.adminToken }, { name: 'revoked', kind: 'management' });
    const revokedSdk = await createKey(first, { token: first.adminToken }, { name: 'revoked sdk', kind: 'client' });
    expect((await first.request('GET', '/api/v1/feature-flags', { apiKey: kept.key })).status).toBe(200);
    expect((await first.request('DELETE', `/api/v1/api-keys/${revoked.id}`, { token: first.adminToken })).status).toBe(204);
    expect((await first.request('DELETE', `/api/v1/api-keys/${revokedSdk.id}`, { token: first.adminToken })).status).toBe(204);
    const version = await configVersion(first);
    expect(version).toBe(3);
    const auditBefore = (await first.request('GET', '/api/v1/audit-log?limit=200', { token: first.adminToken })).body.data;
    const flagBefore = (await first.request('GET', '/api/v1/feature-flags/restart-flag', { token: first.adminToken })).body.data;
    const usersBefore = (await first.request('GET', '/api/v1/users?limit=200', { token: first.adminToken })).body.data;
    const keysBefore = (await first.request('GET', '/api/v1/api-keys?limit=200', { token: first.adminToken })).body.data;
    const evalBefore = (
      await first.request('GET', `/api/v1/feature-flags/restart-flag/evaluate?user_id=${encodeURIComponent("x'); DROP TABLE users;--")}`, {
        apiKey: first.serverKey,
      })
    ).body.data;
    expect(evalBefore).toMatchObject({ value: 'B', reason: 'TARGETING_MATCH' });

    await first.server.close();
    // Closed: nothing answers on the old port any more.
    await expect(fetch(`${first.url}/health`)).rejects.toThrow();

    const second = await startTestServer({ dbPath, dir, jwtSecret: undefined });
    servers.push(second);
    // No second first start: no new admin password, no new default keys.
    expect(second.server.credentials).toBeNull();
    // Tokens issued before the restart stay valid (the generated secret was persisted).
    expect((await second.request('GET', '/api/v1/auth/me', { token: exp.token })).body.data.attributes.email).toBe(
      'restart-exp@test.local',
    );
    expect((await second.request('GET', '/api/v1/auth/me', { token: first.adminToken })).status).toBe(200);
    // Users log in with their passwords.
    expect((await second.login(ADMIN_EMAIL, ADMIN_PASSWORD)).length).toBeGreaterThan(20);
    const expToken = await second.login('restart-exp@test.local', 'restart-password');
    expect((await second.request('GET', '/api/v1/auth/me', { token: expToken })).body.data.id).toBe(exp.id);
    expectError(
      await second.request('POST', '/api/v1/auth/login', { body: { email: 'restart-exp@test.local', password: 'wrong-password' } }),
      'AUTHENTICATION_REQUIRED',
    );

    expect(await configVersion(second)).toBe(version);
    expect((await second.request('GET', '/api/v1/feature-flags/restart-flag', { token: second.adminToken })).body.data).toEqual(flagBefore);
    expect((await second.request('GET', '/api/v1/segments/restart-seg', { token: second.adminToken })).body.data.attributes).toMatchObject({
      name: '日本語 🚀',
      included: ['u1', "x'); DROP TABLE users;--"],
    });
    const usersAfter = (await second.request('GET', '/api/v1/users?limit=200', { token: second.adminToken })).body.data;
    expect(usersAfter).toEqual(usersBefore);

    // Keys: the kept one works, the revoked ones stay revoked, the old default SDK key still evaluates.
    expect((await second.request('GET', '/api/v1/feature-flags', { apiKey: kept.key })).status).toBe(200);
    expectError(await second.request('GET', '/api/v1/feature-flags', { apiKey: revoked.key }), 'AUTHENTICATION_REQUIRED');
    expectError(
      await second.request('GET', '/api/v1/feature-flags/restart-flag/evaluate', { apiKey: revokedSdk.key }),
      'AUTHENTICATION_REQUIRED',
    );
    const evalAfter = await second.request(
      'GET',
      `/api/v1/feature-flags/restart-flag/evaluate?user_id=${encodeURIComponent("x'); DROP TABLE users;--")}`,
      { apiKey: first.serverKey },
    );
    expect(evalAfter.body.data).toEqual(evalBefore);
    const keysAfter = (await second.request('GET', '/api/v1/api-keys?limit=200', { token: second.adminToken })).body.data;
    for (const k of keysBefore) {
      const after = keysAfter.find((x: { id: string }) => x.id === k.id);
      expect(after.attributes).toMatchObject({
        name: k.attributes.name,
        prefix: k.attributes.prefix,
        revoked: k.attributes.revoked,
        revoked_at: k.attributes.revoked_at,
        created_at: k.attributes.created_at,
      });
      if (k.attributes.last_used_at !== null) expect(after.attributes.last_used_at).not.toBeNull();
    }
    expect(keysAfter.find((x: { id: string }) => x.id === revoked.id).attributes.revoked).toBe(true);

    // The audit log is the same history, and goes on from where it stopped.
    const auditAfter = (await second.request('GET', '/api/v1/audit-log?limit=200', { token: second.adminToken })).body.data;
    expect(auditAfter.slice(-auditBefore.length)).toEqual(auditBefore);
    await second.request('PATCH', '/api/v1/feature-flags/restart-flag', { token: second.adminToken, body: { enabled: false } });
    expect(await configVersion(second)).toBe(version + 1);
    const latest = (await second.request('GET', '/api/v1/audit-log?limit=1', { token: second.adminToken })).body.data[0];
    expect(Number(latest.id)).toBeGreaterThan(Number(auditBefore[0].id));
  });
});
