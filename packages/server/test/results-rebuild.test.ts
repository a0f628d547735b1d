import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assignedVariant } from './assignment';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';
import { expectError } from './support';

/**
 * `POST /api/v1/experiments/{key}/results/rebuild` on both stores: after the results' summaries
 * were tampered with (units deleted, a sum overwritten) and an out-of-bounds value slipped into
 * the events (as before values were bounded), the rebuild restores exactly the results the
 * events support, skips the poisoned value, and is audited; only an ADMIN may run it.
 */

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

type Ev = Record<string, unknown>;

describe.each(['sqlite', 'postgres'] as const)('rebuilding results from events: %s', (kind) => {
  let t: TestServer;
  let databaseUrl = '';
  const admin = () => ({ token: t.adminToken });

  /** Runs SQL straight on the database, behind the server's back (`?` placeholders). */
  const sql = async (query: string, params: unknown[] = []): Promise<void> => {
    if (kind === 'sqlite') {
      const db = new Database(t.dbPath);
      try {
        db.prepare(query).run(...params);
      } finally {
        db.close();
      }
      return;
    }
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      let n = 0;
      await c.query(
        query.replace(/\?/g, () => `$${++n}`),
        params,
      );
    } finally {
      await c.end();
    }
  };

  const results = async (key: string) => {
    const r = await t.request('GET', `/api/v1/experiments/${key}/results`, admin());
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const { computed_at: _c, ...rest } = r.body.data;
    return rest;
  };

  beforeEach(async () => {
    if (kind === 'postgres') databaseUrl = await postgres.createDatabase();
    t = await startTestServer({ apiRateBurst: 1e9, apiRatePerSecond: 1e9, ...(kind === 'postgres' ? { databaseUrl } : {}) });
  });
  afterEach(async () => {
    await t.stop();
  });

  it('restores tampered and poisoned summaries from the events; ADMIN only; audited', async () => {
    const created = await t.request('POST', '/api/v1/experiments', {
      ...admin(),
      body: {
        key: 'checkout',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ],
        metrics: [
          { key: 'purchase', type: 'conversion' },
          { key: 'revenue', type: 'mean' },
        ],
        primary_metric: 'purchase',
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await t.request('POST', '/api/v1/experiments/checkout/start', admin());
    const at = Date.parse(started.body.data.attributes.started_at as string) + 1000;
    const events: Ev[] = [];
    for (let i = 0; i < 300; i++) {
      const unit = `u-${i}`;
      events.push({
        id: randomUUID(),
        type: 'exposure',
        key: 'checkout',
        experiment: 'checkout',
        variant: assignedVariant('checkout', unit),
        unit_id: unit,
        timestamp: at + i,
      });
      if (i % 3 === 0) {
        events.push({ id: randomUUID(), type: 'track', key: 'purchase', unit_id: unit, timestamp: at + i + 10 });
        events.push({ id: randomUUID(), type: 'track', key: 'revenue', unit_id: unit, value: 10 + (i % 7), timestamp: at + i + 10 });
      }
    }
    const sent = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    const honest = await results('checkout');
    expect(honest.variants.reduce((n: number, v: { units: number }) => n + v.units, 0)).toBe(300);

    // Tampering: units gone, 500 units invented, a sum replaced, and a value of 1e160 stored as if before the bound.
    const runId = created.body.data.id as string;
    // SQLite keys the summaries' units by number (migration 14), PostgreSQL by id.
    const unitIs = kind === 'sqlite' ? 'unit_no IN (SELECT no FROM units WHERE unit_id LIKE ?)' : 'unit_id LIKE ?';
    await sql(`DELETE FROM experiment_units WHERE experiment = ? AND ${unitIs}`, [runId, 'production:u-1%']);
    await sql("UPDATE experiment_unit_counts SET units = units + 500 WHERE experiment = ? AND variant = 'control'", [runId]);
    await sql(`UPDATE unit_metrics SET value = 1e160 WHERE experiment = ? AND metric = 'revenue' AND ${unitIs}`, [runId, 'production:u-0']);
    await sql(
      'INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment, sent_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [randomUUID(), 'track', 'revenue', 'u-3', null, null, 1e160, null, at + 500, at + 500, 'production', null],
    );
    // Any new batch makes the results be read from the summaries again (they are cached until then).
    const nudge = { id: randomUUID(), type: 'track', key: 'unrelated', unit_id: 'nobody', timestamp: at };
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: [nudge] } })).status).toBe(202);
    const tampered = await results('checkout');
    expect(tampered).not.toEqual(honest);
    expect(tampered.metrics.revenue.computable).toBe(false);

    // Only an ADMIN rebuilds.
    const viewer = await t.user('VIEWER');
    expectError(await t.request('POST', '/api/v1/experiments/checkout/results/rebuild', { token: viewer.token }), 'PERMISSION_DENIED');
    const experimenter = await t.user('EXPERIMENTER');
    expectError(
      await t.request('POST', '/api/v1/experiments/checkout/results/rebuild', { token: experimenter.token }),
      'PERMISSION_DENIED',
    );

    const rebuilt = await t.request('POST', '/api/v1/experiments/checkout/results/rebuild', admin());
    expect(rebuilt.status, JSON.stringify(rebuilt.body)).toBe(200);
    expect(rebuilt.body.data).toMatchObject({ experiment: 'checkout', exposures_read: 300, units: 300, skipped_values: 1 });
    expect(rebuilt.body.data.units_after).toEqual(
      Object.fromEntries(honest.variants.map((v: { key: string; units: number }) => [v.key, v.units])),
    );
    expect(await results('checkout')).toEqual(honest);

    const audit = await t.request('GET', '/api/v1/audit-log?action=experiment.results_rebuilt', admin());
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0].attributes.resource).toMatchObject({ type: 'experiment', id: runId, key: 'checkout' });
    expect(audit.body.data[0].attributes.after.skipped_values).toBe(1);

    // A rebuild changes nothing when nothing was wrong, and an unknown experiment is a 404.
    const again = await t.request('POST', '/api/v1/experiments/checkout/results/rebuild', admin());
    expect(again.body.data.units_before).toEqual(again.body.data.units_after);
    expect(await results('checkout')).toEqual(honest);
    expectError(await t.request('POST', '/api/v1/experiments/nope/results/rebuild', admin()), 'RESOURCE_NOT_FOUND');
  });
});
