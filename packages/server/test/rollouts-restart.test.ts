import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditCount, counterValue } from './cluster-support';
import { startTestServer, type TestServer } from './helpers';
import { offFlag, rolloutBody, rolloutsPath, trafficThrough } from './rollout-support';
import { startPostgres, type TestPostgres } from './services';

const MINUTE = 60_000;
const units = Array.from({ length: 400 }, (_, i) => `unit-${i}`);
const onUnits = (got: Map<string, string>) => new Set([...got].filter(([, v]) => v === 'on').map(([u]) => u));

// A rollout's state lives in the store: a restarted server resumes the stage it was at, its hold
// measured from the stored stage start (a clock the test moves stands in for the minutes).
describe.each(['sqlite', 'postgres'] as const)('guarded rollouts across a restart: %s', (kind) => {
  let postgres: TestPostgres | undefined;
  let databaseUrl: string | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-rollout-restart-'));
  let offset = 0;
  const now = () => Date.now() + offset;
  const servers: TestServer[] = [];

  const start = async () => {
    const t = await startTestServer({
      dir,
      now,
      rolloutIntervalMs: 3_600_000,
      apiRateBurst: 1e9,
      apiRatePerSecond: 1e9,
      ...(databaseUrl === undefined ? {} : { databaseUrl }),
    });
    servers.push(t);
    return t;
  };

  beforeAll(async () => {
    if (kind === 'postgres') {
      postgres = await startPostgres();
      databaseUrl = await postgres.createDatabase();
    }
  }, 60_000);
  afterAll(async () => {
    for (const t of servers) await t.stop().catch(() => undefined);
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes the right stage after a restart, with its hold measured from the stored stage start', async () => {
    const a = await start();
    expect((await a.request('POST', '/api/v1/feature-flags', { token: a.adminToken, body: offFlag('resumed') })).status).toBe(201);
    const created = await a.request('POST', rolloutsPath('resumed'), { token: a.adminToken, body: rolloutBody() });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    const first = onUnits(await trafficThrough(a, 'resumed', units));
    expect((await a.server.jobs.rollouts.check()).get(id)).toBe('held');
    offset += 10 * MINUTE;
    expect((await a.server.jobs.rollouts.check()).get(id)).toBe('advanced');
    const before = (await a.request('GET', rolloutsPath('resumed', id), { token: a.adminToken })).body.data.attributes;
    expect(before).toMatchObject({ stage: 2, share: 60, status: 'running' });

    // Five minutes into the second stage's ten, the server stops and another starts on the same store.
    offset += 5 * MINUTE;
    await a.stop();
    const b = await start();
    const after = (await b.request('GET', rolloutsPath('resumed', id), { token: b.adminToken })).body.data.attributes;
    expect(after).toMatchObject({ stage: 2, share: 60, status: 'running', stage_started_at: before.stage_started_at });
    // The restarted server serves the second stage's split, and units of the new arm stay in it.
    const second = onUnits(await trafficThrough(b, 'resumed', units));
    for (const u of first) expect(second.has(u), u).toBe(true);
    expect(second.size).toBeGreaterThan(first.size);
    expect((await b.server.jobs.rollouts.check()).get(id)).toBe('held');
    // Ten minutes after the stored stage start (only five after the restart) it advances.
    offset += 5 * MINUTE;
    expect((await b.server.jobs.rollouts.check()).get(id)).toBe('advanced');
    expect((await b.server.jobs.rollouts.check()).get(id)).toBe('completed');
    const done = (await b.request('GET', rolloutsPath('resumed', id), { token: b.adminToken })).body.data.attributes;
    expect(done.history.map((h: { action: string; stage: number }) => [h.action, h.stage])).toEqual([
      ['started', 1],
      ['advanced', 2],
      ['advanced', 3],
      ['completed', 3],
    ]);
    const flag = await b.request('GET', '/api/v1/feature-flags/resumed', { token: b.adminToken });
    expect(flag.body.data.attributes.default_serve).toEqual({ variant: 'on' });
  });
});

