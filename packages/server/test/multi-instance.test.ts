import { jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWithMasterKey } from '../src/auth/signing-keys';
import { startServer, type RunningServer, type StartOptions } from '../src/server';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';
import { freePort, startPostgres, startRedis, type TestPostgres, type TestRedis } from './services';
import { SseClient, type SseEvent } from './sse-client';

/**
 * Several server instances on one PostgreSQL database and one Redis, as behind a load
 * balancer: shared state, config changes fanned out to every instance's SSE clients, shared
 * rate limits, and what happens while Redis is down.
 */

const POLL_MS = 2000;
const MASTER_KEY = 'multi-instance-test-master-key-32-bytes-or-more';

describe('several instances on PostgreSQL and Redis', () => {
  let postgres: TestPostgres;
  let redis: TestRedis;
  let databaseUrl: string;
  let a: TestServer;
  let b: TestServer;
  const streams: SseClient[] = [];
  const extra: RunningServer[] = [];

  const instance = (more: StartOptions = {}): StartOptions => ({
    databaseUrl,
    redisUrl: redis.url,
    configPollMs: POLL_MS,
    loginRatePerMinute: 10_000,
    // Shared counting must not fall back to local on a slow answer of this loaded machine's Redis.
    redisBudgetMs: 5000,
    // No configured JWT secret: every instance must take the signing keys from the store,
    // where they are kept sealed under the master key.
    jwtSecret: undefined,
    masterKey: MASTER_KEY,
    ...more,
  });
  const startBare = async (more: StartOptions): Promise<RunningServer> => {
    const s = await startServer({ port: 0, host: '127.0.0.1', logLevel: 'silent', printCredentials: false, env: {}, ...instance(more) });
    extra.push(s);
    return s;
  };
  const stream = async (t: TestServer): Promise<SseClient> => {
    const c = await new SseClient(`${t.url}/sdk/v1/stream`, { 'x-api-key': t.serverKey }).open();
    streams.push(c);
    await c.until(() => c.events.some((e) => e.event === 'put'));
    return c;
  };
  const hasFlag = (c: SseClient, key: string) => () => c.events.some((e) => e.event === 'patch' && e.data.flags?.[key] !== undefined);
  const createFlag = async (t: TestServer, key: string): Promise<void> => {
    const r = await t.request('POST', '/api/v1/feature-flags', { token: t.adminToken, body: { key, type: 'boolean', enabled: true } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  };
  const until = async (what: string, predicate: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const sql = async (query: string): Promise<any[]> => {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      return (await c.query(query)).rows;
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    databaseUrl = await postgres.createDatabase();
    // Both start at once on an empty database: migrations, JWT secret and first admin must happen once.
    [a, b] = await Promise.all([startTestServer(instance()), startTestServer(instance())]);
  });
  afterAll(async () => {
    for (const c of streams) c.close();
    for (const s of extra) await s.close();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
    await postgres?.stop();
  });

  it('start together on one empty database: one admin, one sealed signing keyring in the settings table, logins valid on both', async () => {
    expect(a.server.ctx.store.kind).toBe('postgres');
    expect([a.server.credentials, b.server.credentials].filter((c) => c !== null)).toHaveLength(1);
    expect((await sql('SELECT COUNT(*)::int AS n FROM users'))[0].n).toBe(1);
    expect(await sql("SELECT value FROM settings WHERE key = 'jwt_secret' AND value <> ''")).toHaveLength(0);
    const sealed = await sql("SELECT value FROM settings WHERE key = 'jwt_keyring'");
    expect(sealed).toHaveLength(1);
    const keys = (JSON.parse(openWithMasterKey(MASTER_KEY, sealed[0].value)) as { keys: { secret: string }[] }).keys;
    expect(sealed[0].value).not.toContain(keys[0]!.secret);
    const tokenFromA = await a.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    // Signed with the stored key...
    const { payload } = await jwtVerify(tokenFromA, new Uint8Array(Buffer.from(keys[0]!.secret, 'base64url')));
    expect(payload.sub).toBeTruthy();
    // ...so the other instance accepts it, and the other way round.
    const me = await b.request('GET', '/api/v1/auth/me', { token: tokenFromA });
    expect(me.status, JSON.stringify(me.body)).toBe(200);
    expect(JSON.stringify(me.body)).toContain(ADMIN_EMAIL);
    expect((await a.request('GET', '/api/v1/auth/me', { token: await b.login(ADMIN_EMAIL, ADMIN_PASSWORD) })).status).toBe(200);
    // An API key made through B works on A.
    expect((await a.request('GET', '/sdk/v1/config', { apiKey: b.serverKey })).status).toBe(200);
  });

  it('a flag change through A reaches an SSE client of B through Redis, and the other way round; versions agree', async () => {
    const onB = await stream(b);
    const onA = await stream(a);
    const receivedBefore = b.server.fanout!.stats.received;
    await createFlag(a, 'fanout-a');
    await onB.until(hasFlag(onB, 'fanout-a'), 10_000);
    const version = a.server.ctx.config.version;
    // It came through Redis: B received A's message naming that version.
    expect(b.server.fanout!.stats.received).toBeGreaterThan(receivedBefore);
    expect(b.server.fanout!.stats.lastReceivedVersion).toBe(version);
    expect(Number(onB.events.find(hasPatchFor('fanout-a'))!.id)).toBe(version);

    const receivedByA = a.server.fanout!.stats.received;
    await createFlag(b, 'fanout-b');
    await onA.until(hasFlag(onA, 'fanout-b'), 10_000);
    expect(a.server.fanout!.stats.received).toBeGreaterThan(receivedByA);
    expect(a.server.fanout!.stats.lastReceivedVersion).toBe(b.server.ctx.config.version);

    const storeVersion = await a.server.ctx.store.configVersion('production');
    await until(
      'both instances at the store version',
      () => a.server.ctx.config.version === storeVersion && b.server.ctx.config.version === storeVersion,
      1000,
    );
    const [ca, cb] = await Promise.all([
      a.request('GET', '/sdk/v1/config', { apiKey: a.serverKey }),
      b.request('GET', '/sdk/v1/config', { apiKey: b.serverKey }),
    ]);
    expect(ca.headers.get('etag')).toBe(`"v${storeVersion}"`);
    expect(cb.headers.get('etag')).toBe(ca.headers.get('etag'));
    expect(cb.body).toEqual(ca.body);
  });

  it('concurrent changes on both instances converge, and an SSE client of B sees every change', async () => {
    const onB = await stream(b);
    const put = onB.events.find((e) => e.event === 'put')!;
    const keys = Array.from({ length: 16 }, (_, i) => `burst-${i}`);
    await Promise.all(keys.map((k, i) => createFlag(i % 2 === 0 ? a : b, k)));
    const storeVersion = await a.server.ctx.store.configVersion('production');
    await until(
      'both instances at the store version',
      () => a.server.ctx.config.version === storeVersion && b.server.ctx.config.version === storeVersion,
      2 * POLL_MS,
    );
    const [ca, cb] = await Promise.all([
      a.request('GET', '/sdk/v1/config', { apiKey: a.serverKey }),
      b.request('GET', '/sdk/v1/config', { apiKey: b.serverKey }),
    ]);
    expect(cb.body).toEqual(ca.body);
    for (const k of keys) expect(ca.body.flags[k], k).toBeDefined();
    // Patches reach the stream in version order (a repeat is harmless, going back is not).
    const ids = onB.events.filter((e) => e.event === 'patch').map((e) => Number(e.id));
    expect(
      ids.filter((id, i) => i > 0 && id < ids[i - 1]!),
      JSON.stringify(ids),
    ).toEqual([]);
    // What an SDK following B's stream ends up with: the put, then patches in version order.
    await onB.until(() => onB.events.some((e) => e.event === 'patch' && Number(e.id) === storeVersion), 1000);
    const flags = { ...put.data.flags } as Record<string, unknown>;
    let v = put.data.version as number;
    for (const e of onB.events) {
      if (e.event !== 'patch' || Number(e.id) <= v) continue;
      for (const [k, f] of Object.entries(e.data.flags ?? {}))
        if (f === null) delete flags[k];
        else flags[k] = f;
      v = Number(e.id);
    }
    expect(v).toBe(storeVersion);
    expect(flags).toEqual(ca.body.flags);
  });

  it('shares rate limits: with a burst of 4, requests spread over two instances are limited together', async () => {
    const c = await startBare({ apiRateBurst: 4, apiRatePerSecond: 0.001 });
    const d = await startBare({ apiRateBurst: 4, apiRatePerSecond: 0.001 });
    const key = (await a.request('POST', '/api/v1/api-keys', { token: a.adminToken, body: { name: 'rate-limited', kind: 'server' } })).body
      .data.attributes.key as string;
    const replies: { status: number; remaining: string | null }[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${(i % 2 === 0 ? c : d).url}/sdk/v1/config`, { headers: { 'x-api-key': key } });
      await res.text();
      replies.push({ status: res.status, remaining: res.headers.get('ratelimit-remaining') });
    }
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect(replies.slice(0, 4).map((r) => r.remaining)).toEqual(['3', '2', '1', '0']);
    expect(replies[4]!.remaining).toBe('0');
  });

  it('without Redis, the poll alone keeps an instance on the same database in sync', async () => {
    const e = await startBare({ redisUrl: undefined, configPollMs: 300 });
    expect(e.fanout).not.toBeNull();
    await createFlag(a, 'poll-only');
    await until('E has the flag', () => e.ctx.config.document.flags['poll-only'] !== undefined, 1500);
    expect(e.fanout!.stats.catchUps.poll).toBeGreaterThan(0);
    expect(e.fanout!.stats.received).toBe(0);
  });

  it('starts and serves when Redis is unreachable from the start', async () => {
    const port = await freePort();
    // The start does not wait for Redis: it completes while the connection is still failing.
    const f = await startBare({ redisUrl: `redis://127.0.0.1:${port}`, configPollMs: 300 });
    expect(f.fanout!.connected).toBe(false);
    expect((await fetch(`${f.url}/health`)).status).toBe(200);
    const cfg = await fetch(`${f.url}/sdk/v1/config`, { headers: { 'x-api-key': a.serverKey } });
    expect(cfg.status).toBe(200);
    const login = await fetch(`${f.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const token = ((await login.json()) as any).data.access_token as string;
    const created = await fetch(`${f.url}/api/v1/feature-flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ key: 'from-f', type: 'boolean', enabled: false }),
    });
    expect(created.status).toBe(201);
    expect(f.fanout!.connected).toBe(false);
  });

  it('takes the database and Redis from SWITCHYARD_DATABASE_URL and SWITCHYARD_REDIS_URL', async () => {
    const g = await startServer({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      printCredentials: false,
      env: {
        SWITCHYARD_DATABASE_URL: databaseUrl,
        SWITCHYARD_REDIS_URL: redis.url,
        SWITCHYARD_CONFIG_POLL_MS: '250',
        SWITCHYARD_DB: '/nonexistent/never-used.db',
        SWITCHYARD_MASTER_KEY: MASTER_KEY,
      },
    });
    extra.push(g);
    expect(g.ctx.store.kind).toBe('postgres');
    expect(g.ctx.options).toMatchObject({ databaseUrl, redisUrl: redis.url, configPollMs: 250 });
    expect(g.credentials).toBeNull();
    await until('G subscribed to Redis', () => g.fanout!.connected, 5000);
    expect(g.ctx.config.version).toBe(await a.server.ctx.store.configVersion('production'));
  });

  it('with Redis down, instances keep serving and catch up through the poll; fan-out resumes when Redis is back', async () => {
    const onB = await stream(b);
    await redis.stop();
    await until('both instances notice Redis is gone', () => !a.server.fanout!.connected && !b.server.fanout!.connected, 5000);

    // Nothing fails because Redis is down: management API, SDK (rate limited) and login (rate limited).
    for (const t of [a, b]) {
      expect((await t.request('GET', '/api/v1/feature-flags', { token: t.adminToken })).status).toBe(200);
      expect((await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).status).toBe(200);
      expect((await t.request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).status).toBe(200);
    }

    const polled = b.server.fanout!.stats.catchUps.poll;
    const received = b.server.fanout!.stats.received;
    await createFlag(a, 'while-redis-down');
    await onB.until(hasFlag(onB, 'while-redis-down'), 10 * POLL_MS);
    // It came through the poll, not a message.
    expect(b.server.fanout!.stats.catchUps.poll).toBeGreaterThan(polled);
    expect(b.server.fanout!.stats.received).toBe(received);
    expect(onB.closed).toBe(false);

    await redis.start();
    await until('both instances reconnected to Redis', () => a.server.fanout!.connected && b.server.fanout!.connected, 10_000);
    const receivedAfter = b.server.fanout!.stats.received;
    await createFlag(a, 'after-redis-back');
    await onB.until(hasFlag(onB, 'after-redis-back'), 10_000);
    // Through Redis again: a message named the new version.
    expect(b.server.fanout!.stats.received).toBeGreaterThan(receivedAfter);
    expect(b.server.fanout!.stats.lastReceivedVersion).toBe(a.server.ctx.config.version);
  });
});

function hasPatchFor(key: string): (e: SseEvent) => boolean {
  return (e) => e.event === 'patch' && e.data.flags?.[key] !== undefined;
}
