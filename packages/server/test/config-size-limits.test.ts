import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';
import { configDocumentBytes } from '../src/services/config/config-bytes';
import { configVersion, expectError } from './support';

/**
 * Config size limits over real HTTP on both stores: a flag or segment write that would make one
 * entry larger than the per-flag limit, or the environment's config document larger than its
 * limit, is a 413 naming the limit, and nothing is written.
 */

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

const MAX_FLAG = 4_000;
const MAX_CONFIG = 40_000;

/** A rule whose `in` list takes about `bytes` bytes of JSON. */
const bulkyRule = (id: string, bytes: number) => ({
  id,
  when: { attr: 'country', op: 'in', values: Array.from({ length: Math.ceil(bytes / 12) }, (_, i) => `c-${String(i).padStart(6, '0')}`) },
  serve: { variant: 'on' },
});

describe.each(['sqlite', 'postgres'] as const)('config size limits: %s', (kind) => {
  let t: TestServer;
  const admin = () => ({ token: t.adminToken });
  const auditCount = async () =>
    (await t.request('GET', '/api/v1/audit-log?limit=200', admin())).body.data.filter((r: any) =>
      /^(flag|segment)\./.test(r.attributes.action),
    ).length;

  beforeAll(async () => {
    t = await startTestServer({
      maxFlagBytes: MAX_FLAG,
      maxConfigBytes: MAX_CONFIG,
      ...(kind === 'postgres' ? { databaseUrl: await postgres.createDatabase() } : {}),
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a flag larger than the per-flag limit is refused with 413 naming the limit; nothing is stored', async () => {
    const before = { version: await configVersion(t), audit: await auditCount() };
    const r = await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: { key: 'too-big', type: 'boolean', rules: [bulkyRule('r1', MAX_FLAG + 500)] },
    });
    const err = expectError(r, 'PAYLOAD_TOO_LARGE');
    expect(err.message).toContain('SWITCHYARD_MAX_FLAG_BYTES');
    expect(err.details).toEqual([
      expect.objectContaining({ path: 'flags.too-big', environment: 'production', limit: MAX_FLAG, setting: 'SWITCHYARD_MAX_FLAG_BYTES' }),
    ]);
    expect(err.details[0].bytes).toBeGreaterThan(MAX_FLAG);
    expect((await t.request('GET', '/api/v1/feature-flags/too-big', admin())).status).toBe(404);
    expect(await configVersion(t)).toBe(before.version);
    expect(await auditCount()).toBe(before.audit);
  });

  it('an update that would push a flag over the limit is refused and the stored flag is unchanged; one under it passes', async () => {
    const created = await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: { key: 'grows', type: 'boolean', rules: [bulkyRule('r1', 1_000)] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const version = await configVersion(t);
    const grown = await t.request('PATCH', '/api/v1/feature-flags/grows', {
      ...admin(),
      body: { rules: [bulkyRule('r1', 1_000), bulkyRule('r2', 3_500)] },
    });
    expectError(grown, 'PAYLOAD_TOO_LARGE');
    const stored = await t.request('GET', '/api/v1/feature-flags/grows', admin());
    expect(stored.body.data.attributes.rules.map((x: { id: string }) => x.id)).toEqual(['r1']);
    expect(await configVersion(t)).toBe(version);
    // The config served to SDKs never saw it either.
    const config = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
    expect(config.body.flags.grows.rules).toHaveLength(1);
    const fine = await t.request('PATCH', '/api/v1/feature-flags/grows', { ...admin(), body: { rules: [bulkyRule('r1', 2_000)] } });
    expect(fine.status, JSON.stringify(fine.body).slice(0, 300)).toBe(200);
  });

  it('a segment larger than the per-flag limit is refused the same way', async () => {
    const included = Array.from({ length: 600 }, (_, i) => `user-${i}`);
    const r = await t.request('POST', '/api/v1/segments', { ...admin(), body: { key: 'huge-segment', name: 'x', included } });
    expect(expectError(r, 'PAYLOAD_TOO_LARGE').details[0]).toMatchObject({ path: 'segments.huge-segment' });
    expect((await t.request('GET', '/api/v1/segments/huge-segment', admin())).status).toBe(404);
  });

  it('the size limits are checked against a running total that each write keeps equal to the live document', async () => {
    const live = t.server.ctx.config;
    const steps: [string, string, unknown?][] = [
      ['POST', '/api/v1/feature-flags', { key: 'sized', type: 'boolean', rules: [bulkyRule('r', 1_000)] }],
      ['PATCH', '/api/v1/feature-flags/sized', { rules: [bulkyRule('r', 2_000)] }],
      ['PATCH', '/api/v1/feature-flags/sized', { enabled: true, rules: [] }],
      ['POST', '/api/v1/segments', { key: 'sized-segment', name: 'x', included: ['u1', 'u2'] }],
      ['PATCH', '/api/v1/segments/sized-segment', { included: ['u1'] }],
      [
        'POST',
        '/api/v1/experiments',
        {
          key: 'sized-exp',
          variants: [
            { key: 'control', weight: 50 },
            { key: 'treatment', weight: 50 },
          ],
          metrics: [{ key: 'buy', type: 'conversion' }],
        },
      ],
      ['POST', '/api/v1/experiments/sized-exp/start'],
      ['PATCH', '/api/v1/experiments/sized-exp', { traffic_allocation: 40 }],
      ['POST', '/api/v1/experiments/sized-exp/complete'],
      ['DELETE', '/api/v1/feature-flags/sized'],
      ['DELETE', '/api/v1/segments/sized-segment'],
    ];
    for (const [method, path, body] of steps) {
      const r = await t.request(method, path, { ...admin(), ...(body === undefined ? {} : { body }) });
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body).slice(0, 300)}`).toBeLessThan(300);
      // Equal to a full measurement of the document, and within the envelope's slack of its serialization.
      expect(live.bytes, `${method} ${path}`).toBe(configDocumentBytes(live.document));
      expect(Math.abs(live.bytes - Buffer.byteLength(JSON.stringify(live.document)))).toBeLessThan(100);
    }
  });

  it('a bulk import that would take the config document over its limit is refused whole', async () => {
    const version = await configVersion(t);
    const flags = Array.from({ length: 20 }, (_, i) => ({ key: `imported-${i}`, type: 'boolean', rules: [bulkyRule('r', 3_000)] }));
    const r = await t.request('POST', '/api/v1/import', { ...admin(), body: { flags } });
    expect(expectError(r, 'PAYLOAD_TOO_LARGE').details).toEqual([expect.objectContaining({ path: 'config', limit: MAX_CONFIG })]);
    expect((await t.request('GET', '/api/v1/feature-flags/imported-0', admin())).status).toBe(404);
    expect(await configVersion(t)).toBe(version);
  });

  it('the write that would take the config document over its limit is refused; deleting makes room again', async () => {
    const made: string[] = [];
    let refused: Awaited<ReturnType<TestServer['request']>> | null = null;
    for (let i = 0; i < 40 && refused === null; i++) {
      const key = `filler-${i}`;
      const r = await t.request('POST', '/api/v1/feature-flags', {
        ...admin(),
        body: { key, type: 'boolean', rules: [bulkyRule('r', 3_000)] },
      });
      if (r.status === 201) made.push(key);
      else refused = r;
    }
    expect(refused, 'the document limit was never reached').not.toBeNull();
    const err = expectError(refused!, 'PAYLOAD_TOO_LARGE');
    expect(err.details).toEqual([expect.objectContaining({ path: 'config', limit: MAX_CONFIG, setting: 'SWITCHYARD_MAX_CONFIG_BYTES' })]);
    const refusedKey = `filler-${made.length}`;
    expect((await t.request('GET', `/api/v1/feature-flags/${refusedKey}`, admin())).status).toBe(404);
    // What SDKs get stays under the limit.
    const config = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
    expect(Buffer.byteLength(JSON.stringify(config.body))).toBeLessThanOrEqual(MAX_CONFIG);
    // A deletion always passes, and makes room for the refused flag.
    expect((await t.request('DELETE', `/api/v1/feature-flags/${made[0]}`, admin())).status).toBe(204);
    const retry = await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: { key: refusedKey, type: 'boolean', rules: [bulkyRule('r', 3_000)] },
    });
    expect(retry.status, JSON.stringify(retry.body).slice(0, 300)).toBe(201);
  });
});
