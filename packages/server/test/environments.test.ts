import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';
import { SseClient } from './sse-client';
import { detailPaths, expectError } from './support';
import { assignedVariant } from './assignment';

/**
 * Environments over real HTTP, on SQLite and on PostgreSQL: the resource, the request
 * environment, per-environment flag state, config documents and streams, SDK endpoints and
 * events by the key's environment, promotion and protected environments.
 */

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describe.each(['sqlite', 'postgres'] as const)('environments: %s', (kind) => {
  let t: TestServer;
  const streams: SseClient[] = [];
  const admin = () => ({ token: t.adminToken });
  const createKey = async (kindOfKey: 'server' | 'client', environment: string): Promise<string> => {
    const r = await t.request('POST', '/api/v1/api-keys', {
      ...admin(),
      body: { name: `${kindOfKey} ${environment}`, kind: kindOfKey, environment },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.data.attributes.environment).toBe(environment);
    return r.body.data.attributes.key as string;
  };
  const createEnvironment = async (key: string, extra: Record<string, unknown> = {}) => {
    const r = await t.request('POST', '/api/v1/environments', { ...admin(), body: { key, name: key, ...extra } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.data;
  };
  const stream = async (apiKey: string): Promise<SseClient> => {
    const c = await new SseClient(`${t.url}/sdk/v1/stream`, { 'x-api-key': apiKey }).open();
    streams.push(c);
    await c.until(() => c.events.some((e) => e.event === 'put'));
    return c;
  };

  beforeEach(async () => {
    t = await startTestServer(kind === 'postgres' ? { databaseUrl: await postgres.createDatabase() } : {});
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await t.stop();
  });

  it('a new store has development and production; production is the default; keys carry their environment', async () => {
    const r = await t.request('GET', '/api/v1/environments', admin());
    expect(r.status).toBe(200);
    expect(r.body.data.map((e: any) => e.attributes.key)).toEqual(['development', 'production']);
    expect(r.body.data.every((e: any) => e.attributes.protected === false)).toBe(true);
    expect(r.body.meta.default_environment).toBe('production');
    // Paged like every list: a page of one, then the rest by cursor.
    const first = await t.request('GET', '/api/v1/environments?limit=1', admin());
    expect(first.body.data.map((e: any) => e.attributes.key)).toEqual(['development']);
    expect(first.body.meta).toMatchObject({ default_environment: 'production', pagination: { limit: 1, has_more: true } });
    const rest = await t.request('GET', `/api/v1/environments?limit=1&cursor=${first.body.meta.pagination.next_cursor}`, admin());
    expect(rest.body.data.map((e: any) => e.attributes.key)).toEqual(['production']);
    expect(rest.body.meta.pagination).toEqual({ limit: 1, next_cursor: null, has_more: false });
    expect(t.server.credentials?.environment).toBe('production');
    const keys = await t.request('GET', '/api/v1/api-keys', admin());
    for (const k of keys.body.data) expect(k.attributes.environment).toBe(k.attributes.kind === 'management' ? null : 'production');
  });

  it('the OpenAPI document describes the new routes, bodies and the environment parameter', async () => {
    const doc = (await t.request('GET', '/api/v1/openapi.json')).body;
    for (const p of [
      '/api/v1/environments',
      '/api/v1/environments/{id}',
      '/api/v1/feature-flags/{id}/environments/{env}',
      '/api/v1/feature-flags/{id}/promote',
    ])
      expect(Object.keys(doc.paths), p).toContain(p);
    expect(Object.keys(doc.paths['/api/v1/environments'])).toEqual(['get', 'post']);
    const params = doc.paths['/api/v1/feature-flags/{id}'].patch.parameters.map((x: { name: string }) => x.name);
    expect(params).toEqual(['id', 'environment', 'If-Match']);
    // SDK keys carry their environment: no environment parameter there (only the ETag header).
    expect(doc.paths['/sdk/v1/config'].get.parameters.map((x: { name: string }) => x.name)).toEqual(['If-None-Match']);
    expect(JSON.stringify(doc.paths['/api/v1/feature-flags'].post.requestBody)).toContain('FeatureFlagInput');
    expect(Object.keys(doc.components.schemas.FeatureFlagInput.properties)).toContain('environments');
    expect(Object.keys(doc.components.schemas.ApiKeyInput.properties)).toContain('environment');
    expect(Object.keys(doc.components.schemas.FeatureFlagPromote.properties)).toEqual(['from', 'to']);
  });

  it('an unknown environment is a 404 in the envelope, for reads and writes', async () => {
    expectError(await t.request('GET', '/api/v1/feature-flags?environment=nowhere', admin()), 'RESOURCE_NOT_FOUND');
    expectError(
      await t.request('POST', '/api/v1/feature-flags?environment=nowhere', { ...admin(), body: { key: 'x', type: 'boolean' } }),
      'RESOURCE_NOT_FOUND',
    );
    expectError(await t.request('GET', '/api/v1/environments/nowhere', admin()), 'RESOURCE_NOT_FOUND');
    expectError(
      await t.request('PATCH', '/api/v1/feature-flags/x/environments/nowhere', { ...admin(), body: { enabled: true } }),
      'RESOURCE_NOT_FOUND',
    );
    expect((await t.request('GET', '/api/v1/feature-flags', admin())).body.data).toEqual([]);
  });

  it('CRUD: an ADMIN creates, changes and deletes; others read only; in-use and default environments cannot go', async () => {
    const viewer = await t.user('VIEWER');
    const experimenter = await t.user('EXPERIMENTER');
    const created = await createEnvironment('staging', { color: '#f59e0b' });
    expect(created.attributes).toMatchObject({ key: 'staging', name: 'staging', color: '#f59e0b', protected: false });
    expectError(await t.request('POST', '/api/v1/environments', { ...admin(), body: { key: 'staging' } }), 'CONFLICT');
    expect(detailPaths(await t.request('POST', '/api/v1/environments', { ...admin(), body: { key: 'bad key' } }))).toEqual(['key']);
    for (const who of [viewer, experimenter]) {
      expect((await t.request('GET', '/api/v1/environments/staging', { token: who.token })).status).toBe(200);
      expectError(await t.request('POST', '/api/v1/environments', { token: who.token, body: { key: 'qa' } }), 'PERMISSION_DENIED');
      expectError(await t.request('PATCH', '/api/v1/environments/staging', { token: who.token, body: { name: 'x' } }), 'PERMISSION_DENIED');
      expectError(await t.request('DELETE', '/api/v1/environments/staging', { token: who.token }), 'PERMISSION_DENIED');
    }
    const patched = await t.request('PATCH', '/api/v1/environments/staging', { ...admin(), body: { name: 'Staging', protected: true } });
    expect(patched.body.data.attributes).toMatchObject({ key: 'staging', name: 'Staging', color: '#f59e0b', protected: true });

    // Used by a key: 409 naming it; revoked, it no longer counts.
    const key = await t.request('POST', '/api/v1/api-keys', {
      ...admin(),
      body: { name: 'staging sdk', kind: 'server', environment: 'staging' },
    });
    const inUse = expectError(await t.request('DELETE', '/api/v1/environments/staging', admin()), 'CONFLICT');
    expect(JSON.stringify(inUse.details)).toContain('staging sdk');
    expect((await t.request('DELETE', `/api/v1/api-keys/${key.body.data.id}`, admin())).status).toBe(204);
    // Used by an experiment: 409 too.
    const exp = await t.request('POST', '/api/v1/experiments?environment=staging', {
      ...admin(),
      body: {
        key: 'stg-exp',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50 },
        ],
      },
    });
    expect(exp.status, JSON.stringify(exp.body)).toBe(201);
    expect(exp.body.data.attributes.environment).toBe('staging');
    expectError(await t.request('DELETE', '/api/v1/environments/staging', admin()), 'CONFLICT');
    expect((await t.request('DELETE', '/api/v1/experiments/stg-exp?environment=staging', admin())).status).toBe(204);
    expect((await t.request('DELETE', '/api/v1/environments/staging', admin())).status).toBe(204);
    expectError(await t.request('GET', '/api/v1/environments/staging', admin()), 'RESOURCE_NOT_FOUND');
    expectError(await t.request('DELETE', '/api/v1/environments/production', admin()), 'CONFLICT');
  });

  it('flags: one definition, state per environment; responses carry the map and the request environment flattened', async () => {
    await createEnvironment('staging');
    const created = await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: {
        key: 'checkout',
        type: 'boolean',
        enabled: true,
        environments: { staging: { enabled: true, default_serve: { variant: 'off' } } },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const a = created.body.data.attributes;
    expect(a.enabled).toBe(true);
    expect(Object.keys(a.environments)).toEqual(['development', 'production', 'staging']);
    expect(a.environments.production).toMatchObject({ enabled: true, default_serve: { variant: 'on' } });
    expect(a.environments.staging).toMatchObject({ enabled: true, default_serve: { variant: 'off' } });
    // Not mentioned: the defaults.
    expect(a.environments.development).toEqual({
      enabled: false,
      off_variant: 'off',
      default_serve: { variant: 'on' },
      prerequisites: [],
      rules: [],
    });

    const inStaging = await t.request('GET', '/api/v1/feature-flags/checkout?environment=staging', admin());
    expect(inStaging.body.data.attributes).toMatchObject({ key: 'checkout', enabled: true, default_serve: { variant: 'off' } });
    // A top-level write with ?environment= changes that environment only.
    const dev = await t.request('PATCH', '/api/v1/feature-flags/checkout?environment=development', { ...admin(), body: { enabled: true } });
    expect(dev.body.data.attributes.enabled).toBe(true);
    expect(dev.body.data.attributes.environments.production.default_serve).toEqual({ variant: 'on' });
    // The per-environment route.
    const one = await t.request('PATCH', '/api/v1/feature-flags/checkout/environments/staging', { ...admin(), body: { enabled: false } });
    expect(one.status).toBe(200);
    expect(one.body.data.attributes.enabled).toBe(false);
    expect(one.body.data.attributes.environments.production.enabled).toBe(true);
    const list = await t.request('GET', '/api/v1/feature-flags?status=enabled&environment=staging', admin());
    expect(list.body.data).toEqual([]);
    expect((await t.request('GET', '/api/v1/feature-flags?status=enabled', admin())).body.data.length).toBe(1);
  });

  it('bad input: clear 400s naming the field, and nothing half-written', async () => {
    await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key: 'strict', type: 'boolean' } });
    const before = (await t.request('GET', '/api/v1/feature-flags/strict', admin())).body.data.attributes;
    const versions = { production: t.server.ctx.config.version };
    const unknown = await t.request('PATCH', '/api/v1/feature-flags/strict', {
      ...admin(),
      body: { environments: { nowhere: { enabled: true } } },
    });
    expectError(unknown, 'VALIDATION_ERROR');
    expect(detailPaths(unknown)).toEqual(['environments.nowhere']);
    const twice = await t.request('PATCH', '/api/v1/feature-flags/strict', {
      ...admin(),
      body: { enabled: true, environments: { production: { enabled: false }, development: { enabled: true } } },
    });
    expectError(twice, 'VALIDATION_ERROR');
    expect(detailPaths(twice)).toEqual(['environments.production']);
    const badState = await t.request('PATCH', '/api/v1/feature-flags/strict', {
      ...admin(),
      body: { environments: { development: { default_serve: { variant: 'nope' } } } },
    });
    expectError(badState, 'VALIDATION_ERROR');
    expect(detailPaths(badState)).toEqual(['environments.development.default_serve.variant']);
    const self = await t.request('POST', '/api/v1/feature-flags/strict/promote', {
      ...admin(),
      body: { from: 'production', to: 'production' },
    });
    expectError(self, 'VALIDATION_ERROR');
    expect(detailPaths(self)).toEqual(['to']);
    const unknownPromote = await t.request('POST', '/api/v1/feature-flags/strict/promote', {
      ...admin(),
      body: { from: 'qa', to: 'production' },
    });
    expect(detailPaths(unknownPromote)).toEqual(['from']);
    const experimentElsewhere = await t.request('POST', '/api/v1/experiments', {
      ...admin(),
      body: {
        key: 'e1',
        environment: 'qa',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50 },
        ],
      },
    });
    expect(detailPaths(experimentElsewhere)).toEqual(['environment']);
    const keyElsewhere = await t.request('POST', '/api/v1/api-keys', {
      ...admin(),
      body: { name: 'k', kind: 'server', environment: 'qa' },
    });
    expect(detailPaths(keyElsewhere)).toEqual(['environment']);
    expect((await t.request('GET', '/api/v1/feature-flags/strict', admin())).body.data.attributes).toEqual(before);
    expect(t.server.ctx.config.version).toBe(versions.production);
    expect((await t.server.ctx.environments.get('development')).config.version).toBe(1);
  });

  it('config documents, ETags and streams are per environment: a change in one wakes no other; a definition change commits in every one', async () => {
    await createEnvironment('staging');
    const staging = await createKey('server', 'staging');
    const prodStream = await stream(t.serverKey);
    const stagingStream = await stream(staging);
    await t.request('POST', '/api/v1/feature-flags', { ...admin(), body: { key: 'banner', type: 'boolean' } });
    await prodStream.until(() => prodStream.events.some((e) => e.event === 'patch' && e.data.flags?.banner !== undefined));
    await stagingStream.until(() => stagingStream.events.some((e) => e.event === 'patch' && e.data.flags?.banner !== undefined));
    const prodEvents = prodStream.events.length;
    const prodVersion = t.server.ctx.config.version;
    const prodConfig = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });

    // A state change in staging: a patch on staging's stream only.
    await t.request('PATCH', '/api/v1/feature-flags/banner/environments/staging', { ...admin(), body: { enabled: true } });
    await stagingStream.until(() => stagingStream.events.some((e) => e.event === 'patch' && e.data.flags?.banner?.enabled === true));
    // Then a production change: the first thing production's stream sees after the staging change is it.
    await t.request('PATCH', '/api/v1/feature-flags/banner', { ...admin(), body: { rules: [], off_variant: 'off' } });
    await t.request('PATCH', '/api/v1/feature-flags/banner', { ...admin(), body: { enabled: true } });
    await prodStream.until(() => prodStream.events.some((e) => e.event === 'patch' && e.data.flags?.banner?.enabled === true));
    const after = prodStream.events.slice(prodEvents).filter((e) => e.event === 'patch');
    expect(after.map((e) => Number(e.id))).toEqual([prodVersion + 1]);

    const stagingConfig = await t.request('GET', '/sdk/v1/config', { apiKey: staging });
    expect(stagingConfig.body.flags.banner.enabled).toBe(true);
    expect(stagingConfig.body.schema_version).toBe(1);
    expect(stagingConfig.headers.get('etag')).toBe(`"v${stagingConfig.body.version}"`);
    const prodNow = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
    expect(prodNow.body.version).toBe(prodVersion + 1);
    expect(prodConfig.body.flags.banner.enabled).toBe(false);
    // Each environment's ETag answers 304 for its own document only.
    const etag = prodNow.headers.get('etag')!;
    expect((await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey, headers: { 'if-none-match': etag } })).status).toBe(304);

    // A definition change: one new version in every environment.
    const versions = async () =>
      Object.fromEntries(
        await Promise.all(
          ['development', 'production', 'staging'].map(async (e) => [e, (await t.server.ctx.environments.get(e)).config.version]),
        ),
      );
    const v0 = await versions();
    await t.request('PATCH', '/api/v1/feature-flags/banner', { ...admin(), body: { name: 'Renamed banner' } });
    const v1 = await versions();
    for (const e of Object.keys(v0)) expect(v1[e]).toBe(v0[e] + 1);
    await stagingStream.until(() =>
      stagingStream.events.some((e) => e.event === 'patch' && e.data.flags?.banner?.name === 'Renamed banner'),
    );
  });

  it("evaluate, OFREP and events use the key's environment; experiments and their results are per environment", async () => {
    await createEnvironment('staging');
    const stagingClient = await createKey('client', 'staging');
    const stagingServer = await createKey('server', 'staging');
    await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: {
        key: 'color',
        type: 'string',
        enabled: true,
        variants: [
          { key: 'red', value: 'red' },
          { key: 'blue', value: 'blue' },
        ],
        default_serve: { variant: 'red' },
        environments: { staging: { enabled: true, default_serve: { variant: 'blue' } } },
      },
    });
    const ev = async (apiKey: string) =>
      (await t.request('POST', '/sdk/v1/evaluate', { apiKey, body: { context: { key: 'u1' } } })).body.data.flags.color.value;
    expect(await ev(t.clientKey)).toBe('red');
    expect(await ev(stagingClient)).toBe('blue');
    const ofrep = async (apiKey: string) =>
      (
        await t.request('POST', '/ofrep/v1/evaluate/flags/color', {
          headers: { authorization: `Bearer ${apiKey}` },
          body: { context: { targetingKey: 'u1' } },
        })
      ).body.value;
    expect(await ofrep(t.clientKey)).toBe('red');
    expect(await ofrep(stagingClient)).toBe('blue');
    const serverEval = await t.request('GET', '/api/v1/feature-flags/color/evaluate?user_id=u1&environment=staging', admin());
    expect(serverEval.body.data.value).toBe('blue');

    // The same experiment key runs in both environments; each one's results count its own events only.
    const variants = [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ];
    for (const env of ['production', 'staging']) {
      const r = await t.request('POST', `/api/v1/experiments?environment=${env}`, {
        ...admin(),
        body: { key: 'twin', variants, metrics: [{ key: 'buy', type: 'conversion' }] },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect((await t.request('POST', `/api/v1/experiments/twin/start?environment=${env}`, admin())).status).toBe(200);
    }
    const events = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({
        id: `${prefix}-${i}`,
        type: 'exposure',
        key: 'twin',
        unit_id: `u${i}`,
        experiment: 'twin',
        variant: assignedVariant('twin', `u${i}`),
        timestamp: Date.now(),
      }));
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: stagingServer, body: { events: events(6, 'stg') } })).status).toBe(202);
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: events(2, 'prd') } })).status).toBe(202);
    const units = async (env: string) => {
      const r = await t.request('GET', `/api/v1/experiments/twin/results?environment=${env}`, admin());
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return JSON.stringify(r.body.data);
    };
    const staging = await units('staging');
    const production = await units('production');
    expect(staging).not.toEqual(production);
    const r = await t.request('GET', '/api/v1/experiments/twin/results?environment=staging', admin());
    const total = (d: any) => (d.variants as { units: number }[]).reduce((s, v) => s + v.units, 0);
    expect(total(r.body.data)).toBe(6);
    expect(total((await t.request('GET', '/api/v1/experiments/twin/results', admin())).body.data)).toBe(2);
  });

  it('promote copies one environment state onto another, audited with before and after', async () => {
    await createEnvironment('staging');
    await t.request('POST', '/api/v1/feature-flags', {
      ...admin(),
      body: {
        key: 'promo',
        type: 'boolean',
        environments: {
          staging: { enabled: true, rules: [{ id: 'qa', when: { attr: 'team', op: 'eq', values: ['qa'] }, serve: { variant: 'off' } }] },
        },
      },
    });
    const r = await t.request('POST', '/api/v1/feature-flags/promo/promote', { ...admin(), body: { from: 'staging', to: 'production' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.attributes.environments.production).toEqual(r.body.data.attributes.environments.staging);
    expect(r.body.data.attributes.enabled).toBe(true);
    const config = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
    expect(config.body.flags.promo.rules.map((x: { id: string }) => x.id)).toEqual(['qa']);
    const audit = await t.request('GET', '/api/v1/audit-log?action=feature-flag.promote', admin());
    expect(audit.body.data).toHaveLength(1);
    const rec = audit.body.data[0].attributes;
    expect(rec.environment).toBe('production');
    expect(rec.before.environments.production.enabled).toBe(false);
    expect(rec.after.environments.production.enabled).toBe(true);
  });

  it('protected environments: only an ADMIN changes flag state or runs lifecycle actions there', async () => {
    await createEnvironment('live', { protected: true });
    const experimenter = await t.user('EXPERIMENTER');
    const own = await t.request('POST', '/api/v1/feature-flags', { token: experimenter.token, body: { key: 'mine', type: 'boolean' } });
    expect(own.status).toBe(201);
    expectError(
      await t.request('PATCH', '/api/v1/feature-flags/mine/environments/live', { token: experimenter.token, body: { enabled: true } }),
      'PERMISSION_DENIED',
    );
    expectError(
      await t.request('PATCH', '/api/v1/feature-flags/mine?environment=live', { token: experimenter.token, body: { enabled: true } }),
      'PERMISSION_DENIED',
    );
    // The shared definition and unprotected environments stay the owner's to change.
    expect(
      (await t.request('PATCH', '/api/v1/feature-flags/mine', { token: experimenter.token, body: { enabled: true, name: 'Mine' } })).status,
    ).toBe(200);
    // Promoting production's (now different) state onto the protected environment changes it.
    expectError(
      await t.request('POST', '/api/v1/feature-flags/mine/promote', {
        token: experimenter.token,
        body: { from: 'production', to: 'live' },
      }),
      'PERMISSION_DENIED',
    );
    expect((await t.request('PATCH', '/api/v1/feature-flags/mine/environments/live', { ...admin(), body: { enabled: true } })).status).toBe(
      200,
    );
    const exp = await t.request('POST', '/api/v1/experiments?environment=live', {
      token: experimenter.token,
      body: {
        key: 'live-exp',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50 },
        ],
      },
    });
    expect(exp.status).toBe(201);
    expectError(
      await t.request('POST', '/api/v1/experiments/live-exp/start?environment=live', { token: experimenter.token }),
      'PERMISSION_DENIED',
    );
    expect((await t.request('POST', '/api/v1/experiments/live-exp/start?environment=live', admin())).status).toBe(200);
  });
});

describe('--demo', () => {
  it('seeds development, staging and production with different states of the same flags', async () => {
    const t = await startTestServer({ demo: true });
    try {
      const envs = await t.request('GET', '/api/v1/environments', { token: t.adminToken });
      expect(envs.body.data.map((e: any) => e.attributes.key)).toEqual(['development', 'production', 'staging']);
      const flag = (await t.request('GET', '/api/v1/feature-flags/new-checkout', { token: t.adminToken })).body.data.attributes;
      const states = ['development', 'staging', 'production'].map((e) => JSON.stringify(flag.environments[e]));
      expect(new Set(states).size).toBe(3);
      expect(flag.environments.development).toMatchObject({ enabled: true, rules: [], default_serve: { variant: 'on' } });
      // What an SDK of each environment serves a unit outside every rule.
      const serve = async (environment: string) =>
        (
          await t.request('GET', `/api/v1/feature-flags/new-checkout/evaluate?user_id=nobody&environment=${environment}`, {
            token: t.adminToken,
          })
        ).body.data.value;
      expect(await serve('development')).toBe(true);
      expect(await serve('production')).toBe(false);
    } finally {
      await t.stop();
    }
  });
});
