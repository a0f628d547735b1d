import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCli, type CliServer } from './cli-process';
import { auditCount, counterValue, feedBreach, guardedExperiment, sql } from './cluster-support';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

/**
 * Background jobs with several instances on one PostgreSQL database: one leader runs them,
 * every transition is a compare-and-set, and a leader that dies (even in the middle of a
 * transition) is replaced within the lease check interval without anything happening twice.
 */

const MASTER_KEY = 'multi-instance-jobs-test-master-key-32-bytes';
const FAST = {
  safetyIntervalMs: 300,
  leaderCheckMs: 200,
  apiRateBurst: 1e9,
  apiRatePerSecond: 1e9,
  masterKey: MASTER_KEY,
  jwtSecret: undefined,
};

describe('background jobs on several instances', () => {
  let postgres: TestPostgres;
  const servers: TestServer[] = [];
  const clis: CliServer[] = [];

  const instance = async (databaseUrl: string, more: Parameters<typeof startTestServer>[0] = {}) => {
    const t = await startTestServer({ databaseUrl, ...FAST, ...more });
    servers.push(t);
    return t;
  };
  const pair = async (more: Parameters<typeof startTestServer>[0] = {}) => {
    const url = await postgres.createDatabase();
    const [a, b] = await Promise.all([instance(url, more), instance(url, more)]);
    await vi.waitFor(() => expect([a, b].filter((t) => t.server.jobs.leadership.isLeader)).toHaveLength(1), { timeout: 10_000 });
    const leader = a.server.jobs.leadership.isLeader ? a : b;
    return { url, leader, follower: leader === a ? b : a };
  };
  const status = async (t: TestServer, key: string) =>
    (await t.request('GET', `/api/v1/experiments/${key}`, { token: t.adminToken })).body.data.attributes.status as string;
  const metrics = async (url: string) => (await fetch(`${url}/metrics`)).text();
  const transitions = async (t: TestServer, job: string, outcome?: string) =>
    counterValue(await metrics(t.url), 'switchyard_job_transitions_total', { job, ...(outcome === undefined ? {} : { outcome }) });

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const c of clis) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    for (const t of servers.splice(0)) await t.stop().catch(() => undefined);
    await postgres?.stop();
  });

  it('exactly one instance leads (switchyard_leader 1); when it stops, the other takes the lease over', async () => {
    const { leader, follower } = await pair();
    expect(await metrics(leader.url)).toMatch(/^switchyard_leader 1$/m);
    expect(await metrics(follower.url)).toMatch(/^switchyard_leader 0$/m);
    await leader.stop();
    servers.splice(servers.indexOf(leader), 1);
    await vi.waitFor(() => expect(follower.server.jobs.leadership.isLeader).toBe(true), { timeout: 10_000, interval: 20 });
    expect(await metrics(follower.url)).toMatch(/^switchyard_leader 1$/m);
  });

  it('a schedule saved on the follower is started once, by the leader, with one audit record', async () => {
    const { url, leader, follower } = await pair();
    const startAt = new Date(Date.now() + 1500).toISOString();
    const created = await follower.request('POST', '/api/v1/experiments', {
      token: follower.adminToken,
      body: guardedExperiment('scheduled-once', { schedule: { start_at: startAt } }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // The leader re-plans on the follower's signal: without it the next re-plan is a minute away.
    await vi.waitFor(async () => expect(await status(follower, 'scheduled-once')).toBe('RUNNING'), { timeout: 20_000, interval: 100 });
    expect(await auditCount(url, 'experiment.scheduled_start', 'scheduled-once')).toBe(1);
    expect(await transitions(leader, 'scheduler', 'applied')).toBe(1);
    expect(await transitions(follower, 'scheduler')).toBe(0);
  });

  it('a guardrail breach is paused once, by the leader, with one audit record', async () => {
    const { url, leader, follower } = await pair();
    expect(
      (await follower.request('POST', '/api/v1/experiments', { token: follower.adminToken, body: guardedExperiment('guarded-once') }))
        .status,
    ).toBe(201);
    expect((await follower.request('POST', '/api/v1/experiments/guarded-once/start', { token: follower.adminToken })).status).toBe(200);
    await feedBreach(follower, 'guarded-once');
    await vi.waitFor(async () => expect(await status(follower, 'guarded-once')).toBe('PAUSED'), { timeout: 30_000, interval: 100 });
    expect(await auditCount(url, 'experiment.auto_pause', 'guarded-once')).toBe(1);
    expect(await transitions(leader, 'safety-monitor', 'applied')).toBe(1);
    expect(await transitions(follower, 'safety-monitor')).toBe(0);
  });

  it('compare-and-set: both instances acting on the same transitions at the same moment write each once', async () => {
    let clock = Date.now();
    // The leader's own safety pass would otherwise pause the breach before the two manual ones race.
    const { url, leader, follower } = await pair({ now: () => clock, safetyIntervalMs: 3_600_000 });
    const keys = ['race-0', 'race-1', 'race-2', 'race-3', 'race-4'];
    for (const key of keys) {
      const r = await follower.request('POST', '/api/v1/experiments', {
        token: follower.adminToken,
        body: guardedExperiment(key, { schedule: { start_at: new Date(clock + 600_000).toISOString() } }),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    clock += 600_000;
    // Both run the scheduler pass now, regardless of the lease: only the store's compare-and-set can keep them apart.
    await Promise.all([leader.server.jobs.scheduler.tick(), follower.server.jobs.scheduler.tick()]);
    for (const key of keys) {
      expect(await status(leader, key)).toBe('RUNNING');
      expect(await auditCount(url, 'experiment.scheduled_start', key), key).toBe(1);
    }
    const applied = (await transitions(leader, 'scheduler', 'applied')) + (await transitions(follower, 'scheduler', 'applied'));
    expect(applied).toBe(keys.length);

    await feedBreach(follower, 'race-0', 1200, clock + 1000);
    const breaches = await Promise.all([leader.server.jobs.safety.check(), follower.server.jobs.safety.check()]);
    expect(breaches.flat().filter((b) => b.experiment === 'race-0')).toHaveLength(1);
    expect(await status(leader, 'race-0')).toBe('PAUSED');
    expect(await auditCount(url, 'experiment.auto_pause', 'race-0')).toBe(1);
  });

  it('the leader killed (SIGKILL) in the middle of a scheduled start and of a guardrail pause: the other instance does each once', async () => {
    const url = await postgres.createDatabase();
    const leaderProcess = startCli(['serve', '--port', '0', '--host', '127.0.0.1'], {
      env: {
        SWITCHYARD_DATABASE_URL: url,
        SWITCHYARD_MASTER_KEY: MASTER_KEY,
        SWITCHYARD_ADMIN_EMAIL: ADMIN_EMAIL,
        SWITCHYARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
        SWITCHYARD_SAFETY_INTERVAL_MS: '300',
        SWITCHYARD_LEADER_CHECK_MS: '200',
      },
    });
    clis.push(leaderProcess);
    const leaderUrl = await leaderProcess.url();
    await vi.waitFor(async () => expect(await metrics(leaderUrl)).toMatch(/^switchyard_leader 1$/m), { timeout: 10_000 });
    const b = await instance(url);
    expect(b.server.jobs.leadership.isLeader).toBe(false);

    expect((await b.request('POST', '/api/v1/experiments', { token: b.adminToken, body: guardedExperiment('killed-pause') })).status).toBe(
      201,
    );
    expect((await b.request('POST', '/api/v1/experiments/killed-pause/start', { token: b.adminToken })).status).toBe(200);
    const startAt = new Date(Date.now() + 1500).toISOString();
    const scheduled = await b.request('POST', '/api/v1/experiments', {
      token: b.adminToken,
      body: guardedExperiment('killed-start', { schedule: { start_at: startAt } }),
    });
    expect(scheduled.status).toBe(201);

    // Hold both rows: the leader's transitions get as far as their UPDATE and wait there. The
    // locker is a write transaction left open (FOR UPDATE takes a transaction id): the results'
    // aggregator must still summarize the breach the monitor has to see meanwhile.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query("SELECT id FROM resources WHERE key IN ('killed-pause', 'killed-start') FOR UPDATE");
      await feedBreach(b, 'killed-pause');
      // One transition waits on the row, the other behind it on the config-version lock.
      await vi.waitFor(
        async () => {
          const waiting = await sql(
            url,
            `SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
            AND (query LIKE 'UPDATE resources%' OR query LIKE '%pg_advisory_xact_lock%')`,
          );
          expect(waiting[0].n).toBe(2);
        },
        { timeout: 30_000, interval: 50 },
      );
      expect(await auditCount(url, 'experiment.scheduled_start', 'killed-start')).toBe(0);
      leaderProcess.child.kill('SIGKILL');
      await leaderProcess.stop();
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }

    await vi.waitFor(() => expect(b.server.jobs.leadership.isLeader).toBe(true), { timeout: 10_000, interval: 20 });
    await vi.waitFor(async () => expect(await status(b, 'killed-start')).toBe('RUNNING'), { timeout: 20_000, interval: 100 });
    await vi.waitFor(async () => expect(await status(b, 'killed-pause')).toBe('PAUSED'), { timeout: 20_000, interval: 100 });
    expect(await auditCount(url, 'experiment.scheduled_start', 'killed-start')).toBe(1);
    expect(await auditCount(url, 'experiment.auto_pause', 'killed-pause')).toBe(1);
    expect(await transitions(b, 'scheduler', 'applied')).toBe(1);
    expect(await transitions(b, 'safety-monitor', 'applied')).toBe(1);
  });
});
