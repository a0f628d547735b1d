import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { detailPaths, expectError } from './support';

// Saving a flag that serves an experiment: the experiment must exist in each environment the
// flag serves it in, and its arms must be flag variants; an experiment a flag serves cannot be
// deleted or archived. Evaluation itself is covered by the spec vectors and the SDK tests.
describe('flags that serve an experiment: save-time checks', () => {
  let t: TestServer;
  const as = (body?: unknown) => ({ token: t.adminToken, ...(body === undefined ? {} : { body }) });
  const flag = (key: string, extra: Record<string, unknown> = {}) => ({
    key,
    type: 'boolean',
    enabled: true,
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    off_variant: 'off',
    default_serve: { variant: 'off' },
    ...extra,
  });
  const experiment = (key: string, variants = ['off', 'on'], environment?: string) =>
    t.request('POST', `/api/v1/experiments${environment ? `?environment=${environment}` : ''}`, {
      ...as({ key, name: key, variants: variants.map((v) => ({ key: v, weight: 100 / variants.length })) }),
    });

  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.request('POST', '/api/v1/environments', as({ key: 'staging', name: 'Staging' }))).status).toBe(201);
    expect((await experiment('prod-ab')).status).toBe(201);
    expect((await experiment('colors', ['red', 'blue'])).status).toBe(201);
    expect((await experiment('staging-ab', ['off', 'on'], 'staging')).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('accepts a rule or default serving an experiment of the environment (a draft is fine: it enrols nobody yet)', async () => {
    const r = await t.request(
      'POST',
      '/api/v1/feature-flags',
      as(flag('served', { rules: [{ id: 'ab', serve: { experiment: 'prod-ab' } }], default_serve: { experiment: 'prod-ab' } })),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.data.attributes.rules[0].serve).toEqual({ experiment: 'prod-ab' });
    expect(r.body.data.attributes.default_serve).toEqual({ experiment: 'prod-ab' });
  });

  it('rejects an unknown experiment, one of another environment, and arms that are not flag variants', async () => {
    const unknown = await t.request('POST', '/api/v1/feature-flags', as(flag('f1', { default_serve: { experiment: 'nope' } })));
    expectError(unknown, 'VALIDATION_ERROR');
    expect(detailPaths(unknown)).toEqual(['default_serve.experiment']);
    expect(unknown.body.error.details[0].message).toContain("unknown experiment 'nope' in environment 'production'");

    const elsewhere = await t.request('POST', '/api/v1/feature-flags', as(flag('f2', { default_serve: { experiment: 'staging-ab' } })));
    expectError(elsewhere, 'VALIDATION_ERROR');

    const arms = await t.request(
      'POST',
      '/api/v1/feature-flags',
      as(flag('f3', { rules: [{ id: 'r', serve: { experiment: 'colors' } }] })),
    );
    expectError(arms, 'VALIDATION_ERROR');
    expect(detailPaths(arms)).toEqual(['rules.0.serve.experiment']);
    expect(arms.body.error.details[0].message).toContain("'red', 'blue'");

    // Nothing was saved.
    for (const k of ['f1', 'f2', 'f3']) expect((await t.request('GET', `/api/v1/feature-flags/${k}`, as())).status).toBe(404);
  });

  it('checks each environment the write names, in its own environment, and on promote', async () => {
    expect((await t.request('POST', '/api/v1/feature-flags', as(flag('per-env')))).status).toBe(201);
    const ok = await t.request(
      'PATCH',
      '/api/v1/feature-flags/per-env/environments/staging',
      as({ default_serve: { experiment: 'staging-ab' } }),
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const wrong = await t.request(
      'PATCH',
      '/api/v1/feature-flags/per-env',
      as({ environments: { staging: { default_serve: { experiment: 'prod-ab' } } } }),
    );
    expectError(wrong, 'VALIDATION_ERROR');
    expect(detailPaths(wrong)).toEqual(['environments.staging.default_serve.experiment']);
    // staging serves staging-ab, which production does not have.
    const promote = await t.request('POST', '/api/v1/feature-flags/per-env/promote', as({ from: 'staging', to: 'production' }));
    expectError(promote, 'VALIDATION_ERROR');
    const prod = await t.request('GET', '/api/v1/feature-flags/per-env', as());
    expect(prod.body.data.attributes.default_serve).toEqual({ variant: 'off' });
  });

  it('refuses to change a draft experiment its flag serves into arms the flag lacks', async () => {
    const r = await t.request(
      'PATCH',
      '/api/v1/experiments/prod-ab',
      as({
        variants: [
          { key: 'off', weight: 50 },
          { key: 'maybe', weight: 50 },
        ],
      }),
    );
    expectError(r, 'VALIDATION_ERROR');
    expect(JSON.stringify(r.body.error.details)).toContain("variant 'maybe'");
  });

  it('refuses to delete or archive an experiment a flag serves (409), and allows completing it', async () => {
    const del = await t.request('DELETE', '/api/v1/experiments/prod-ab', as());
    expectError(del, 'CONFLICT');
    expect(detailPaths(del)).toEqual([
      'feature-flags.served.environments.production.rules.0.serve.experiment',
      'feature-flags.served.environments.production.default_serve.experiment',
    ]);
    expectError(await t.request('POST', '/api/v1/experiments/prod-ab/archive', as()), 'CONFLICT');
    expect((await t.request('POST', '/api/v1/experiments/prod-ab/start', as())).status).toBe(200);
    expect((await t.request('POST', '/api/v1/experiments/prod-ab/complete', as())).status).toBe(200);
    expectError(await t.request('POST', '/api/v1/experiments/prod-ab/archive', as()), 'CONFLICT');
    // Once no flag serves it, it archives.
    const moved = await t.request('PATCH', '/api/v1/feature-flags/served', as({ rules: [], default_serve: { variant: 'on' } }));
    expect(moved.status).toBe(200);
    expect((await t.request('POST', '/api/v1/experiments/prod-ab/archive', as())).status).toBe(200);
  });
});
