import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runRetention } from '../src/services/jobs/retention';
import { counterValue } from './cluster-support';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

const DAY = 86_400_000;
const CHUNK = 500;
const METRICS = [{ key: 'purchase', type: 'mean' as const }];

/** `n` events of experiment key `key` at `ts` onwards: an exposure and a purchase per unit. */
function events(prefix: string, n: number, ts: number, key = 'ret-exp'): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; out.length < n; i++) {
    const unit = `${prefix}-${i}`;
    const variant = i % 2 === 0 ? 'control' : 'treatment';
    out.push({ id: randomUUID(), type: 'exposure', key, experiment: key, variant, unit_id: unit, timestamp: ts + i });
    if (out.length < n)
      out.push({ id: randomUUID(), type: 'track', key: 'purchase', unit_id: unit, value: 1 + (i % 7), timestamp: ts + i + 1 });
  }
  return out;
}

async function send(t: TestServer, list: unknown[]): Promise<void> {
  for (let i = 0; i < list.length; i += 1000) {
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: list.slice(i, i + 1000) } });
    expect(r.status).toBe(202);
  }
}

const deletedTotal = async (t: TestServer) => {
  const text = (await t.request('GET', '/metrics')).body as string;
  const line = text.split('\n').find((l) => l.startsWith('switchyard_retention_deleted_total '));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe.each(['sqlite', 'postgres'] as const)('retention on %s', (kind) => {
  let pg: TestPostgres | undefined;
  let t: TestServer;

  beforeAll(async () => {
    if (kind === 'postgres') pg = await startPostgres();
    t = await startTestServer({
      retentionChunk: CHUNK,
      ...(pg !== undefined ? { databaseUrl: await pg.createDatabase() } : {}),
    });
    // The pass the job makes on becoming the leader has run (on an empty table) before the tests add events.
    await vi.waitFor(
      async () => {
        const text = (await t.request('GET', '/metrics')).body as string;
        expect(counterValue(text, 'switchyard_job_runs_total', { job: 'retention', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      },
      { timeout: 30_000, interval: 50 },
    );
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await pg?.stop();
  });

  it('deletes a large backlog in bounded chunks while event batches keep being accepted; nothing newer goes, results stay', async () => {
    const OLD = 30_000;
    const FRESH = 2_000;
    const now = Date.now();
    await send(t, events('old', OLD, now - 120 * DAY));
    // Newer than the 90-day cutoff, some just inside it.
    await send(t, [...events('fresh', FRESH / 2, now - 89 * DAY), ...events('recent', FRESH / 2, now - 1000)]);
    const before = await t.server.ctx.store.experimentAggregates('production', 'ret-exp', METRICS);
    expect(before.units).toEqual({ control: (OLD + FRESH) / 4, treatment: (OLD + FRESH) / 4 });
    const countBefore = await t.server.ctx.store.countEvents();
    const metricBefore = await deletedTotal(t);

    // Batches sent one after another from the first chunk on; each must be acknowledged before the
    // pass ends (a pass that held the table or the writer for its whole length would ack them after).
    const sizes: number[] = [];
    let ingest: Promise<number[]> | null = null;
    const duringPass = async () => {
      const acked: number[] = [];
      for (let b = 0; b < 3; b++) {
        const r = await t.request('POST', '/sdk/v1/events', {
          apiKey: t.serverKey,
          body: { events: events(`during-${b}`, 100, Date.now(), 'other-exp') },
        });
        expect(r.status).toBe(202);
        acked.push(sizes.length);
      }
      return acked;
    };
    const outcome = await runRetention(t.server.ctx, {
      onChunk: (n) => {
        sizes.push(n);
        if (sizes.length === 1) ingest = duringPass();
      },
    });
    const ackedAtChunk = await ingest!;

    expect(outcome).toEqual({ deleted: OLD, chunks: sizes.length, stopped: false });
    expect(sizes.length).toBeGreaterThanOrEqual(OLD / CHUNK);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(CHUNK);
    // Every batch sent during the pass was acknowledged while chunks were still to come.
    expect(ackedAtChunk).toHaveLength(3);
    for (const at of ackedAtChunk) expect(at).toBeLessThan(sizes.length);

    expect(await t.server.ctx.store.countEvents()).toBe(countBefore - OLD + 300);
    expect(await t.server.ctx.store.experimentAggregates('production', 'ret-exp', METRICS)).toEqual(before);
    expect((await deletedTotal(t)) - metricBefore).toBe(OLD);
    // Nothing older is left: another pass finds nothing.
    expect((await runRetention(t.server.ctx)).deleted).toBe(0);
  }, 180_000);

  it('stops a pass between two chunks when asked (server closing); the next pass deletes the rest', async () => {
    const OLD = 5_000;
    await send(t, events('stop', OLD, Date.now() - 100 * DAY, 'stop-exp'));
    const countBefore = await t.server.ctx.store.countEvents();
    const stopping = new AbortController();
    let chunks = 0;
    const first = await runRetention(t.server.ctx, {
      signal: stopping.signal,
      onChunk: () => {
        if (++chunks === 3) stopping.abort();
      },
    });
    expect(first.stopped).toBe(true);
    expect(first.chunks).toBe(3);
    expect(first.deleted).toBeLessThan(OLD);
    expect(await t.server.ctx.store.countEvents()).toBe(countBefore - first.deleted);
    const second = await runRetention(t.server.ctx);
    expect(second.stopped).toBe(false);
    expect(first.deleted + second.deleted).toBe(OLD);
    expect(await t.server.ctx.store.countEvents()).toBe(countBefore - OLD);
  }, 120_000);
});