// Several instances on one PostgreSQL database: the monitor runs on the leader only, and a stage
// transition is a compare-and-set, so two instances that both try to act still act once.
describe('guarded rollouts on two instances sharing PostgreSQL', () => {
  let postgres: TestPostgres;
  const servers: TestServer[] = [];
  const FAST = { rolloutIntervalMs: 200, leaderCheckMs: 200, apiRateBurst: 1e9, apiRatePerSecond: 1e9 };

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const t of servers) await t.stop().catch(() => undefined);
    await postgres?.stop();
  });

  it('advances a stage once, with one audit record, on whichever instance leads', async () => {
    const url = await postgres.createDatabase();
    const [a, b] = await Promise.all([startTestServer({ databaseUrl: url, ...FAST }), startTestServer({ databaseUrl: url, ...FAST })]);
    servers.push(a, b);
    await vi.waitFor(() => expect([a, b].filter((t) => t.server.jobs.leadership.isLeader)).toHaveLength(1), { timeout: 10_000 });
    const leader = a.server.jobs.leadership.isLeader ? a : b;
    const follower = leader === a ? b : a;
    expect((await follower.request('POST', '/api/v1/feature-flags', { token: follower.adminToken, body: offFlag('shared') })).status).toBe(
      201,
    );
    // A short first hold (1.2 s), then a long one: the leader's own passes move it once.
    const body = rolloutBody({
      stages: [
        { percent: 25, hold_minutes: 0.02 },
        { percent: 100, hold_minutes: 60 },
      ],
    });
    const created = await follower.request('POST', rolloutsPath('shared'), { token: follower.adminToken, body });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    await trafficThrough(follower, 'shared', units);
    await vi.waitFor(
      async () =>
        expect((await follower.request('GET', rolloutsPath('shared', id), { token: follower.adminToken })).body.data.attributes.stage).toBe(
          2,
        ),
      { timeout: 20_000, interval: 100 },
    );
    expect(await auditCount(url, 'rollout.advance', 'shared')).toBe(1);
    const transitions = async (t: TestServer) =>
      counterValue(await (await fetch(`${t.url}/metrics`)).text(), 'switchyard_job_transitions_total', {
        job: 'rollout-monitor',
        outcome: 'applied',
      });
    expect(await transitions(leader)).toBe(1);
    expect(await transitions(follower)).toBe(0);
  });

  it('two instances acting on the same elapsed hold at once advance it once', async () => {
    const url = await postgres.createDatabase();
    const slow = { ...FAST, rolloutIntervalMs: 3_600_000 };
    const [a, b] = await Promise.all([startTestServer({ databaseUrl: url, ...slow }), startTestServer({ databaseUrl: url, ...slow })]);
    servers.push(a, b);
    expect((await a.request('POST', '/api/v1/feature-flags', { token: a.adminToken, body: offFlag('raced') })).status).toBe(201);
    const body = rolloutBody({ stages: [{ percent: 25 }, { percent: 50, hold_minutes: 60 }, { percent: 100 }] });
    const id = (await a.request('POST', rolloutsPath('raced'), { token: a.adminToken, body })).body.data.id as string;
    await trafficThrough(a, 'raced', units);
    // Both passes bypass leadership (as a leader losing its lease mid-pass would).
    const [x, y] = await Promise.all([a.server.jobs.rollouts.check(), b.server.jobs.rollouts.check()]);
    expect([x.get(id), y.get(id)].filter((o) => o === 'advanced')).toHaveLength(1);
    expect(await auditCount(url, 'rollout.advance', 'raced')).toBe(1);
    const r = (await a.request('GET', rolloutsPath('raced', id), { token: a.adminToken })).body.data.attributes;
    expect(r).toMatchObject({ stage: 2, share: 50 });
    expect(r.history.filter((h: { action: string }) => h.action === 'advanced')).toHaveLength(1);
  });
});
