import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SwitchyardClient } from '../src/index';
import { booleanFlag, startTestServer, type TestServer } from '@switchyard/test-support/server';
import { until } from '@switchyard/test-support/wait';

/** A webhook delivery as a real receiver on loopback got it, with its signature checked by `standardwebhooks`. */
interface Delivery {
  id: string;
  verified: boolean;
  body: { type: string; data: Record<string, any> };
}

async function startReceiver(): Promise<{ url: string; received: Delivery[]; secret: string; close(): Promise<void> }> {
  const received: Delivery[] = [];
  const r = { url: '', received, secret: '', close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      let verified: boolean;
      try {
        new Webhook(r.secret).verify(raw, headers);
        verified = true;
      } catch {
        verified = false;
      }
      received.push({ id: headers['webhook-id'], verified, body: JSON.parse(raw) as Delivery['body'] });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}

const USERS = 400;
const users = Array.from({ length: USERS }, (_, i) => ({ key: `user-${i}` }));

// Guarded rollouts through a real server, the Node SDK over SSE and HTTP, and a real webhook
// receiver. The monitor's passes are driven by the test (its interval is an hour) so that "within
// a few passes" is counted, not timed.
describe('guarded rollouts through a real server and the Node SDK', () => {
  let t: TestServer;
  let client: SwitchyardClient;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestServer({ rolloutIntervalMs: 3_600_000, webhookAllowPrivate: true, webhookPollMs: 50 });
    const hook = await t.api('POST', '/api/v1/webhooks', {
      url: receiver.url,
      events: [
        'rollout.started',
        'rollout.stage_changed',
        'rollout.rolled_back',
        'rollout.completed',
        'rollout.paused',
        'rollout.stopped',
        'flag.updated',
      ],
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    receiver.secret = hook.body.data.attributes.secret;
    client = createClient({ sdkKey: t.serverKey, baseUrl: t.url, events: { flushIntervalMs: 50, batchSize: 500 } });
    await client.ready({ timeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await t?.cleanup();
    await receiver?.close();
  });

  /** Waits until the client holds every config change made so far. */
  async function synced(): Promise<void> {
    const published = await t.api('GET', '/sdk/v1/config', undefined, { apiKey: t.serverKey });
    await until(() => (client.configVersion ?? 0) >= published.body.version, 10_000, 'the client to catch up');
  }

  /** Waits until every event the client queued reached the server. */
  async function delivered(): Promise<void> {
    await client.flush();
    await until(() => client.stats().events.queued === 0, 10_000, 'events delivered');
  }

  const rollout = async (flag: string, id: string) =>
    (await t.api('GET', `/api/v1/feature-flags/${flag}/environments/production/rollouts/${id}`)).body.data;

  async function start(flag: string, body: Record<string, unknown>): Promise<string> {
    expect((await t.api('POST', '/api/v1/feature-flags', booleanFlag(flag, { default_serve: { variant: 'off' } }))).status).toBe(201);
    const r = await t.api('POST', `/api/v1/feature-flags/${flag}/environments/production/rollouts`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.data.attributes).toMatchObject({ status: 'running', stage: 1, variant: 'on', control: 'off' });
    await synced();
    return r.body.data.id as string;
  }

  it('ships a healthy rollout through its stages; a unit in the new arm stays in it as the share grows', async () => {
    const id = await start('healthy-checkout', {
      variant: 'on',
      stages: [{ percent: 10 }, { percent: 50 }, { percent: 100 }],
      guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.2 }],
    });
    const onSince = new Map<string, number>();
    const sharesSeen: number[] = [];
    for (let pass = 0; pass < 10; pass++) {
      const now = await rollout('healthy-checkout', id);
      if (now.attributes.status !== 'running') break;
      sharesSeen.push(now.attributes.share);
      let on = 0;
      for (const u of users) {
        const d = client.detail('healthy-checkout', u, false);
        expect(d).toMatchObject({ reason: 'SPLIT', inExperiment: true, experiment: now.attributes.experiment });
        if (d.value) {
          on++;
          onSince.set(u.key, onSince.get(u.key) ?? pass);
        } else {
          // Monotonic: nobody who had the new variant loses it as the share grows.
          expect(onSince.has(u.key), `${u.key} left the new arm at ${now.attributes.share} %`).toBe(false);
        }
      }
      // The share served is the stage's, within binomial bounds (5 sd).
      const p = now.attributes.share / 100;
      const sd = Math.sqrt(USERS * p * (1 - p));
      expect(on).toBeGreaterThanOrEqual(USERS * p - 5 * sd);
      expect(on).toBeLessThanOrEqual(USERS * p + 5 * sd);
      await delivered();
      const outcome = (await t.server.jobs.rollouts.check()).get(id);
      expect(outcome, JSON.stringify(await rollout('healthy-checkout', id))).toBe(now.attributes.stage === 3 ? 'completed' : 'advanced');
      await synced();
    }
    expect(sharesSeen).toEqual([10, 50, 100]);
    const done = await rollout('healthy-checkout', id);
    expect(done.attributes.status).toBe('completed');
    expect(done.attributes.history.map((h: { action: string }) => h.action)).toEqual(['started', 'advanced', 'advanced', 'completed']);
    expect(done.attributes.units.variant).toBeGreaterThan(0);
    // A unit moved to the new arm as the share grew is exposed again under the new variant, so
    // the results see it in both arms and leave it out of the comparison (counted as excluded).
    const moved = [...onSince.values()].filter((pass) => pass > 0).length;
    expect(moved).toBeGreaterThan(0);
    expect(done.attributes.units.excluded).toBe(moved);
    expect(done.attributes.units.variant + done.attributes.units.control + moved).toBe(USERS);
    // At 100 % every unit is in the new arm: no control unit is left, so there is nothing to
    // judge now (the earlier stages were the evidence it shipped on), and the verdict says so.
    expect(done.attributes.units.control).toBe(0);
    expect(done.attributes.guardrail_checks[0]).toMatchObject({
      metric: 'errors',
      verdict: 'insufficient_data',
      reason: 'the control arm has no units',
    });
    expect(done.attributes.history.find((h: { action: string }) => h.action === 'advanced').checks[0].verdict).toBe('ok');
    // Shipped: the flag serves the new variant to everyone, outside any experiment.
    expect(client.detail('healthy-checkout', { key: 'someone-new' }, false)).toEqual({ value: true, variant: 'on', reason: 'DEFAULT' });
    const flag = await t.api('GET', '/api/v1/feature-flags/healthy-checkout');
    expect(flag.body.data.attributes.default_serve).toEqual({ variant: 'on' });
    const experiment = await t.api('GET', `/api/v1/experiments/${done.attributes.experiment}`);
    expect(experiment.body.data.attributes.status).toBe('COMPLETED');
    const audit = await t.api('GET', `/api/v1/audit-log?resource_id=${id}`);
    expect(audit.body.data.map((a: { attributes: { action: string } }) => a.attributes.action).sort()).toEqual([
      'rollout.advance',
      'rollout.advance',
      'rollout.complete',
      'rollout.create',
    ]);
    await until(
      () => receiver.received.filter((d) => d.body.data.rollout === id).length === 4,
      10_000,
      'four rollout webhooks for the healthy rollout',
    );
    const mine = receiver.received.filter((d) => d.body.data.rollout === id);
    expect(mine.every((d) => d.verified)).toBe(true);
    expect(mine.map((d) => d.body.type)).toEqual([
      'rollout.started',
      'rollout.stage_changed',
      'rollout.stage_changed',
      'rollout.completed',
    ]);
  });

  it('rolls back a rollout whose new arm emits errors within a few passes, and a webhook reports it', async () => {
    const id = await start('risky-checkout', {
      variant: 'on',
      stages: [{ percent: 50, hold_minutes: 60 }, { percent: 100 }],
      guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.1 }],
    });
    let passes = 0;
    let outcome: string | undefined;
    for (let round = 0; round < 5 && outcome !== 'rolled_back'; round++) {
      // Each round, 80 new users arrive; the new variant fails for a third of its users, control for 2 %.
      for (let i = 0; i < 80; i++) {
        const u = { key: `risky-${round}-${i}` };
        const on = client.boolean('risky-checkout', u, false);
        if (on ? i % 3 === 0 : i % 50 === 0) client.track('errors', u);
      }
      await delivered();
      passes++;
      outcome = (await t.server.jobs.rollouts.check()).get(id);
    }
    expect(outcome).toBe('rolled_back');
    expect(passes).toBeLessThanOrEqual(3);
    const r = await rollout('risky-checkout', id);
    expect(r.attributes.status).toBe('rolled_back');
    const breach = r.attributes.guardrail_checks[0];
    expect(breach).toMatchObject({ metric: 'errors', verdict: 'breach' });
    expect(breach.variant_mean).toBeGreaterThan(breach.control_mean);
    expect(breach.estimate).toBeGreaterThan(0.1);
    expect(breach.rule).not.toBeNull();
    // Everyone gets the control again, through the SDK.
    await synced();
    for (const u of users.slice(0, 50))
      expect(client.detail('risky-checkout', u, true)).toEqual({ value: false, variant: 'off', reason: 'DEFAULT' });
    const audit = await t.api('GET', `/api/v1/audit-log?resource_id=${id}&action=rollout.rollback`);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0].attributes.actor.type).toBe('system');
    await until(
      () => receiver.received.some((d) => d.body.type === 'rollout.rolled_back' && d.body.data.rollout === id),
      10_000,
      'the rollback webhook',
    );
    const hook = receiver.received.find((d) => d.body.type === 'rollout.rolled_back' && d.body.data.rollout === id)!;
    expect(hook.verified).toBe(true);
    expect(hook.body.data).toMatchObject({ environment: 'production', flag: 'risky-checkout', variant: 'on', control: 'off', percent: 50 });
    expect(hook.body.data.reason).toContain('errors');
    // Subscribers to flag changes hear of it too: the flag serves the control again.
    await until(
      () => receiver.received.some((d) => d.body.type === 'flag.updated' && d.body.data.action === 'rollout.rollback'),
      10_000,
      'the flag.updated webhook of the rollback',
    );
    const flagHook = receiver.received.find((d) => d.body.type === 'flag.updated' && d.body.data.action === 'rollout.rollback')!;
    expect(flagHook.verified).toBe(true);
    // The same shape as a person's edit of the flag, by the system.
    expect(flagHook.body.data).toMatchObject({
      key: 'risky-checkout',
      environment: 'production',
      environments: ['production'],
      actor: { type: 'system', id: null, label: 'system' },
      flag: { default_serve: { variant: 'off' } },
      previous: { default_serve: { experiment: r.attributes.experiment } },
    });
  });

  it('pauses instead when on_regression is pause, keeping the share; stop then serves the control', async () => {
    const id = await start('paused-checkout', {
      variant: 'on',
      stages: [{ percent: 50, hold_minutes: 60 }, { percent: 100 }],
      guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.1 }],
      on_regression: 'pause',
    });
    let outcome: string | undefined;
    for (let round = 0; round < 5 && outcome !== 'paused'; round++) {
      for (let i = 0; i < 80; i++) {
        const u = { key: `paused-${round}-${i}` };
        if (client.boolean('paused-checkout', u, false)) client.track('errors', u);
      }
      await delivered();
      outcome = (await t.server.jobs.rollouts.check()).get(id);
    }
    expect(outcome).toBe('paused');
    const paused = await rollout('paused-checkout', id);
    expect(paused.attributes).toMatchObject({ status: 'paused', share: 50, stage: 1 });
    // Paused: the monitor leaves it alone, and the flag still serves the split.
    expect((await t.server.jobs.rollouts.check()).has(id)).toBe(false);
    expect(client.detail('paused-checkout', { key: 'someone' }, false).reason).toBe('SPLIT');
    const stale = await fetch(`${t.url}/api/v1/feature-flags/paused-checkout/environments/production/rollouts/${id}/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'if-match': `"${paused.attributes.version - 1}"` },
    });
    expect(stale.status).toBe(412);
    const stopped = await fetch(`${t.url}/api/v1/feature-flags/paused-checkout/environments/production/rollouts/${id}/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'if-match': `"${paused.attributes.version}"` },
    });
    expect(stopped.status).toBe(200);
    expect(stopped.headers.get('etag')).toBe(`"${paused.attributes.version + 1}"`);
    expect((await stopped.json()).data.attributes.status).toBe('stopped');
    await synced();
    expect(client.detail('paused-checkout', { key: 'someone' }, true)).toEqual({ value: false, variant: 'off', reason: 'DEFAULT' });
    const again = await t.api('POST', `/api/v1/feature-flags/paused-checkout/environments/production/rollouts/${id}/stop`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INVALID_STATE_TRANSITION');
  });

  it('resumes the stored stage after the server restarts; the SDK reconnects and units keep their arm', async () => {
    const id = await start('restarted-checkout', {
      variant: 'on',
      stages: [{ percent: 30 }, { percent: 60, hold_minutes: 60 }, { percent: 100 }],
      guardrails: [{ metric: 'errors', type: 'conversion', max_relative_increase: 0.2 }],
    });
    for (const u of users) client.boolean('restarted-checkout', u, false);
    await delivered();
    expect((await t.server.jobs.rollouts.check()).get(id)).toBe('advanced');
    await synced();
    const onAt60 = new Set(users.filter((u) => client.boolean('restarted-checkout', u, false)).map((u) => u.key));
    const before = (await rollout('restarted-checkout', id)).attributes;
    await t.restart();
    const after = (await rollout('restarted-checkout', id)).attributes;
    expect(after).toMatchObject({ status: 'running', stage: 2, share: 60, stage_started_at: before.stage_started_at });
    // The second stage's hour has not passed: the restarted monitor holds it.
    expect((await t.server.jobs.rollouts.check()).get(id)).toBe('held');
    for (const u of users) expect(client.boolean('restarted-checkout', u, false), u.key).toBe(onAt60.has(u.key));
    // The client follows the restarted server: a stop made there reaches it.
    const stop = await t.api('POST', `/api/v1/feature-flags/restarted-checkout/environments/production/rollouts/${id}/stop`);
    expect(stop.status).toBe(200);
    await until(() => client.detail('restarted-checkout', users[0]!, true).reason === 'DEFAULT', 15_000, 'the stop to reach the client');
    expect(users.every((u) => !client.boolean('restarted-checkout', u, true))).toBe(true);
  });
});
