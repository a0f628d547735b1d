import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';
import { expectError } from './support';
import { assignedVariant, otherArm } from './assignment';

/**
 * Results bounded by the experiment's run, over real HTTP on SQLite and PostgreSQL: the
 * exposure window, exclusions by reason and sender, results frozen at completion, no deletion
 * of a live experiment, and a reused key starting empty.
 */

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

const DAY = 86_400_000;

const body = (key: string) => ({
  key,
  name: key,
  variants: [
    { key: 'control', weight: 50 },
    { key: 'treatment', weight: 50 },
  ],
  metrics: [
    { key: 'purchase', type: 'conversion' },
    { key: 'revenue', type: 'mean', cuped_window_days: 7 },
  ],
  primary_metric: 'purchase',
});

type Ev = Record<string, unknown>;
const exposure = (key: string, unit: string, variant: string, timestamp: number): Ev => ({
  id: randomUUID(),
  type: 'exposure',
  key,
  experiment: key,
  variant,
  unit_id: unit,
  timestamp,
});
const track = (key: string, unit: string, value: number, timestamp: number): Ev => ({
  id: randomUUID(),
  type: 'track',
  key,
  unit_id: unit,
  value,
  timestamp,
});

describe.each(['sqlite', 'postgres'] as const)('results bounded by the run: %s', (kind) => {
  let t: TestServer;
  let key: { id: string; secret: string };
  const admin = () => ({ token: t.adminToken });

  const send = async (events: Ev[]) => {
    for (let i = 0; i < events.length; i += 1000) {
      const r = await t.request('POST', '/sdk/v1/events', { apiKey: key.secret, body: { events: events.slice(i, i + 1000) } });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
    }
  };
  const results = async (exp: string, query = '') => {
    const r = await t.request('GET', `/api/v1/experiments/${exp}/results${query}`, admin());
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data;
  };
  const create = async (exp: string) => {
    const r = await t.request('POST', '/api/v1/experiments', { ...admin(), body: body(exp) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.data;
  };
  const act = async (exp: string, action: string) => {
    const r = await t.request('POST', `/api/v1/experiments/${exp}/${action}`, admin());
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.data;
  };
  /** Starts `exp` and returns its started_at in epoch ms. */
  const start = async (exp: string): Promise<number> => Date.parse((await act(exp, 'start')).attributes.started_at as string);
  /** `n` units alternating between the arms, exposed at `at + i`; every third buys (revenue 10 + i % 7). */
  const traffic = (exp: string, prefix: string, n: number, at: number): Ev[] => {
    const events: Ev[] = [];
    for (let i = 0; i < n; i++) {
      const unit = `${prefix}-${i}`;
      events.push(exposure(exp, unit, assignedVariant(exp, unit), at + i));
      // A pre-exposure value for CUPED's covariate.
      if (i % 2 === 0) events.push(track('revenue', unit, 5 + (i % 5), at + i - DAY));
      if (i % 3 === 0) events.push(track('purchase', unit, 1, at + i + 10), track('revenue', unit, 10 + (i % 7), at + i + 10));
    }
    return events;
  };
  const units = (data: { variants: { key: string; units: number }[] }) => Object.fromEntries(data.variants.map((v) => [v.key, v.units]));
  /** Units per arm among `<prefix>-<i>` for i < n (those `pick` keeps), as core assigns them. */
  const arms = (exp: string, prefix: string, n: number, pick = (_i: number) => true) => {
    const out: Record<string, number> = { control: 0, treatment: 0 };
    for (let i = 0; i < n; i++) if (pick(i)) out[assignedVariant(exp, `${prefix}-${i}`)]!++;
    return out;
  };
  /** A results payload without the time it was computed at. */
  const figures = (data: Record<string, unknown>) => {
    const { computed_at: _c, ...rest } = data;
    return rest;
  };

  beforeEach(async () => {
    t = await startTestServer({
      apiRateBurst: 1e9,
      apiRatePerSecond: 1e9,
      // The forge test isolates the assignment check; the per-key new-unit limit, which would
      // refuse half of its 2,000 units first, has its own tests (client-key-limits.test.ts).
      newUnitsPerMinute: 0,
      ...(kind === 'postgres' ? { databaseUrl: await postgres.createDatabase() } : {}),
    });
    const r = await t.request('POST', '/api/v1/api-keys', { ...admin(), body: { name: 'sdk', kind: 'server' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    key = { id: r.body.data.id as string, secret: r.body.data.attributes.key as string };
  });
  afterEach(async () => {
    await t.stop();
  });

  it('counts exposures from started_at on, and reports those before the start and of unknown variants by reason and sender', async () => {
    await create('window');
    const started = await start('window');
    await send([
      ...traffic('window', 'in', 40, started + 1000),
      // A client whose clock is a minute behind, or an exposure left over from before the start.
      ...Array.from({ length: 7 }, (_, i) => exposure('window', `early-${i}`, 'control', started - 60_000)),
      ...Array.from({ length: 3 }, (_, i) => exposure('window', `odd-${i}`, 'variant-c', started + 5)),
    ]);
    const data = await results('window');
    const inWindow = arms('window', 'in', 40);
    expect(inWindow.control! + inWindow.treatment!).toBe(40);
    expect(units(data)).toEqual(inWindow);
    expect(data.exclusions).toEqual({
      before_start: 7,
      after_completion: 0,
      unknown_variant: 3,
      multiple_variants: 0,
      assignment_mismatch: 0,
    });
    expect(data.exclusions_by_sender).toEqual([
      { reason: 'before_start', sent_by: `api_key:${key.id}`, events: 7 },
      { reason: 'unknown_variant', sent_by: `api_key:${key.id}`, events: 3 },
    ]);
    expect(data.frozen_at).toBeNull();
    const buyers = (d: typeof data) => d.metrics.purchase.variants.map((v: { count: number }) => v.count);
    // Units 0, 3, ..., 39 buy.
    const buying = arms('window', 'in', 40, (i) => i % 3 === 0);
    expect(buyers(data)).toEqual([buying.control, buying.treatment]);
    // The early units' purchases do not count either: they have no counted exposure.
    await send([track('purchase', 'early-0', 1, started + 10), track('purchase', 'odd-0', 1, started + 10)]);
    const after = await results('window');
    expect(buyers(after)).toEqual([buying.control, buying.treatment]);
    expect(units(after)).toEqual(inWindow);
  });

  it('COMPLETED freezes the results: the same request returns the same figures after late events', async () => {
    await create('frozen');
    const started = await start('frozen');
    await send(traffic('frozen', 'u', 300, started + 1000));
    const live = await results('frozen');
    // While it runs, new events do move the figures.
    const extraArm = assignedVariant('frozen', 'u-extra');
    await send([exposure('frozen', 'u-extra', extraArm, started + 2000), track('purchase', 'u-extra', 1, started + 2001)]);
    const moved = await results('frozen');
    const expected = arms('frozen', 'u', 300);
    expected[extraArm]!++;
    expect(units(moved)).toEqual(expected);
    expect(figures(moved)).not.toEqual(figures(live));

    const completed = await act('frozen', 'complete');
    const completedAt = Date.parse(completed.attributes.completed_at as string);
    const queries = ['', '?cuped=false', '?alpha=0.01&sequential=false'];
    const atCompletion: Record<string, Record<string, unknown>> = {};
    for (const query of queries) atCompletion[query] = await results('frozen', query);
    const csvAtCompletion = (await t.request('GET', '/api/v1/experiments/frozen/results?format=csv', admin())).body;
    expect(atCompletion['']!.frozen_at).toEqual(expect.any(String));
    expect(units(atCompletion[''] as never)).toEqual(expected);
    // CUPED had a covariate to adjust with: the frozen figures include it.
    expect((atCompletion['']!.metrics as any).revenue.cuped).toBeDefined();

    // Late events of every kind: exposures of new units stamped inside the run, purchases of
    // counted units, pre-exposure values (CUPED's covariate), exposures after the completion.
    await send([
      ...Array.from({ length: 50 }, (_, i) => exposure('frozen', `late-${i}`, 'treatment', completedAt - 100)),
      ...Array.from({ length: 50 }, (_, i) => track('purchase', `u-${i * 2 + 1}`, 1, completedAt - 50)),
      ...Array.from({ length: 50 }, (_, i) => track('revenue', `u-${i * 2 + 1}`, 1000, started)),
      ...Array.from({ length: 20 }, (_, i) => exposure('frozen', `after-${i}`, 'control', completedAt + 1000)),
    ]);
    for (const query of queries) expect(figures(await results('frozen', query))).toEqual(figures(atCompletion[query]!));
    expect((await t.request('GET', '/api/v1/experiments/frozen/results?format=csv', admin())).body).toEqual(csvAtCompletion);
    // Archiving keeps them.
    await act('frozen', 'archive');
    const archived = atCompletion['']!;
    expect(figures(await results('frozen'))).toEqual(
      figures({ ...archived, experiment: { ...(archived.experiment as object), status: 'ARCHIVED' } }),
    );
  });

  it('forged exposures (a variant the server does not assign the unit) are stored, excluded as assignment_mismatch, attributed to their key, and move neither results nor the safety monitor', async () => {
    const forger = await t.request('POST', '/api/v1/api-keys', { ...admin(), body: { name: 'public page', kind: 'client' } });
    expect(forger.status, JSON.stringify(forger.body)).toBe(201);
    const client = { id: forger.body.data.id as string, secret: forger.body.data.attributes.key as string };
    const r = await t.request('POST', '/api/v1/experiments', {
      ...admin(),
      body: { ...body('guarded'), guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }] },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const started = await start('guarded');
    // Honest traffic: the same error rate in both arms.
    await send(
      traffic('guarded', 'real', 400, started + 1000).concat(
        Array.from({ length: 400 }, (_, i) => track('errors', `real-${i}`, 1, started + 2000 + i)).filter((_, i) => i % 10 === 0),
      ),
    );
    const honest = await results('guarded');
    expect(honest.exclusions.assignment_mismatch).toBe(0);
    // 2,000 fabricated units, each claiming the arm the server does not assign it, every one
    // with an error in the treatment arm: counted, they would double the units and breach the guardrail.
    const forged: Ev[] = [];
    for (let i = 0; i < 2000; i++) {
      const unit = `forged-${i}`;
      const wrong = otherArm(assignedVariant('guarded', unit));
      forged.push(exposure('guarded', unit, wrong, started + 3000 + i));
      if (wrong === 'treatment') forged.push(track('errors', unit, 5, started + 4000 + i));
    }
    for (let i = 0; i < forged.length; i += 1000) {
      const sent = await t.request('POST', '/sdk/v1/events', { apiKey: client.secret, body: { events: forged.slice(i, i + 1000) } });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    }
    const after = await results('guarded');
    expect(figures({ ...after, exclusions: null, exclusions_by_sender: null })).toEqual(
      figures({ ...honest, exclusions: null, exclusions_by_sender: null }),
    );
    expect(after.exclusions.assignment_mismatch).toBe(2000);
    expect(after.exclusions_by_sender).toEqual([{ reason: 'assignment_mismatch', sent_by: `api_key:${client.id}`, events: 2000 }]);
    // Stored all the same (a 202 loses nothing), each with the key that sent it.
    expect(await t.server.ctx.store.countEvents()).toBeGreaterThanOrEqual(forged.length);
    expect(await t.server.jobs.safety.check()).toEqual([]);
    const exp = await t.request('GET', '/api/v1/experiments/guarded', admin());
    expect(exp.body.data.attributes.status).toBe('RUNNING');
  });

  it('a RUNNING or PAUSED experiment cannot be deleted (409); a completed one can', async () => {
    await create('live');
    await start('live');
    const running = await t.request('DELETE', '/api/v1/experiments/live', admin());
    expect(expectError(running, 'INVALID_STATE_TRANSITION').details).toMatchObject({ status: 'RUNNING', action: 'delete' });
    await act('live', 'pause');
    expectError(await t.request('DELETE', '/api/v1/experiments/live', admin()), 'INVALID_STATE_TRANSITION');
    // Nothing changed, nothing audited.
    const still = await t.request('GET', '/api/v1/experiments/live', admin());
    expect(still.body.data.attributes.status).toBe('PAUSED');
    const audit = await t.request('GET', '/api/v1/audit-log?action=experiment.delete', admin());
    expect(audit.body.data).toEqual([]);
    await act('live', 'complete');
    expect((await t.request('DELETE', '/api/v1/experiments/live', admin())).status).toBe(204);
    // A DRAFT is deleted as before.
    await create('draft');
    expect((await t.request('DELETE', '/api/v1/experiments/draft', admin())).status).toBe(204);
  });

  it("a new experiment reusing a deleted experiment's key starts with zero units; the old run's stragglers are excluded", async () => {
    await create('reused');
    const started = await start('reused');
    await send(traffic('reused', 'old', 600, started + 1000));
    expect(units(await results('reused'))).toEqual(arms('reused', 'old', 600));
    const oldEnd = Date.parse((await act('reused', 'complete')).attributes.completed_at as string);
    await act('reused', 'archive');
    // An archived experiment still holds its key.
    const taken = await t.request('POST', '/api/v1/experiments', { ...admin(), body: body('reused') });
    expectError(taken, 'CONFLICT');
    expect((await t.request('DELETE', '/api/v1/experiments/reused', admin())).status).toBe(204);

    await create('reused');
    const fresh = await results('reused');
    expect(units(fresh)).toEqual({ control: 0, treatment: 0 });
    expect(fresh.excluded_units).toBe(0);
    expect(fresh.metrics.purchase.variants.map((v: { count: number }) => v.count)).toEqual([0, 0]);
    const restarted = await start('reused');
    expect(units(await results('reused'))).toEqual({ control: 0, treatment: 0 });
    // The old run's SDKs still flushing: stamped before this run started, so left out of it.
    expect(restarted).toBeGreaterThanOrEqual(oldEnd);
    await send(traffic('reused', 'old', 100, oldEnd - 100));
    await send(traffic('reused', 'new', 10, restarted + 1000));
    const now = await results('reused');
    expect(units(now)).toEqual(arms('reused', 'new', 10));
    expect(now.exclusions.before_start).toBe(100);
  });
});

describe('--demo', () => {
  it('the seeded experiment started when its simulated week began: every seeded exposure counts', async () => {
    const t = await startTestServer({ demo: true });
    try {
      const r = await t.request('GET', '/api/v1/experiments/checkout-cta/results', { token: t.adminToken });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const units = r.body.data.variants.reduce((n: number, v: { units: number }) => n + v.units, 0);
      // 20,000 simulated users, all enrolled (no targeting, full traffic).
      expect(units).toBe(20_000);
      expect(Object.values(r.body.data.exclusions)).toEqual([0, 0, 0, 0, 0]);
    } finally {
      await t.stop();
    }
  });
});
