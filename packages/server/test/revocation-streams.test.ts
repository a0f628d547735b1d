import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { SseClient } from './sse-client';
import { createKey } from './support';

describe('revocation reaches open streams', () => {
  let t: TestServer;
  const streams: SseClient[] = [];
  beforeAll(async () => {
    t = await startTestServer({ loginRatePerMinute: 10_000 });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await t.stop();
  });

  const open = async (key: string, path = '/sdk/v1/stream') => {
    const s = await new SseClient(t.url + path, { 'x-api-key': key }).open();
    streams.push(s);
    await vi.waitFor(() => expect(s.events.length).toBeGreaterThan(0));
    return s;
  };

  it('revoking a server key ends its config stream at once, and only its own', async () => {
    const revoked = await createKey(t, { token: t.adminToken }, { name: 'to revoke', kind: 'server' });
    const kept = await createKey(t, { token: t.adminToken }, { name: 'to keep', kind: 'server' });
    const a = await open(revoked.key);
    const b = await open(kept.key);
    expect((await t.request('DELETE', `/api/v1/api-keys/${revoked.id}`, { token: t.adminToken })).status).toBe(204);
    await vi.waitFor(() => expect(a.closed).toBe(true));
    // The other key's stream still gets changes.
    const before = b.events.length;
    expect((await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'after-revoke', name: 'x' } })).status).toBe(
      201,
    );
    await vi.waitFor(() => expect(b.events.length).toBeGreaterThan(before));
    expect(b.closed).toBe(false);
  });

  it('deleting a user ends the streams of the client keys they created (remote evaluation)', async () => {
    const admin2 = await t.user('ADMIN');
    const key = await createKey(t, { token: admin2.token }, { name: 'their client key', kind: 'client' });
    const s = await open(key.key, `/sdk/v1/stream?context=${encodeURIComponent(JSON.stringify({ key: 'u1' }))}`);
    expect((await t.request('DELETE', `/api/v1/users/${admin2.id}`, { token: t.adminToken })).status).toBe(204);
    await vi.waitFor(() => expect(s.closed).toBe(true));
  });
});
