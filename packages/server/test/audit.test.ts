import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_EMAIL, startTestServer, type Reply, type TestServer } from './helpers';
import { createKey, expectError, whoAmI } from './support';

const UA = 'switchyard-audit-tests/1.0 (+https://example.test)';

describe('audit log', () => {
  let t: TestServer;
  let adminId: string;
  let rid = 0;
  /** A request with our own request id and user agent; returns the reply and the id sent. */
  const send = async (
    method: string,
    path: string,
    o: { body?: unknown; token?: string; apiKey?: string } = {},
  ): Promise<{ r: Reply; requestId: string }> => {
    const requestId = `audit-req-${++rid}`;
    const auth = o.apiKey === undefined ? { token: o.token ?? t.adminToken } : { apiKey: o.apiKey };
    const r = await t.request(method, path, {
      ...auth,
      ...(o.body === undefined ? {} : { body: o.body }),
      headers: { 'x-request-id': requestId, 'user-agent': UA },
    });
    expect(r.headers.get('x-request-id')).toBe(requestId);
    return { r, requestId };
  };
  const audit = async (query: string): Promise<any[]> => {
    const r = await t.request('GET', `/api/v1/audit-log?limit=200&${query}`, { token: t.adminToken });
    expect(r.status).toBe(200);
    return r.body.data;
  };
  /** The one record a request wrote. */
  const recordOf = async (requestId: string) => {
    const all = await audit('');
    const mine = all.filter((a) => a.attributes.request_id === requestId);
    expect(mine, requestId).toHaveLength(1);
    return mine[0].attributes;
  };
  const newest = async () => (await audit('limit=1'))[0];

  beforeAll(async () => {
    t = await startTestServer();
    adminId = await whoAmI(t, t.adminToken);
  });
  afterAll(async () => {
    await t.stop();
  });

  const expectOrigin = (a: any, requestId: string) => {
    expect(a.request_id).toBe(requestId);
    expect(a.user_agent).toBe(UA);
    expect(a.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
    expect(Math.abs(Date.parse(a.at) - Date.now())).toBeLessThan(60_000);
  };
  const adminActor = () => ({ type: 'user', id: adminId, label: ADMIN_EMAIL });

  it('records first start as the system', async () => {
    const first = (await audit('')).reverse().slice(0, 3);
    expect(first.map((a) => a.attributes.action)).toEqual(['user.create', 'api-key.create', 'api-key.create']);
    for (const a of first) expect(a.attributes.actor).toEqual({ type: 'system', id: null, label: 'system' });
  });

  it('records flag create, PATCH, PUT and DELETE with before/after and the request origin', async () => {
    const c = await send('POST', '/api/v1/feature-flags', { body: { key: 'audited-flag', type: 'boolean', name: 'Audited' } });
    expect(c.r.status).toBe(201);
    const id = c.r.body.data.id;
    const created = await recordOf(c.requestId);
    expect(created).toMatchObject({
      action: 'feature-flag.create',
      actor: adminActor(),
      resource: { type: 'feature-flag', id, key: 'audited-flag' },
      before: null,
    });
    expect(created.after).toMatchObject({ key: 'audited-flag', name: 'Audited', enabled: false, off_variant: 'off' });
    expectOrigin(created, c.requestId);

    const p = await send('PATCH', '/api/v1/feature-flags/audited-flag', { body: { enabled: true } });
    expect(p.r.status).toBe(200);
    const patched = await recordOf(p.requestId);
    expect(patched).toMatchObject({ action: 'feature-flag.update', resource: { type: 'feature-flag', id, key: 'audited-flag' } });
    expect(patched.before).toMatchObject({ enabled: false, name: 'Audited' });
    expect(patched.after).toMatchObject({ enabled: true, name: 'Audited' });
    expectOrigin(patched, p.requestId);

    const u = await send('PUT', `/api/v1/feature-flags/${id}`, { body: { type: 'boolean', name: 'Replaced' } });
    expect(u.r.status).toBe(200);
    const put = await recordOf(u.requestId);
    expect(put).toMatchObject({ action: 'feature-flag.update', resource: { id, key: 'audited-flag' } });
    expect(put.before).toMatchObject({ enabled: true, name: 'Audited' });
    expect(put.after).toMatchObject({ enabled: false, name: 'Replaced' });

    const d = await send('DELETE', '/api/v1/feature-flags/audited-flag');
    expect(d.r.status).toBe(204);
    const deleted = await recordOf(d.requestId);
    expect(deleted).toMatchObject({
      action: 'feature-flag.delete',
      resource: { type: 'feature-flag', id, key: 'audited-flag' },
      after: null,
    });
    expect(deleted.before).toMatchObject({ name: 'Replaced' });
    expectOrigin(deleted, d.requestId);

    // Filter by id or by key, newest first.
    const byId = await audit(`resource_id=${id}`);
    expect(byId.map((a) => a.attributes.action)).toEqual([
      'feature-flag.delete',
      'feature-flag.update',
      'feature-flag.update',
      'feature-flag.create',
    ]);
    expect((await audit('resource_id=audited-flag')).map((a) => a.id)).toEqual(byId.map((a) => a.id));
    const ids = byId.map((a) => Number(a.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  });

  it('records segment mutations made with a management key as the key', async () => {
    const exp = await t.user('EXPERIMENTER');
    const key = await createKey(t, { token: exp.token }, { name: 'ci pipeline', kind: 'management' });
    const c = await send('POST', '/api/v1/segments', { apiKey: key.key, body: { key: 'audited-seg', included: ['u1'] } });
    expect(c.r.status).toBe(201);
    const keyActor = { type: 'api_key', id: key.id, label: 'ci pipeline' };
    const created = await recordOf(c.requestId);
    expect(created).toMatchObject({
      action: 'segment.create',
      actor: keyActor,
      resource: { type: 'segment', key: 'audited-seg' },
      before: null,
      after: { included: ['u1'] },
    });
    expectOrigin(created, c.requestId);
    const p = await send('PATCH', '/api/v1/segments/audited-seg', { apiKey: key.key, body: { excluded: ['u2'] } });
    expect(await recordOf(p.requestId)).toMatchObject({
      action: 'segment.update',
      actor: keyActor,
      before: { excluded: [] },
      after: { included: ['u1'], excluded: ['u2'] },
    });
    const u = await send('PUT', '/api/v1/segments/audited-seg', { apiKey: key.key, body: { name: 'Replaced' } });
    expect(await recordOf(u.requestId)).toMatchObject({
      action: 'segment.update',
      before: { included: ['u1'] },
      after: { name: 'Replaced', included: [], excluded: [] },
    });
    const d = await send('DELETE', '/api/v1/segments/audited-seg', { apiKey: key.key });
    expect(await recordOf(d.requestId)).toMatchObject({
      action: 'segment.delete',
      actor: keyActor,
      before: { name: 'Replaced' },
      after: null,
    });
    // Filter by actor: the key's four records and nothing else.
    const byActor = await audit(`actor_id=${key.id}`);
    expect(byActor.map((a) => a.attributes.action)).toEqual(['segment.delete', 'segment.update', 'segment.update', 'segment.create']);
  });

  it('records user create, update and delete without any password or hash', async () => {
    const password = 'a-very-secret-password';
    const c = await send('POST', '/api/v1/users', {
      body: { email: 'audited@test.local', name: 'Audited User', role: 'VIEWER', password },
    });
    expect(c.r.status).toBe(201);
    const id = c.r.body.data.id;
    expect(await recordOf(c.requestId)).toMatchObject({
      action: 'user.create',
      actor: adminActor(),
      resource: { type: 'user', id, key: 'audited@test.local' },
      before: null,
      after: { email: 'audited@test.local', name: 'Audited User', role: 'VIEWER' },
    });
    const u = await send('PATCH', `/api/v1/users/${id}`, { body: { role: 'EXPERIMENTER', password: 'another-secret-password' } });
    const updated = await recordOf(u.requestId);
    expect(updated).toMatchObject({
      action: 'user.update',
      before: { role: 'VIEWER' },
      after: { role: 'EXPERIMENTER', password_changed: true },
    });
    expectOrigin(updated, u.requestId);
    const d = await send('DELETE', `/api/v1/users/${id}`);
    expect(await recordOf(d.requestId)).toMatchObject({
      action: 'user.delete',
      resource: { type: 'user', id },
      before: { email: 'audited@test.local', role: 'EXPERIMENTER' },
      after: { revoked_api_keys: [] },
    });
    const text = JSON.stringify(await audit(`resource_id=${id}`));
    expect(text).not.toContain(password);
    expect(text).not.toContain('another-secret-password');
    expect(text).not.toMatch(/scrypt\$|password_hash|passwordHash/);
  });

  it('records API key create and revoke without the secret', async () => {
    const c = await send('POST', '/api/v1/api-keys', { body: { name: 'audited key', kind: 'server' } });
    expect(c.r.status).toBe(201);
    const { id, attributes } = c.r.body.data;
    expect(await recordOf(c.requestId)).toMatchObject({
      action: 'api-key.create',
      actor: adminActor(),
      resource: { type: 'api-key', id, key: 'audited key' },
      before: null,
      after: { name: 'audited key', kind: 'server', prefix: attributes.prefix },
    });
    const d = await send('DELETE', `/api/v1/api-keys/${id}`);
    const revoked = await recordOf(d.requestId);
    expect(revoked).toMatchObject({ action: 'api-key.revoke', resource: { type: 'api-key', id }, before: { revoked_at: null } });
    expect(Number.isNaN(Date.parse(revoked.after.revoked_at))).toBe(false);
    expectOrigin(revoked, d.requestId);
    const text = JSON.stringify(await audit(''));
    expect(text).not.toContain(attributes.key);
    expect(text).not.toContain(attributes.key.slice(12));
  });

  it('writes nothing for invalid or failed requests, nor for reads; a refused one only its auth.denied record', async () => {
    const viewer = await t.user('VIEWER');
    const before = await newest();
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'exists-once', type: 'boolean' } });
    const mark = await newest();
    expect(Number(mark.id)).toBeGreaterThan(Number(before.id));
    const refused = await t.request('POST', '/api/v1/feature-flags', { token: viewer.token, body: { key: 'refused', type: 'boolean' } });
    expectError(refused, 'PERMISSION_DENIED');
    // The denial is audited off the response path: wait for it, then take it as the new mark.
    const denied = await vi.waitFor(() => recordOf(refused.headers.get('x-request-id')!));
    expect(denied).toMatchObject({ action: 'auth.denied', resource: { type: 'request', key: 'POST /api/v1/feature-flags' } });
    expect(Number((await newest()).id)).toBe(Number(mark.id) + 1);
    const mark2 = await newest();
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'bad key', type: 'boolean' } }),
      'VALIDATION_ERROR',
    );
    expectError(
      await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'exists-once', type: 'boolean' } }),
      'CONFLICT',
    );
    expectError(
      await t.request('PATCH', '/api/v1/feature-flags/nope', { token: t.adminToken, body: { enabled: true } }),
      'RESOURCE_NOT_FOUND',
    );
    expectError(await t.request('DELETE', `/api/v1/users/${adminId}`, { token: t.adminToken }), 'CONFLICT');
    expectError(await t.request('POST', '/api/v1/feature-flags', { body: { key: 'anon', type: 'boolean' } }), 'AUTHENTICATION_REQUIRED');
    await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken });
    await t.request('GET', '/api/v1/feature-flags/exists-once/evaluate', { apiKey: t.serverKey });
    expect((await newest()).id).toBe(mark2.id);
  });

  it('filters by action, resource type, actor and resource, and pages newest first with a cursor', async () => {
    for (let i = 0; i < 5; i++) await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: `paged-${i}` } });
    const creates = await audit('action=segment.create');
    expect(creates.length).toBeGreaterThanOrEqual(5);
    for (const a of creates) expect(a.attributes.action).toBe('segment.create');
    for (const a of await audit('resource_type=user')) expect(a.attributes.resource.type).toBe('user');
    for (const a of await audit(`actor_id=${adminId}`)) expect(a.attributes.actor.id).toBe(adminId);
    expect(await audit('action=no.such.action')).toEqual([]);
    expect((await audit('action=segment.create&resource_id=paged-3')).map((a) => a.attributes.resource.key)).toEqual(['paged-3']);

    const all = await audit('');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Reply = await t.request('GET', `/api/v1/audit-log?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`, {
        token: t.adminToken,
      });
      expect(r.status).toBe(200);
      expect(r.body.data.length).toBeLessThanOrEqual(3);
      seen.push(...r.body.data.map((a: { id: string }) => a.id));
      cursor = r.body.meta.pagination.next_cursor;
      expect(r.body.meta.pagination.has_more).toBe(cursor !== null);
      pages++;
    } while (cursor !== null && pages < 100);
    expect(seen).toEqual(all.map((a) => a.id));
    expect(all.length).toBeLessThan(200);
    expect(pages).toBe(Math.ceil(all.length / 3));
    const nums = seen.map(Number);
    expect(nums).toEqual([...nums].sort((a, b) => b - a));
    // Filters and cursors combine.
    const page1 = await t.request('GET', '/api/v1/audit-log?action=segment.create&limit=2', { token: t.adminToken });
    const page2 = await t.request(
      'GET',
      `/api/v1/audit-log?action=segment.create&limit=2&cursor=${page1.body.meta.pagination.next_cursor}`,
      { token: t.adminToken },
    );
    expect([...page1.body.data, ...page2.body.data].map((a: { id: string }) => a.id)).toEqual(creates.slice(0, 4).map((a) => a.id));
  });

  it('is append-only: the API has no way to change it and the database refuses to', async () => {
    const count = (await audit('')).length;
    for (const [method, path] of [
      ['DELETE', '/api/v1/audit-log'],
      ['DELETE', '/api/v1/audit-log/1'],
      ['PATCH', '/api/v1/audit-log/1'],
      ['PUT', '/api/v1/audit-log/1'],
      ['POST', '/api/v1/audit-log'],
    ] as const) {
      expectError(
        await t.request(method, path, { token: t.adminToken, ...(method === 'DELETE' ? {} : { body: { action: 'forged' } }) }),
        'RESOURCE_NOT_FOUND',
      );
    }
    const db = new Database(t.dbPath);
    try {
      expect(() => db.prepare("UPDATE audit_log SET action = 'forged'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
    const after = await audit('');
    expect(after).toHaveLength(count);
    expect(after.some((a) => a.attributes.action === 'forged')).toBe(false);
  });
});
