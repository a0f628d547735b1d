import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCli, type CliServer } from './cli-process';
import { auditCount, guardedExperiment, sql } from './cluster-support';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';
import { SseClient } from './sse-client';

/**
 * Degraded modes with a real PostgreSQL that stops, restarts, freezes (SIGSTOP) or blocks: SDK
 * reads keep answering with known keys, writes and event batches get 503 + Retry-After,
 * background jobs fail and retry without taking the process down, and everything recovers
 * without a restart.
 */

const MASTER_KEY = 'postgres-outage-test-master-key-32-bytes-long';

describe('PostgreSQL outages', () => {
  let postgres: TestPostgres;
  const clis: CliServer[] = [];
  const servers: TestServer[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const s of streams) s.close();
    for (const c of clis) await c.stop();
    for (const t of servers) await t.stop().catch(() => undefined);
    await postgres?.stop();
  });

  const call = async (base: string, method: string, path: string, o: { token?: string; key?: string; body?: unknown } = {}) => {
    const headers: Record<string, string> = {};
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.key !== undefined) headers['x-api-key'] = o.key;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    // A guard against hanging, not a latency assertion.
    const res = await fetch(base + path, {
      method,
      headers,
      signal: AbortSignal.timeout(20_000),
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
  };
  const expectUnavailable = (r: { status: number; headers: Headers; body: any }) => {
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(r.body.error.code).toBe('SERVICE_UNAVAILABLE');
  };
  const events = (n: number) =>
    Array.from({ length: n }, () => ({
      id: randomUUID(),
      type: 'track',
      key: 'purchase',
      unit_id: `u-${randomUUID()}`,
      timestamp: Date.now(),
    }));

  it('stopped and restarted: SDK reads keep answering, writes and events get 503, a due schedule waits, all recovers without a restart', async () => {
    const url = await postgres.createDatabase();
    const cli = startCli(['serve', '--port', '0', '--host', '127.0.0.1'], {
      env: {
        SWITCHYARD_DATABASE_URL: url,
        SWITCHYARD_MASTER_KEY: MASTER_KEY,
        SWITCHYARD_ADMIN_EMAIL: ADMIN_EMAIL,
        SWITCHYARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
        // Expired at once: every read during the outage has to fall back on the cached entry.
        SWITCHYARD_CREDENTIAL_CACHE_TTL_MS: '1',
        SWITCHYARD_PG_CONNECT_TIMEOUT_MS: '1000',
        SWITCHYARD_LEADER_CHECK_MS: '200',
      },
    });
    clis.push(cli);
    const base = await cli.url();
    const login = await call(base, 'POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    const token = login.body.data.access_token as string;
    const serverKey = (await call(base, 'POST', '/api/v1/api-keys', { token, body: { name: 'svc', kind: 'server' } })).body.data.attributes
      .key as string;
    const clientKey = (await call(base, 'POST', '/api/v1/api-keys', { token, body: { name: 'web', kind: 'client' } })).body.data.attributes
      .key as string;
    expect(
      (await call(base, 'POST', '/api/v1/feature-flags', { token, body: { key: 'outage-flag', type: 'boolean', enabled: true } })).status,
    ).toBe(201);
    const startAt = Date.now() + 2000;
    const scheduled = await call(base, 'POST', '/api/v1/experiments', {
      token,
      body: guardedExperiment('due-in-outage', { schedule: { start_at: new Date(startAt).toISOString() } }),
    });
    expect(scheduled.status).toBe(201);
    const before = events(50);
    expect((await call(base, 'POST', '/sdk/v1/events', { key: serverKey, body: { events: before } })).status).toBe(202);
    // Each key and the admin are used once before the outage: that is what makes them "known".
    for (const r of [
      await call(base, 'GET', '/sdk/v1/config', { key: serverKey }),
      await call(base, 'POST', '/sdk/v1/evaluate', { key: clientKey, body: { context: { key: 'u1' } } }),
      await call(base, 'GET', '/api/v1/feature-flags', { token }),
    ])
      expect(r.status).toBe(200);
    const stream = await new SseClient(`${base}/sdk/v1/stream`, { 'x-api-key': serverKey }).open();
    streams.push(stream);
    await stream.until(() => stream.events.some((e) => e.event === 'put'));

    await postgres.halt();
    const ready = await call(base, 'GET', '/ready');
    expectUnavailable(ready);
    expect(ready.body.error.details.dependencies.database.status).toBe('down');

    // SDK reads, from memory, with the keys seen before.
    const config = await call(base, 'GET', '/sdk/v1/config', { key: serverKey });
    expect(config.status).toBe(200);
    expect(config.body.flags['outage-flag'].enabled).toBe(true);
    const evaluated = await call(base, 'POST', '/sdk/v1/evaluate', { key: clientKey, body: { context: { key: 'u1' } } });
    expect(evaluated.status, JSON.stringify(evaluated.body)).toBe(200);
    const ofrep = await call(base, 'POST', '/ofrep/v1/evaluate/flags/outage-flag', {
      key: serverKey,
      body: { context: { targetingKey: 'u1' } },
    });
    expect(ofrep.status, JSON.stringify(ofrep.body)).toBe(200);
    expect(ofrep.body.value).toBe(true);
    expect((await call(base, 'GET', '/api/v1/feature-flags/outage-flag/evaluate?user_id=u1', { key: serverKey })).status).toBe(200);
    const late = await new SseClient(`${base}/sdk/v1/stream`, { 'x-api-key': serverKey }).open();
    streams.push(late);
    await late.until(() => late.events.some((e) => e.event === 'put'));
    expect(stream.closed).toBe(false);

    // Writes and event batches: 503 with Retry-After, nothing stored.
    expectUnavailable(await call(base, 'POST', '/api/v1/feature-flags', { token, body: { key: 'during-outage', type: 'boolean' } }));
    const during = events(40);
    expectUnavailable(await call(base, 'POST', '/sdk/v1/events', { key: serverKey, body: { events: during } }));
    // An unknown key cannot be checked now: retry later, not "invalid".
    expectUnavailable(await call(base, 'GET', '/sdk/v1/config', { key: 'sy_srv_unknownunknownunknownunknown' }));

    // The schedule comes due while the database is down; the process lives on.
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(startAt), { timeout: 10_000, interval: 50 });
    // Without the database it cannot hold the lease: no instance runs jobs until it is back.
    await vi.waitFor(async () => expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^switchyard_leader 0$/m), {
      timeout: 10_000,
    });
    expect((await call(base, 'GET', '/health')).status).toBe(200);
    expect(cli.child.exitCode).toBeNull();

    await postgres.start();
    await vi.waitFor(async () => expect((await call(base, 'GET', '/ready')).status).toBe(200), { timeout: 30_000, interval: 100 });
    // The leader lease is taken again and the scheduler catches up on what came due.
    await vi.waitFor(
      async () =>
        expect((await call(base, 'GET', '/api/v1/experiments/due-in-outage', { token })).body.data.attributes.status).toBe('RUNNING'),
      { timeout: 30_000, interval: 100 },
    );
    expect(await auditCount(url, 'experiment.scheduled_start', 'due-in-outage')).toBe(1);
    // The SDK resends the refused batch; the earlier one again too (a lost acknowledgement): nothing lost, nothing twice.
    const resent = await call(base, 'POST', '/sdk/v1/events', { key: serverKey, body: { events: during } });
    expect(resent.status).toBe(202);
    expect(resent.body.data).toEqual({ accepted: during.length, duplicates: 0 });
    expect((await call(base, 'POST', '/sdk/v1/events', { key: serverKey, body: { events: before } })).body.data).toEqual({
      accepted: 0,
      duplicates: before.length,
    });
    const stored = await sql(url, 'SELECT id FROM events');
    expect(new Set(stored.map((r) => r.id))).toEqual(new Set([...before, ...during].map((e) => e.id)));
    expect((await call(base, 'POST', '/api/v1/feature-flags', { token, body: { key: 'after-outage', type: 'boolean' } })).status).toBe(201);
    expect(cli.child.exitCode).toBeNull();
  }, 120_000);

  it('frozen (SIGSTOP): /ready answers 503 instead of hanging, SDK reads answer, writes get 503 once the timeouts pass; thawed, all works', async () => {
    const t = await startTestServer({
      databaseUrl: await postgres.createDatabase(),
      masterKey: MASTER_KEY,
      pgConnectTimeoutMs: 1000,
      pgStatementTimeoutMs: 1000,
      credentialCacheTtlMs: 1,
    });
    servers.push(t);
    expect((await call(t.url, 'GET', '/sdk/v1/config', { key: t.serverKey })).status).toBe(200);
    postgres.freeze();
    try {
      const ready = await call(t.url, 'GET', '/ready');
      expectUnavailable(ready);
      expect(ready.body.error.details.dependencies.database).toMatchObject({ status: 'down' });
      expect((await call(t.url, 'GET', '/sdk/v1/config', { key: t.serverKey })).status).toBe(200);
      expectUnavailable(
        await call(t.url, 'POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'frozen', type: 'boolean' } }),
      );
      expectUnavailable(await call(t.url, 'POST', '/sdk/v1/events', { key: t.serverKey, body: { events: events(5) } }));
    } finally {
      postgres.thaw();
    }
    await vi.waitFor(async () => expect((await call(t.url, 'GET', '/ready')).status).toBe(200), { timeout: 30_000, interval: 100 });
    await vi.waitFor(
      async () =>
        expect(
          (await call(t.url, 'POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key: 'thawed', type: 'boolean' } })).status,
        ).toBe(201),
      { timeout: 30_000, interval: 200 },
    );
  });

  it('a scheduled start that comes due while its table is locked fails, is retried with backoff, and happens once when the lock goes', async () => {
    const url = await postgres.createDatabase();
    const t = await startTestServer({ databaseUrl: url, masterKey: MASTER_KEY, pgStatementTimeoutMs: 500 });
    servers.push(t);
    const runs = async (outcome: string) =>
      (await t.server.ctx.metrics.operations.jobRuns.get()).values.find((v) => v.labels.job === 'scheduler' && v.labels.outcome === outcome)
        ?.value ?? 0;
    const startAt = Date.now() + 1500;
    const created = await t.request('POST', '/api/v1/experiments', {
      token: t.adminToken,
      body: guardedExperiment('locked-out', { schedule: { start_at: new Date(startAt).toISOString() } }),
    });
    expect(created.status).toBe(201);
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE resources IN ACCESS EXCLUSIVE MODE');
      // The timer fires at the due time; its reads hit the statement timeout: a failed run, retried.
      await vi.waitFor(async () => expect(await runs('error')).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 50 });
      expect(t.server.jobs.leadership.isLeader).toBe(true);
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    await vi.waitFor(
      async () =>
        expect((await t.request('GET', '/api/v1/experiments/locked-out', { token: t.adminToken })).body.data.attributes.status).toBe(
          'RUNNING',
        ),
      {
        timeout: 30_000,
        interval: 100,
      },
    );
    expect(await auditCount(url, 'experiment.scheduled_start', 'locked-out')).toBe(1);
    expect(await runs('ok')).toBeGreaterThan(0);
  });
});
