import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';
import { SseClient } from './sse-client';
import { createKey } from './support';

/**
 * Revocation on one instance takes effect on every instance sharing the PostgreSQL database at
 * once: streams opened on the other instance with a revoked key, or with the keys of a deleted
 * user, are closed; cached keys and users are dropped there, so the next request is refused
 * without waiting for the credential cache to expire.
 */
describe('revocation reaches every instance on one PostgreSQL', () => {
  let postgres: TestPostgres;
  let a: TestServer;
  let b: TestServer;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
    const databaseUrl = await postgres.createDatabase();
    // A credential cache far longer than any wait below: only the signal can make B forget.
    const shared = { databaseUrl, loginRatePerMinute: 10_000, credentialCacheTtlMs: 3_600_000 };
    a = await startTestServer(shared);
    b = await startTestServer(shared);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await b?.stop();
    await a?.stop();
    await postgres?.stop();
  });

  const open = async (t: TestServer, key: string, path = '/sdk/v1/stream') => {
    const s = await new SseClient(t.url + path, { 'x-api-key': key }).open();
    streams.push(s);
    await vi.waitFor(() => expect(s.events.length).toBeGreaterThan(0));
    return s;
  };

  it('revoking a key on A closes its stream on B and B refuses the key at once; other streams on B go on', async () => {
    const revoked = await createKey(a, { token: a.adminToken }, { name: 'to revoke', kind: 'server' });
    const kept = await createKey(a, { token: a.adminToken }, { name: 'to keep', kind: 'server' });
    const onB = await open(b, revoked.key);
    const keptOnB = await open(b, kept.key);
    // B has the key cached now.
    expect((await b.request('GET', '/sdk/v1/config', { apiKey: revoked.key })).status).toBe(200);
    const signalsOfA = { ...a.server.pipeline.signals };
    const receivedByB = b.server.pipeline.signals.received;
    expect((await a.request('DELETE', `/api/v1/api-keys/${revoked.id}`, { token: a.adminToken })).status).toBe(204);
    await vi.waitFor(() => expect(onB.closed).toBe(true), { timeout: 15_000, interval: 20 });
    // B acted on A's signal; A acted when it sent it and ignores its own echo from PostgreSQL.
    expect(b.server.pipeline.signals.received).toBe(receivedByB + 1);
    await vi.waitFor(() => expect(a.server.pipeline.signals.ownEchoes).toBe(signalsOfA.ownEchoes + 1), { timeout: 15_000, interval: 20 });
    expect(a.server.pipeline.signals.received).toBe(signalsOfA.received);
    await vi.waitFor(async () => expect((await b.request('GET', '/sdk/v1/config', { apiKey: revoked.key })).status).toBe(401), {
      timeout: 15_000,
      interval: 50,
    });
    const before = keptOnB.events.length;
    const seg = await a.request('POST', '/api/v1/segments', { token: a.adminToken, body: { key: 'after-cluster-revoke', name: 'x' } });
    expect(seg.status).toBe(201);
    await vi.waitFor(() => expect(keptOnB.events.length).toBeGreaterThan(before), { timeout: 15_000, interval: 20 });
    expect(keptOnB.closed).toBe(false);
  });

  it("deleting a user on A revokes their server and client keys and closes those keys' streams on B", async () => {
    const admin2 = await a.user('ADMIN');
    const server = await createKey(a, { token: admin2.token }, { name: 'their server key', kind: 'server' });
    const client = await createKey(a, { token: admin2.token }, { name: 'their client key', kind: 'client' });
    const configStream = await open(b, server.key);
    const remoteStream = await open(b, client.key, `/sdk/v1/stream?context=${encodeURIComponent(JSON.stringify({ key: 'u1' }))}`);
    const del = await a.request('DELETE', `/api/v1/users/${admin2.id}`, { token: a.adminToken });
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    await vi.waitFor(() => expect(configStream.closed && remoteStream.closed).toBe(true), { timeout: 15_000, interval: 20 });
    expect((await b.request('GET', '/sdk/v1/config', { apiKey: server.key })).status).toBe(401);
    expect((await b.request('GET', `/api/v1/api-keys/${client.id}`, { token: b.adminToken })).body.data.attributes.revoked).toBe(true);
  });

  it('demoting a user on A lowers what their management key may do on B at once', async () => {
    const admin3 = await a.user('ADMIN');
    const mgmt = await createKey(a, { token: admin3.token }, { name: 'automation', kind: 'management' });
    // Cached on B with the creator's ADMIN role.
    expect((await b.request('GET', '/api/v1/audit-log', { apiKey: mgmt.key })).status).toBe(200);
    const demote = await a.request('PATCH', `/api/v1/users/${admin3.id}`, { token: a.adminToken, body: { role: 'VIEWER' } });
    expect(demote.status, JSON.stringify(demote.body)).toBe(200);
    await vi.waitFor(async () => expect((await b.request('GET', '/api/v1/audit-log', { apiKey: mgmt.key })).status).toBe(403), {
      timeout: 15_000,
      interval: 50,
    });
  });
});
