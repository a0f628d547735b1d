import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKeySecret } from '../src/auth/api-key-secret';
import { PG_MIGRATIONS } from '../src/store/postgres/migrations';
import { MIGRATIONS } from '../src/store/sqlite/migrations';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

/**
 * A store written by the release before environments (SQLite migrations 1-5, PostgreSQL 1-4),
 * opened by this one: everything in it becomes production's, over real HTTP.
 */

const T0 = '2025-01-01T00:00:00.000Z';
const OLD_FLAG = {
  key: 'old-flag',
  name: 'Old flag',
  type: 'boolean',
  enabled: true,
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  off_variant: 'off',
  bucket_by: 'key',
  salt: 'old-flag',
  prerequisites: [],
  rules: [{ id: 'us', when: { attr: 'country', op: 'eq', values: ['US'] }, serve: { variant: 'on' } }],
  default_serve: { variant: 'off' },
};
const OLD_EXPERIMENT = {
  key: 'old-exp',
  name: 'Old experiment',
  status: 'RUNNING',
  variants: [
    { key: 'control', weight: 50 },
    { key: 'treatment', weight: 50 },
  ],
  traffic_allocation: 100,
  bucket_by: 'key',
  salt: 'old-exp',
  metrics: [],
  guardrails: [],
  started_at: T0,
};

