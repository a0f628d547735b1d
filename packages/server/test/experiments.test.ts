import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { SseClient } from './sse-client';

const variants = [
  { key: 'control', weight: 50 },
  { key: 'treatment', weight: 50, value: 'new' },
];
const experiment = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  name: key,
  hypothesis: 'the new checkout converts better',
  variants,
  metrics: [
    { key: 'purchase', type: 'conversion' },
    { key: 'revenue', type: 'mean' },
  ],
  primary_metric: 'purchase',
  guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
  ...extra,
});

type Status = 'DRAFT' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'ARCHIVED';
const ACTIONS = ['start', 'pause', 'resume', 'complete', 'archive'] as const;
/** Expected result of each action from each status: the new status, or 409. */
const MATRIX: Record<Status, Record<(typeof ACTIONS)[number], Status | 409>> = {
  DRAFT: { start: 'RUNNING', pause: 409, resume: 409, complete: 409, archive: 'ARCHIVED' },
  RUNNING: { start: 409, pause: 'PAUSED', resume: 409, complete: 'COMPLETED', archive: 409 },
  PAUSED: { start: 409, pause: 409, resume: 'RUNNING', complete: 'COMPLETED', archive: 409 },
  COMPLETED: { start: 409, pause: 409, resume: 409, complete: 409, archive: 'ARCHIVED' },
  ARCHIVED: { start: 409, pause: 409, resume: 409, complete: 409, archive: 409 },
};
const PATH_TO: Record<Status, string[]> = {
  DRAFT: [],
  RUNNING: ['start'],
  PAUSED: ['start', 'pause'],
  COMPLETED: ['start', 'complete'],
  ARCHIVED: ['archive'],
};

