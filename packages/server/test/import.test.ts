import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { SseClient } from './sse-client';
import { expectError } from './support';

const flag = (key: string, extra: Record<string, unknown> = {}) => ({ key, type: 'boolean', enabled: true, ...extra });

/** The latest config version of an environment, as the store has it. */
async function versionOf(t: TestServer, environment: string): Promise<number> {
  return t.server.ctx.store.configVersion(environment);
}

describe('bulk import (POST /api/v1/import)', { timeout: 180_000 }, () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('stores 10,000 flags and their segments in one transaction: one config version and one SSE patch per environment', async () => {
    const stream = await new SseClient(`${t.url}/sdk/v1/stream`, { 'x-api-key': t.serverKey }).open();
    await stream.until(() => stream.events.some((e) => e.event === 'put'));
    const before = { production: await versionOf(t, 'production'), development: await versionOf(t, 'development') };
    const flags = Array.from({ length: 10_000 }, (_, i) =>
      flag(`bulk-${i}`, {
        name: `Bulk flag ${i}`,
        // Some target a segment of the same import; some depend on an earlier flag of it.
        ...(i % 100 === 1 ? { rules: [{ id: 'beta', when: { segment: 'bulk-beta' }, serve: { variant: 'off' } }] } : {}),
        ...(i % 100 === 2 ? { prerequisites: [{ flag: `bulk-${i - 2}`, variants: ['on'] }] } : {}),
        default_serve: { variant: 'on' },
      }),
    );
    const body = { flags, segments: [{ key: 'bulk-beta', name: 'Beta', included: ['u-beta'] }] };
    // Larger than the 1 MiB limit of every other route: imports have their own.
    expect(JSON.stringify(body).length).toBeGreaterThan(t.server.ctx.options.bodyLimitBytes);

    const r = await t.request('POST', '/api/v1/import', { token: t.adminToken, body });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(201);
    expect(r.body.data).toEqual({
      flags: 10_000,
      segments: 1,
      config_versions: { production: before.production + 1, development: before.development + 1 },
    });

    const doc = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
    expect(doc.body.version).toBe(before.production + 1);
    expect(Object.keys(doc.body.flags).filter((k) => k.startsWith('bulk-'))).toHaveLength(10_000);
    expect(doc.body.segments['bulk-beta']).toMatchObject({ key: 'bulk-beta', included: ['u-beta'] });

    // Exactly one patch, carrying every imported flag and the segment.
    await stream.until(() => stream.events.some((e) => e.event === 'patch'), 60_000);
    const patches = stream.events.filter((e) => e.event === 'patch');
    expect(patches).toHaveLength(1);
    expect(Number(patches[0]!.id)).toBe(before.production + 1);
    expect(Object.keys(patches[0]!.data.flags)).toHaveLength(10_000);
    expect(Object.keys(patches[0]!.data.segments)).toEqual(['bulk-beta']);
    stream.close();

    // Evaluated on the server from the incrementally updated config.
    const beta = await t.request('GET', '/api/v1/feature-flags/bulk-101/evaluate?user_id=u-beta', { token: t.adminToken });
    expect(beta.body.data).toMatchObject({ value: false, reason: 'TARGETING_MATCH' });
    const other = await t.request('GET', '/api/v1/feature-flags/bulk-101/evaluate?user_id=u-other', { token: t.adminToken });
    expect(other.body.data).toMatchObject({ value: true, reason: 'DEFAULT' });

    // One audit record per resource, under the import's request id.
    const audit = await t.request('GET', '/api/v1/audit-log?action=feature-flag.create&limit=200', { token: t.adminToken });
    const requestId = r.headers.get('x-request-id');
    const mine = audit.body.data.filter((a: { attributes: { request_id: string } }) => a.attributes.request_id === requestId);
    expect(mine.length).toBe(200);

    // A one-flag change afterwards is one more version, and is served at once.
    const patch = await t.request('PATCH', '/api/v1/feature-flags/bulk-7', { token: t.adminToken, body: { enabled: false } });
    expect(patch.status).toBe(200);
    const off = await t.request('GET', '/api/v1/feature-flags/bulk-7/evaluate?user_id=u1', { token: t.adminToken });
    expect(off.body.data).toMatchObject({ value: false, reason: 'DISABLED' });
    expect(await versionOf(t, 'production')).toBe(before.production + 2);
  });

  it('rejects the whole import with every bad item by index, and stores nothing', async () => {
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: flag('already-here') });
    const before = await versionOf(t, 'production');
    // First the shape of every item, as its own create would judge it...
    const shape = await t.request('POST', '/api/v1/import', {
      token: t.adminToken,
      body: { flags: [flag('fine-1'), flag('bad key!'), { key: 'typo', type: 'boolen' }], segments: [{ key: 'seg-ok' }] },
    });
    expect(expectError(shape, 'VALIDATION_ERROR').details.map((d: { path: string }) => d.path)).toEqual(['flags.1.key', 'flags.2.type']);
    // ...then keys: taken in the store, or given twice.
    const r = await t.request('POST', '/api/v1/import', {
      token: t.adminToken,
      body: { flags: [flag('fine-1'), flag('already-here'), flag('fine-1')], segments: [{ key: 'seg-ok' }] },
    });
    const e = expectError(r, 'VALIDATION_ERROR');
    expect(e.details).toEqual([
      { index: 1, path: 'flags.1.key', message: "the key 'already-here' is already used by a feature flag" },
      { index: 2, path: 'flags.2.key', message: "the key 'fine-1' is also given at flags.0" },
    ]);

    // With the items themselves valid, the references between them and the store are judged.
    const refs = await t.request('POST', '/api/v1/import', {
      token: t.adminToken,
      body: {
        flags: [
          flag('fine-2'),
          flag('needs-missing', { prerequisites: [{ flag: 'nowhere', variants: ['on'] }] }),
          flag('wants-segment', { rules: [{ id: 'r', when: { segment: 'no-such-segment' }, serve: { variant: 'on' } }] }),
        ],
      },
    });
    const re = expectError(refs, 'VALIDATION_ERROR');
    expect(re.details.map((d: { path: string; index: number }) => [d.path, d.index])).toEqual([
      ['flags.1.prerequisites.0.flag', 1],
      ['flags.2.rules.0.when', 2],
    ]);

    expect(await versionOf(t, 'production')).toBe(before);
    for (const key of ['fine-1', 'fine-2', 'needs-missing'])
      expect((await t.request('GET', `/api/v1/feature-flags/${key}`, { token: t.adminToken })).status).toBe(404);
    expect((await t.request('GET', '/api/v1/segments/seg-ok', { token: t.adminToken })).status).toBe(404);
  });

  it('takes per-environment state and flags serving experiments, checked as their own creates would be', async () => {
    const as = { token: t.adminToken };
    const ab = await t.request('POST', '/api/v1/experiments', {
      ...as,
      body: {
        key: 'imp-ab',
        name: 'Import A/B',
        variants: [
          { key: 'off', weight: 0 },
          { key: 'on', weight: 100 },
        ],
      },
    });
    expect(ab.status, JSON.stringify(ab.body)).toBe(201);
    const onOff = {
      variants: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
      off_variant: 'off',
    };
    // An unknown experiment, and one whose arms are not flag variants, reject the whole import.
    const bad = await t.request('POST', '/api/v1/import', {
      ...as,
      body: {
        flags: [
          flag('imp-fine', onOff),
          flag('imp-unknown', { ...onOff, default_serve: { experiment: 'no-such-exp' } }),
          flag('imp-arms', {
            type: 'string',
            variants: [{ key: 'red', value: 'red' }],
            rules: [{ id: 'r', serve: { experiment: 'imp-ab' } }],
            default_serve: { variant: 'red' },
          }),
        ],
      },
    });
    const e = expectError(bad, 'VALIDATION_ERROR');
    expect(e.details.map((d: { path: string; index: number }) => [d.path, d.index])).toEqual([
      ['flags.1.default_serve.experiment', 1],
      ['flags.2.rules.0.serve.experiment', 2],
    ]);
    expect((await t.request('GET', '/api/v1/feature-flags/imp-fine', as)).status).toBe(404);

    // Each environment's state as given; the flag serves the experiment in production only.
    const r = await t.request('POST', '/api/v1/import', {
      ...as,
      body: {
        flags: [
          flag('imp-served', {
            ...onOff,
            default_serve: { experiment: 'imp-ab' },
            environments: { development: { enabled: false, default_serve: { variant: 'on' } } },
          }),
        ],
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const got = await t.request('GET', '/api/v1/feature-flags/imp-served', as);
    expect(got.body.data.attributes.environments.production).toMatchObject({ enabled: true, default_serve: { experiment: 'imp-ab' } });
    expect(got.body.data.attributes.environments.development).toMatchObject({ enabled: false, default_serve: { variant: 'on' } });

    // A draft enrols nobody: the default falls through to the off variant. Starting the
    // experiment changes only the experiment, and the flag that serves it follows at once.
    const evaluate = () => t.request('GET', '/api/v1/feature-flags/imp-served/evaluate?user_id=u1', as);
    expect((await evaluate()).body.data).toMatchObject({ value: false, reason: 'DEFAULT' });
    expect((await t.request('POST', '/api/v1/experiments/imp-ab/start', as)).status).toBe(200);
    expect((await evaluate()).body.data).toMatchObject({ value: true, variant: 'on', reason: 'SPLIT' });
  });

  it("places a problem in another environment's state under that environment, as a flag create does", async () => {
    const r = await t.request('POST', '/api/v1/import', {
      token: t.adminToken,
      body: {
        flags: [
          flag('imp-ok'),
          flag('imp-dev-ref', {
            environments: { development: { rules: [{ id: 'r', when: { segment: 'nowhere' }, serve: { variant: 'on' } }] } },
          }),
        ],
      },
    });
    const single = await t.request('POST', '/api/v1/feature-flags', {
      token: t.adminToken,
      body: flag('imp-dev-ref', {
        environments: { development: { rules: [{ id: 'r', when: { segment: 'nowhere' }, serve: { variant: 'on' } }] } },
      }),
    });
    const own = expectError(single, 'VALIDATION_ERROR').details as { path: string; message: string }[];
    expect(own.map((d) => d.path)).toEqual(['environments.development.rules.0.when']);
    expect(expectError(r, 'VALIDATION_ERROR').details).toEqual(own.map((d) => ({ ...d, index: 1, path: `flags.1.${d.path}` })));
  });

  it('refuses a non-ADMIN flag state in a protected environment, and takes flags with none there', async () => {
    const env = await t.request('PATCH', '/api/v1/environments/development', { token: t.adminToken, body: { protected: true } });
    expect(env.status, JSON.stringify(env.body)).toBe(200);
    try {
      const experimenter = await t.user('EXPERIMENTER');
      const as = { token: experimenter.token };
      const before = await versionOf(t, 'production');
      const refused = await t.request('POST', '/api/v1/import', {
        ...as,
        body: { flags: [flag('imp-prod-only'), flag('imp-in-dev', { environments: { development: { enabled: true } } })] },
      });
      expect(expectError(refused, 'PERMISSION_DENIED').message).toMatch(/'development' is a protected environment/);
      expect(await versionOf(t, 'production')).toBe(before);
      const taken = await t.request('POST', '/api/v1/import', { ...as, body: { flags: [flag('imp-prod-only')] } });
      expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    } finally {
      await t.request('PATCH', '/api/v1/environments/development', { token: t.adminToken, body: { protected: false } });
    }
  });

  it('needs the right to create flags: a VIEWER is refused, an EXPERIMENTER owns what it imports', async () => {
    const viewer = await t.user('VIEWER');
    expectError(
      await t.request('POST', '/api/v1/import', { token: viewer.token, body: { flags: [flag('by-viewer')] } }),
      'PERMISSION_DENIED',
    );
    const experimenter = await t.user('EXPERIMENTER');
    const r = await t.request('POST', '/api/v1/import', { token: experimenter.token, body: { flags: [flag('by-experimenter')] } });
    expect(r.status).toBe(201);
    const got = await t.request('GET', '/api/v1/feature-flags/by-experimenter', { token: t.adminToken });
    expect(got.body.data.relationships.owner.data.id).toBe(experimenter.id);
    expectError(await t.request('POST', '/api/v1/import', { token: t.adminToken, body: { flags: [], extra: 1 } }), 'VALIDATION_ERROR');
  });
});