/** The rows an old release would have written, as [sql, params] in the dialect's placeholders. */
function oldRows(serverKeyHash: string, ph: (i: number) => string): [string, unknown[]][] {
  const p = (n: number) => Array.from({ length: n }, (_, i) => ph(i + 1)).join(', ');
  const resource = (kind: string, key: string, status: string | null, data: unknown): [string, unknown[]] => [
    `INSERT INTO resources (id, kind, ns, key, owner_id, status, data, created_at, updated_at) VALUES (${p(9)})`,
    [randomUUID(), kind, 'flag', key, null, status, JSON.stringify(data), T0, T0],
  ];
  const rows: [string, unknown[]][] = [
    resource('flag', 'old-flag', 'enabled', OLD_FLAG),
    resource('experiment', 'old-exp', 'RUNNING', OLD_EXPERIMENT),
    [
      `INSERT INTO api_keys (id, name, kind, role, prefix, hash, created_by, created_at, last_used_at, revoked_at) VALUES (${p(10)})`,
      [randomUUID(), 'old server key', 'server', null, 'sy_srv_old', serverKeyHash, null, T0, null, null],
    ],
  ];
  for (let v = 1; v <= 3; v++)
    rows.push([`INSERT INTO config_log (patch, created_at) VALUES (${p(2)})`, [JSON.stringify({ version: v, flags: {} }), T0]]);
  for (let i = 0; i < 4; i++)
    rows.push([
      `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at) VALUES (${p(10)})`,
      [
        `old-${i}`,
        'exposure',
        'old-exp',
        `u${i}`,
        'old-exp',
        i % 2 === 0 ? 'control' : 'treatment',
        null,
        null,
        Date.parse(T0) + i,
        Date.parse(T0),
      ],
    ]);
  return rows;
}

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describe.each(['sqlite', 'postgres'] as const)('a store from before environments, opened by this release: %s', (kind) => {
  it('its flags, experiments, keys, events and config log become production’s; development starts with defaults', async () => {
    const old = newApiKeySecret('server');
    let t: TestServer;
    let cleanup: () => void = () => {};
    if (kind === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-old-'));
      cleanup = () => rmSync(dir, { recursive: true, force: true });
      const dbPath = join(dir, 'old.db');
      const db = new Database(dbPath);
      db.exec('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      for (const m of MIGRATIONS.filter((x) => x.id <= 5)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, T0);
      }
      // The aggregator of the old release summarized these events already.
      for (const [sql, params] of oldRows(old.hash, () => '?')) db.prepare(sql).run(...params);
      db.prepare(
        'INSERT INTO experiment_units (experiment, unit_id, variant, first_ts) SELECT experiment, unit_id, variant, timestamp FROM events',
      ).run();
      db.prepare(
        'INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units) SELECT experiment, 0, variant, COUNT(*) FROM experiment_units GROUP BY experiment, variant',
      ).run();
      db.prepare('UPDATE event_aggregation SET seq = (SELECT MAX(seq) FROM events)').run();
      db.close();
      t = await startTestServer({ dbPath, dir });
    } else {
      const url = await postgres.createDatabase();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
        for (const m of PG_MIGRATIONS.filter((x) => x.id <= 4)) {
          await c.query(m.sql);
          await c.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [m.id, m.name, T0]);
        }
        for (const [sql, params] of oldRows(old.hash, (i) => `$${i}`)) await c.query(sql, params);
        await c.query(
          'INSERT INTO experiment_units (experiment, unit_id, variant, first_ts) SELECT experiment, unit_id, variant, timestamp FROM events',
        );
        await c.query(
          'INSERT INTO experiment_unit_counts (experiment, conflicted, variant, units) SELECT experiment, 0, variant, COUNT(*) FROM experiment_units GROUP BY experiment, variant',
        );
      } finally {
        await c.end();
      }
      t = await startTestServer({ databaseUrl: url });
    }
    try {
      const admin = { token: t.adminToken };
      const envs = await t.request('GET', '/api/v1/environments', admin);
      expect(envs.body.data.map((e: any) => e.attributes.key)).toEqual(['development', 'production']);

      // The flag: what it was, now production's; development has the defaults.
      const flag = (await t.request('GET', '/api/v1/feature-flags/old-flag', admin)).body.data.attributes;
      const { key: _k, name: _n, type: _t, variants: _v, bucket_by: _b, salt: _s, ...state } = OLD_FLAG;
      expect(flag).toMatchObject(OLD_FLAG);
      expect(flag.environments.production).toEqual(state);
      expect(flag.environments.development).toMatchObject({ enabled: false, rules: [] });

      // The old key is a production key; its config continues the old version sequence.
      const keys = (await t.request('GET', '/api/v1/api-keys', admin)).body.data;
      expect(keys.find((k: any) => k.attributes.name === 'old server key').attributes.environment).toBe('production');
      const config = await t.request('GET', '/sdk/v1/config', { apiKey: old.secret });
      expect(config.status).toBe(200);
      expect(config.body.version).toBe(3);
      expect(config.headers.get('etag')).toBe('"v3"');
      expect(config.body.flags['old-flag']).toMatchObject({ enabled: true, default_serve: { variant: 'off' } });
      expect(config.body.experiments['old-exp']).toMatchObject({ status: 'RUNNING' });
      const dev = await t.request('POST', '/api/v1/api-keys', {
        ...admin,
        body: { name: 'dev', kind: 'server', environment: 'development' },
      });
      const devConfig = await t.request('GET', '/sdk/v1/config', { apiKey: dev.body.data.attributes.key });
      expect(devConfig.body.version).toBe(0);
      expect(devConfig.body.flags['old-flag'].enabled).toBe(false);
      expect(devConfig.body.experiments).toEqual({});

      // The experiment is production's, with the events stored before.
      const exp = await t.request('GET', '/api/v1/experiments/old-exp', admin);
      expect(exp.body.data.attributes.environment).toBe('production');
      expect((await t.request('GET', '/api/v1/experiments/old-exp?environment=development', admin)).status).toBe(404);
      const results = await t.request('GET', '/api/v1/experiments/old-exp/results', admin);
      expect(results.body.data.variants.map((v: any) => v.units)).toEqual([2, 2]);

      // The next change continues production's sequence.
      expect((await t.request('PATCH', '/api/v1/feature-flags/old-flag', { ...admin, body: { enabled: false } })).status).toBe(200);
      expect((await t.request('GET', '/sdk/v1/config', { apiKey: old.secret })).body.version).toBe(4);
    } finally {
      await t.stop();
      cleanup();
    }
  });
});