describe('experiments', () => {
  let t: TestServer;
  let n = 0;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  const inStatus = async (status: Status) => {
    const key = `exp-${status.toLowerCase()}-${++n}`;
    expect((await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: experiment(key) })).status).toBe(201);
    for (const a of PATH_TO[status])
      expect((await t.request('POST', `/api/v1/experiments/${key}/${a}`, { token: t.adminToken })).status).toBe(200);
    return key;
  };

  for (const status of Object.keys(MATRIX) as Status[]) {
    for (const action of ACTIONS) {
      const expected = MATRIX[status][action];
      it(`${action} from ${status} -> ${expected}`, async () => {
        const key = await inStatus(status);
        const r = await t.request('POST', `/api/v1/experiments/${key}/${action}`, { token: t.adminToken });
        if (expected === 409) {
          expect(r.status).toBe(409);
          expect(r.body.error.code).toBe('INVALID_STATE_TRANSITION');
          expect((await t.request('GET', `/api/v1/experiments/${key}`, { token: t.adminToken })).body.data.attributes.status).toBe(status);
        } else {
          expect(r.status).toBe(200);
          expect(r.body.data.attributes.status).toBe(expected);
        }
      });
    }
  }

  it('creates as DRAFT with defaults and validates variants, weights and metrics', async () => {
    const r = await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: experiment('defaults-exp') });
    expect(r.status).toBe(201);
    expect(r.body.data.type).toBe('experiment');
    expect(r.body.data.attributes).toMatchObject({ status: 'DRAFT', traffic_allocation: 100, bucket_by: 'key', salt: 'defaults-exp' });
    const one = await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: experiment('one-variant', { variants: [{ key: 'control', weight: 100 }] }),
    });
    expect(one.status).toBe(400);
    const weights = await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: experiment('bad-weights', {
        variants: [
          { key: 'a', weight: 50 },
          { key: 'b', weight: 40 },
        ],
      }),
    });
    expect(weights.status).toBe(400);
    expect(weights.body.error.details.map((d: { path: string }) => d.path)).toContain('variants');
    const metric = await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: experiment('bad-metric', { primary_metric: 'nope' }),
    });
    expect(metric.status).toBe(400);
    const running = await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: experiment('born-running', { status: 'RUNNING' }),
    });
    expect(running.status).toBe(409);
    expect(running.body.error.code).toBe('INVALID_STATE_TRANSITION');
  });

  it('shares one key namespace with flags', async () => {
    await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'shared-key', type: 'boolean' } });
    const r = await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: experiment('shared-key') });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('CONFLICT');
    // The other way round too, and the message names what holds the key.
    await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: experiment('shared-exp') });
    const flag = await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'shared-exp', type: 'boolean' } });
    expect(flag.status).toBe(409);
    expect(flag.body.error.message).toBe("the key 'shared-exp' is already used by an experiment in environment 'production'");
  });

  it('freezes variants while RUNNING or PAUSED, allows other edits', async () => {
    const key = await inStatus('RUNNING');
    const changeVariants = await t.request('PATCH', `/api/v1/experiments/${key}`, {
      token: t.adminToken,
      body: {
        variants: [
          { key: 'control', weight: 30 },
          { key: 'treatment', weight: 70 },
        ],
      },
    });
    expect(changeVariants.status).toBe(409);
    expect(changeVariants.body.error.code).toBe('INVALID_STATE_TRANSITION');
    const rename = await t.request('PATCH', `/api/v1/experiments/${key}`, {
      token: t.adminToken,
      body: { name: 'Renamed', traffic_allocation: 50 },
    });
    expect(rename.status).toBe(200);
    expect(rename.body.data.attributes.traffic_allocation).toBe(50);
    await t.request('POST', `/api/v1/experiments/${key}/pause`, { token: t.adminToken });
    expect(
      (
        await t.request('PUT', `/api/v1/experiments/${key}`, {
          token: t.adminToken,
          body: experiment(key, {
            variants: [
              { key: 'control', weight: 50 },
              { key: 'b', weight: 50 },
            ],
          }),
        })
      ).status,
    ).toBe(409);
    const status = await t.request('PATCH', `/api/v1/experiments/${key}`, { token: t.adminToken, body: { status: 'RUNNING' } });
    expect(status.status).toBe(409);
  });

  it('puts RUNNING and PAUSED experiments in the config and pushes each transition to SDKs', async () => {
    const sse = await new SseClient(`${t.url}/sdk/v1/stream`, { 'x-api-key': t.serverKey }).open();
    try {
      await sse.until(() => sse.events.length >= 1);
      const key = 'pushed-exp';
      await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: experiment(key, { targeting: { attr: 'country', op: 'eq', values: ['US'] }, description: 'not in config' }),
      });
      const draftDoc = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body;
      expect(draftDoc.experiments[key]).toBeUndefined();
      await t.request('POST', `/api/v1/experiments/${key}/start`, { token: t.adminToken });
      await sse.until(() => sse.events.some((e) => e.event === 'patch' && e.data.experiments?.[key]?.status === 'RUNNING'));
      const doc = (await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).body;
      expect(Object.keys(doc.experiments[key]).sort()).toEqual([
        'bucket_by',
        'salt',
        'status',
        'targeting',
        'traffic_allocation',
        'variants',
      ]);
      const inside = await t.request('GET', `/api/v1/feature-flags/${key}/evaluate?user_id=u1&country=US`, { apiKey: t.serverKey });
      expect(inside.body.data).toMatchObject({ reason: 'SPLIT', in_experiment: true });
      const outside = await t.request('GET', `/api/v1/feature-flags/${key}/evaluate?user_id=u1&country=FR`, { apiKey: t.serverKey });
      expect(outside.body.data).toMatchObject({ variant: null, reason: 'DEFAULT' });
      await t.request('POST', `/api/v1/experiments/${key}/pause`, { token: t.adminToken });
      await sse.until(() => sse.events.some((e) => e.event === 'patch' && e.data.experiments?.[key]?.status === 'PAUSED'));
      const paused = await t.request('GET', `/api/v1/feature-flags/${key}/evaluate?user_id=u1&country=US`, { apiKey: t.serverKey });
      expect(paused.body.data).toMatchObject({ variant: 'control', reason: 'DISABLED', in_experiment: false });
      await t.request('POST', `/api/v1/experiments/${key}/complete`, { token: t.adminToken });
      await sse.until(() => sse.events.some((e) => e.event === 'patch' && e.data.experiments?.[key] === null));
      const audit = await t.request('GET', `/api/v1/audit-log?resource_id=${key}`, { token: t.adminToken });
      expect(audit.body.data.map((a: { attributes: { action: string } }) => a.attributes.action)).toEqual([
        'experiment.complete',
        'experiment.pause',
        'experiment.start',
        'experiment.create',
      ]);
    } finally {
      sse.close();
    }
  });

  it('lets only the owner (or an ADMIN) change or run an EXPERIMENTER experiment', async () => {
    const owner = await t.user('EXPERIMENTER');
    const other = await t.user('EXPERIMENTER');
    const viewer = await t.user('VIEWER');
    expect((await t.request('POST', '/api/v1/experiments', { token: viewer.token, body: experiment('viewer-exp') })).status).toBe(403);
    expect((await t.request('POST', '/api/v1/experiments', { token: owner.token, body: experiment('owned-exp') })).status).toBe(201);
    expect((await t.request('GET', '/api/v1/experiments/owned-exp', { token: viewer.token })).status).toBe(200);
    const notOwner = await t.request('POST', '/api/v1/experiments/owned-exp/start', { token: other.token });
    expect(notOwner.status).toBe(403);
    expect(notOwner.body.error.message).toBe('only the owner or an ADMIN may start, pause, resume, complete or archive this experiment');
    expect((await t.request('PATCH', '/api/v1/experiments/owned-exp', { token: other.token, body: { name: 'x' } })).status).toBe(403);
    expect((await t.request('POST', '/api/v1/experiments/owned-exp/start', { token: owner.token })).status).toBe(200);
    expect((await t.request('POST', '/api/v1/experiments/owned-exp/pause', { token: t.adminToken })).status).toBe(200);
    expect((await t.request('DELETE', '/api/v1/experiments/owned-exp', { token: other.token })).status).toBe(403);
  });
});
