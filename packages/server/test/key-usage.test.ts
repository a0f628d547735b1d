import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { createKey } from './support';

const HOUR = 3_600_000;

/**
 * Key-use summaries: requests per API key per hour land in the audit log as one `api-key.usage`
 * record per key and hour (not a write per request), and `last_used_at` is kept on the key.
 */
describe('API key usage summaries', () => {
  let t: TestServer;
  /** The server's clock: ten minutes into an hour, moved an hour on by the test. */
  let clock = Math.floor(Date.now() / HOUR) * HOUR + 10 * 60_000;

  beforeAll(async () => {
    t = await startTestServer({ now: () => clock });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const usage = async (keyId: string) =>
    (await t.request('GET', `/api/v1/audit-log?action=api-key.usage&resource_id=${keyId}`, { token: t.adminToken })).body.data as {
      attributes: { after: { hour_start: string; requests: number; kind: string }; resource: { id: string } };
    }[];

  it('counts requests per key for the hour and writes one audit record per key when the hour is over', async () => {
    const server = await createKey(t, { token: t.adminToken }, { name: 'usage server', kind: 'server' });
    const client = await createKey(t, { token: t.adminToken }, { name: 'usage client', kind: 'client' });
    const hourStart = new Date(Math.floor(clock / HOUR) * HOUR).toISOString();
    for (let i = 0; i < 3; i++) expect((await t.request('GET', '/sdk/v1/config', { apiKey: server.key })).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await t.request('POST', '/sdk/v1/evaluate', { apiKey: client.key, body: { context: { key: 'u' } } })).status).toBe(200);
    // Nothing written per request while the hour runs.
    expect(await usage(server.id)).toEqual([]);
    const read = await t.request('GET', `/api/v1/api-keys/${server.id}`, { token: t.adminToken });
    expect(read.body.data.attributes.last_used_at).toBe(new Date(clock).toISOString());

    clock += HOUR;
    // The first request of the next hour writes the finished hour's counts (and counts itself in the new one).
    expect((await t.request('GET', '/sdk/v1/config', { apiKey: server.key })).status).toBe(200);
    await vi.waitFor(async () => expect(await usage(client.id)).toHaveLength(1));
    const [s] = await usage(server.id);
    expect(s!.attributes.after).toEqual({ hour_start: hourStart, requests: 3, kind: 'server' });
    const [c] = await usage(client.id);
    expect(c!.attributes.after).toEqual({ hour_start: hourStart, requests: 2, kind: 'client' });
    expect(await usage(server.id)).toHaveLength(1);
  });
});
