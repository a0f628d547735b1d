import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from './helpers';
import { offFlag, rolloutBody, rolloutsPath, trafficThrough } from './rollout-support';
import { startTestServerOn } from './store-server';
import { detailPaths, expectError } from './support';

// The guarded-rollout API on both stores: validation, one active rollout per flag and
// environment, permissions, what GET shows, and what the monitor does when a person edits the flag.
describe.each(['sqlite', 'postgres'] as const)('guarded rollouts API: %s', (kind) => {
  let t: TestServer;

  beforeAll(async () => {
    // The monitor is driven by the tests (`check()`), not by its interval.
    const base = { apiRateBurst: 1e9, apiRatePerSecond: 1e9, rolloutIntervalMs: 3_600_000 };
    t = await startTestServerOn(kind, base);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    t.request(method, path, {
      token: t.adminToken,
      ...(body === undefined ? {} : { body }),
      ...(headers === undefined ? {} : { headers }),
    });
  const flag = async (key: string, extra: Record<string, unknown> = {}) => {
    const r = await admin('POST', '/api/v1/feature-flags', offFlag(key, extra));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  };

  it('refuses bad bodies with a 400 naming each field, and stores nothing', async () => {
    await flag('bad-bodies', {
      variants: [
        { key: 'on', value: true },
        { key: 'off', value: false },
      ],
    });
    const cases: [Record<string, unknown>, string[]][] = [
      [rolloutBody({ variant: 'nope' }), ['variant']],
      [rolloutBody({ control: 'on' }), ['control']],
      [rolloutBody({ control: 'missing' }), ['control']],
      [rolloutBody({ stages: [{ percent: 50 }, { percent: 40 }, { percent: 100 }] }), ['stages.1.percent']],
      [rolloutBody({ stages: [{ percent: 10 }, { percent: 50 }] }), ['stages.1.percent']],
      [rolloutBody({ stages: [{ percent: 0 }, { percent: 100 }] }), ['stages.0.percent']],
      [rolloutBody({ stages: [{ percent: 10.123 }, { percent: 100 }] }), ['stages.0.percent']],
      [rolloutBody({ stages: [{ percent: 10, hold_minutes: -1 }, { percent: 100 }] }), ['stages.0.hold_minutes']],
      [rolloutBody({ stages: [] }), ['stages']],
      [rolloutBody({ guardrails: [] }), ['guardrails']],
      [rolloutBody({ guardrails: [{ metric: 'errors', type: 'conversion' }] }), ['guardrails.0.max_relative_increase']],
      [rolloutBody({ guardrails: [{ metric: 'errors', type: 'ratio', max_value: 1 }] }), ['guardrails.0.type']],
      [
        rolloutBody({
          guardrails: [
            { metric: 'errors', type: 'conversion', max_value: 0.1 },
            { metric: 'errors', type: 'mean', max_value: 2 },
          ],
        }),
        ['guardrails.1.metric'],
      ],
      [rolloutBody({ on_regression: 'panic' }), ['on_regression']],
      [rolloutBody({ colour: 'red' }), ['colour']],
    ];
    for (const [body, paths] of cases) {
      const r = await admin('POST', rolloutsPath('bad-bodies'), body);
      expectError(r, 'VALIDATION_ERROR');
      expect(detailPaths(r), JSON.stringify(body)).toEqual(paths);
    }
    expect((await admin('GET', rolloutsPath('bad-bodies'))).body.data).toEqual([]);
    expectError(await admin('POST', rolloutsPath('no-such-flag'), rolloutBody()), 'RESOURCE_NOT_FOUND');
    expectError(await admin('POST', rolloutsPath('bad-bodies', undefined, 'nowhere'), rolloutBody()), 'RESOURCE_NOT_FOUND');
    expectError(await admin('GET', rolloutsPath('bad-bodies', 'no-such-id')), 'RESOURCE_NOT_FOUND');
  });

  it('allows one active rollout per flag and environment (409), and none on a disabled flag', async () => {
    await flag('one-active');
    const first = await admin('POST', rolloutsPath('one-active'), rolloutBody());
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const second = expectError(await admin('POST', rolloutsPath('one-active'), rolloutBody()), 'CONFLICT');
    expect(second.details).toMatchObject({ flag: 'one-active', environment: 'production', rollout: first.body.data.id });
    // Another environment of the same flag is independent.
    expect((await admin('PATCH', '/api/v1/feature-flags/one-active/environments/development', { enabled: true })).status).toBe(200);
    expect((await admin('POST', rolloutsPath('one-active', undefined, 'development'), rolloutBody())).status).toBe(201);
    // Once stopped, a new one may start.
    expect((await admin('POST', `${rolloutsPath('one-active', first.body.data.id)}/stop`)).status).toBe(200);
    expect((await admin('POST', rolloutsPath('one-active'), rolloutBody())).status).toBe(201);
    expect((await admin('GET', rolloutsPath('one-active'))).body.data.map((r: any) => r.attributes.status)).toEqual(['running', 'stopped']);

    await flag('disabled-flag', { enabled: false });
    expectError(await admin('POST', rolloutsPath('disabled-flag'), rolloutBody()), 'CONFLICT');
    // A flag whose default serve is someone's running A/B test is not taken over.
    const ab = await admin('POST', '/api/v1/experiments', {
      key: 'default-ab',
      variants: [
        { key: 'off', weight: 50 },
        { key: 'on', weight: 50 },
      ],
    });
    expect(ab.status, JSON.stringify(ab.body)).toBe(201);
    await flag('ab-flag', { default_serve: { experiment: 'default-ab' } });
    const busy = expectError(await admin('POST', rolloutsPath('ab-flag'), rolloutBody()), 'CONFLICT');
    expect(busy.details).toMatchObject({ experiment: 'default-ab' });
  });

  it('serves the rollout through the flag: GET shows stage, share, arms, checks and an ETag; the experiment is marked', async () => {
    await flag('shown');
    const created = await admin('POST', rolloutsPath('shown'), rolloutBody({ on_regression: 'pause' }));
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    const a = created.body.data.attributes;
    expect(a).toMatchObject({
      flag: 'shown',
      environment: 'production',
      variant: 'on',
      control: 'off',
      status: 'running',
      stage: 1,
      share: 20,
      on_regression: 'pause',
      previous_default_serve: { variant: 'off' },
      stages: [
        { percent: 20, hold_minutes: 10 },
        { percent: 60, hold_minutes: 10 },
        { percent: 100, hold_minutes: 0 },
      ],
      version: 1,
    });
    expect(Date.parse(a.hold_ends_at) - Date.parse(a.stage_started_at)).toBe(10 * 60_000);
    // Before any exposure there is nothing to judge, and the verdict says so rather than `ok`.
    const empty = await admin('GET', rolloutsPath('shown', id));
    expect(empty.body.data.attributes.units).toEqual({ variant: 0, control: 0, excluded: 0 });
    expect(empty.body.data.attributes.guardrail_checks).toEqual([
      expect.objectContaining({
        metric: 'errors',
        verdict: 'insufficient_data',
        reason: 'the control arm has no units',
        estimate: null,
      }),
    ]);
    const units = Array.from({ length: 500 }, (_, i) => `shown-${i}`);
    const got = await trafficThrough(t, 'shown', units);
    const on = [...got.values()].filter((v) => v === 'on').length;
    const r = await admin('GET', rolloutsPath('shown', id));
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.body.data.attributes.units).toEqual({ variant: on, control: 500 - on, excluded: 0 });
    expect(r.body.data.attributes.guardrail_checks).toEqual([expect.objectContaining({ metric: 'errors', verdict: 'ok', estimate: null })]);
    // The flag's default serve is the internal experiment, which is listed with a marker.
    const f = await admin('GET', '/api/v1/feature-flags/shown');
    expect(f.body.data.attributes.default_serve).toEqual({ experiment: a.experiment });
    const e = await admin('GET', `/api/v1/experiments/${a.experiment}`);
    expect(e.body.data.attributes).toMatchObject({ status: 'RUNNING', rollout: { id, flag: 'shown' }, traffic_allocation: 100 });
    expect(e.body.data.attributes.variants).toEqual([
      { key: 'on', weight: 20 },
      { key: 'off', weight: 80 },
    ]);
    // Holding: the hold has ten minutes to go.
    expect((await t.server.jobs.rollouts.check()).get(id)).toBe('held');
  });

  it('leaves its experiment out of every-flag listings (evaluate endpoint, OFREP bulk) while the flag names it', async () => {
    await flag('listed');
    const exp = (await admin('POST', rolloutsPath('listed'), rolloutBody({ stages: [{ percent: 100 }] }))).body.data.attributes
      .experiment as string;
    // The config document keeps it, marked, for local-mode SDKs to evaluate the flag.
    const doc = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body;
    expect(doc.experiments[exp]).toMatchObject({ status: 'RUNNING', rollout: { flag: 'listed' } });
    const internal = (keys: string[]) => keys.filter((k) => k.startsWith('rollout.'));

    const all = await t.request('POST', '/sdk/v1/evaluate', { apiKey: t.clientKey, body: { context: { key: 'u1' } } });
    expect(all.status).toBe(200);
    expect(internal(Object.keys(all.body.data.flags))).toEqual([]);
    expect(all.body.data.flags.listed).toMatchObject({ value: true, variant: 'on', in_experiment: true, experiment: exp });

    const bulk = await t.request('POST', '/ofrep/v1/evaluate/flags', { apiKey: t.clientKey, body: { context: { targetingKey: 'u1' } } });
    expect(bulk.status).toBe(200);
    const keys = (bulk.body.flags as { key: string }[]).map((f) => f.key);
    expect(keys).toContain('listed');
    expect(internal(keys)).toEqual([]);
    // Asked for by its key, it still answers.
    const one = await t.request('POST', `/ofrep/v1/evaluate/flags/${exp}`, {
      apiKey: t.clientKey,
      body: { context: { targetingKey: 'u1' } },
    });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ key: exp, variant: 'on', metadata: { in_experiment: true } });
  });

  it('checks permissions as for changing the flag in that environment', async () => {
    await flag('guarded-perms');
    const viewer = await t.user('VIEWER');
    const experimenter = await t.user('EXPERIMENTER');
    expectError(await t.request('POST', rolloutsPath('guarded-perms'), { token: viewer.token, body: rolloutBody() }), 'PERMISSION_DENIED');
    // Not the flag's owner.
    expectError(
      await t.request('POST', rolloutsPath('guarded-perms'), { token: experimenter.token, body: rolloutBody() }),
      'PERMISSION_DENIED',
    );
    const own = await t.request('POST', '/api/v1/feature-flags', { token: experimenter.token, body: offFlag('own-flag') });
    expect(own.status).toBe(201);
    const mine = await t.request('POST', rolloutsPath('own-flag'), { token: experimenter.token, body: rolloutBody() });
    expect(mine.status, JSON.stringify(mine.body)).toBe(201);
    expect((await t.request('GET', rolloutsPath('own-flag', mine.body.data.id), { token: viewer.token })).status).toBe(200);
    expectError(
      await t.request('POST', `${rolloutsPath('own-flag', mine.body.data.id)}/stop`, { token: viewer.token }),
      'PERMISSION_DENIED',
    );
    // A protected environment: only an ADMIN.
    expect((await admin('PATCH', '/api/v1/environments/production', { protected: true })).status).toBe(200);
    try {
      expectError(
        await t.request('POST', `${rolloutsPath('own-flag', mine.body.data.id)}/stop`, { token: experimenter.token }),
        'PERMISSION_DENIED',
      );
    } finally {
      expect((await admin('PATCH', '/api/v1/environments/production', { protected: false })).status).toBe(200);
    }
    expect((await t.request('POST', `${rolloutsPath('own-flag', mine.body.data.id)}/stop`, { token: experimenter.token })).status).toBe(
      200,
    );
  });

  it('is stopped by the monitor when a person replaces the default serve, leaving their change', async () => {
    await flag('edited');
    const id = (await admin('POST', rolloutsPath('edited'), rolloutBody())).body.data.id as string;
    expect((await admin('PATCH', '/api/v1/feature-flags/edited', { default_serve: { variant: 'on' } })).status).toBe(200);
    expect((await t.server.jobs.rollouts.check()).get(id)).toBe('stopped');
    const r = (await admin('GET', rolloutsPath('edited', id))).body.data.attributes;
    expect(r.status).toBe('stopped');
    expect(r.end_reason).toContain('default_serve');
    expect((await admin('GET', '/api/v1/feature-flags/edited')).body.data.attributes.default_serve).toEqual({ variant: 'on' });
    expect((await admin('GET', `/api/v1/experiments/${r.experiment}`)).body.data.attributes.status).toBe('COMPLETED');
  });

  it('is stopped by the monitor when a person pauses its experiment or deletes the flag', async () => {
    await flag('paused-by-hand');
    const a = (await admin('POST', rolloutsPath('paused-by-hand'), rolloutBody())).body.data;
    expect((await admin('POST', `/api/v1/experiments/${a.attributes.experiment}/pause`)).status).toBe(200);
    expect((await t.server.jobs.rollouts.check()).get(a.id)).toBe('stopped');
    const stopped = (await admin('GET', rolloutsPath('paused-by-hand', a.id))).body.data.attributes;
    expect(stopped).toMatchObject({ status: 'stopped', end_reason: expect.stringContaining('experiment') });
    // The flag serves the control again; the experiment is completed.
    expect((await admin('GET', '/api/v1/feature-flags/paused-by-hand')).body.data.attributes.default_serve).toEqual({ variant: 'off' });
    expect((await admin('GET', `/api/v1/experiments/${a.attributes.experiment}`)).body.data.attributes.status).toBe('COMPLETED');

    await flag('deleted-flag');
    const b = (await admin('POST', rolloutsPath('deleted-flag'), rolloutBody())).body.data;
    expect((await admin('DELETE', '/api/v1/feature-flags/deleted-flag')).status).toBe(204);
    expect((await t.server.jobs.rollouts.check()).get(b.id)).toBe('stopped');
    const audit = await admin('GET', `/api/v1/audit-log?resource_id=${b.id}&action=rollout.stop`);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0].attributes.after.end_reason).toContain('deleted');
    expect((await admin('GET', `/api/v1/experiments/${b.attributes.experiment}`)).body.data.attributes.status).toBe('COMPLETED');
  });
});
