import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runRetention } from '../src/services/jobs/retention';
import { startTestServer, type TestServer } from './helpers';

const track = (overrides: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  type: 'track',
  key: 'purchase',
  unit_id: 'u1',
  value: 12.5,
  timestamp: new Date().toISOString(),
  ...overrides,
});

describe('event ingestion', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('acknowledges with 202 and counts a resent id once', async () => {
    const events = [
      track(),
      track({ type: 'exposure', key: 'exp', experiment: 'exp', variant: 'control', value: undefined }),
      track({ timestamp: Date.now() }),
    ];
    const before = await t.server.ctx.store.countEvents();
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ data: { accepted: 3, duplicates: 0 } });
    const again = await t.request('POST', '/sdk/v1/events', { apiKey: t.clientKey, body: { events: [...events, track()] } });
    expect(again.body).toEqual({ data: { accepted: 1, duplicates: 3 } });
    const sameBatch = track();
    const dup = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: [sameBatch, sameBatch] } });
    expect(dup.body.data).toEqual({ accepted: 1, duplicates: 1 });
    expect(await t.server.ctx.store.countEvents()).toBe(before + 5);
  });

  it('rejects a batch with invalid events whole, naming the index and reason of each', async () => {
    const before = await t.server.ctx.store.countEvents();
    const events = [
      track(),
      track({ type: 'click' }),
      track(),
      track({ timestamp: 'yesterday', unit_id: '' }),
      track({ type: 'exposure', variant: undefined }),
    ];
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_ERROR');
    const details = r.body.error.details as { index: number; message: string }[];
    expect(details.map((d) => d.index)).toEqual([1, 3, 4]);
    expect(details[0]!.message).toContain('type');
    expect(details[1]!.message).toContain('timestamp');
    expect(details[1]!.message).toContain('unit_id');
    expect(details[2]!.message).toContain('variant');
    expect(await t.server.ctx.store.countEvents()).toBe(before);
  });

  it("rejects U+0000 and unpaired surrogates in an event's strings (no store can hold them as given), naming the index", async () => {
    const before = await t.server.ctx.store.countEvents();
    const events = [
      track(),
      track({ unit_id: 'u\u0000x' }),
      track({ key: 'pur\u0000chase' }),
      track({ id: `${randomUUID()}\ud800` }),
      track({ type: 'exposure', key: 'exp', experiment: 'exp', variant: 'b\udc00', value: undefined }),
      track({ unit_id: 'emoji-\ud83d\ude00-ok', properties: { note: 'a\u0000b' } }),
    ];
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events } });
    expect(r.status).toBe(400);
    const details = r.body.error.details as { index: number; message: string }[];
    expect(details.map((d) => d.index)).toEqual([1, 2, 3, 4]);
    expect(details.map((d) => d.message.split(' ')[0])).toEqual(['unit_id', 'key', 'id', 'variant']);
    for (const d of details) expect(d.message).toContain('U+0000 or an unpaired surrogate');
    expect(await t.server.ctx.store.countEvents()).toBe(before);
    // What the SDKs then resend (the rejected indexes dropped) is stored; a surrogate pair and a NUL inside properties (JSON text) are fine.
    const rest = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: [events[0], events[5]] } });
    expect(rest.body).toEqual({ data: { accepted: 2, duplicates: 0 } });
  });

  it('rejects malformed JSON, a missing events array, over 1,000 events and over 1 MiB', async () => {
    const malformed = await t.request('POST', '/sdk/v1/events', {
      apiKey: t.serverKey,
      raw: '{"events": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect((await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { nope: [] } })).status).toBe(400);
    const many = await t.request('POST', '/sdk/v1/events', {
      apiKey: t.serverKey,
      body: { events: Array.from({ length: 1001 }, () => track()) },
    });
    expect(many.status).toBe(413);
    expect(many.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    // connection: close, because the server answers 413 without reading the rest of the body.
    const big = await t.request('POST', '/sdk/v1/events', {
      apiKey: t.serverKey,
      headers: { connection: 'close' },
      body: { events: [track({ properties: { blob: 'x'.repeat(1024 * 1024 + 10) } })] },
    });
    expect(big.status).toBe(413);
  });

  it('takes /api/v1/events/batch from server keys and EXPERIMENTER or ADMIN users only', async () => {
    expect((await t.request('POST', '/api/v1/events/batch', { apiKey: t.serverKey, body: { events: [track()] } })).status).toBe(202);
    expect((await t.request('POST', '/api/v1/events/batch', { token: t.adminToken, body: { events: [track()] } })).status).toBe(202);
    const viewer = await t.user('VIEWER');
    expect((await t.request('POST', '/api/v1/events/batch', { token: viewer.token, body: { events: [track()] } })).status).toBe(403);
    expect((await t.request('POST', '/api/v1/events/batch', { apiKey: t.clientKey, body: { events: [track()] } })).status).toBe(403);
    expect((await t.request('POST', '/sdk/v1/events', { body: { events: [track()] } })).status).toBe(401);
  });

  it('deletes events older than the retention window', async () => {
    const old = track({ timestamp: Date.now() - 91 * 24 * 3600 * 1000 });
    const fresh = track({ timestamp: Date.now() - 89 * 24 * 3600 * 1000 });
    await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, body: { events: [old, fresh] } });
    const { deleted } = await runRetention(t.server.ctx);
    expect(deleted).toBe(1);
    const db = new Database(t.dbPath, { readonly: true });
    const ids = (db.prepare('SELECT id FROM events WHERE id IN (?, ?)').all(old.id, fresh.id) as { id: string }[]).map((r) => r.id);
    db.close();
    expect(ids).toEqual([fresh.id]);
  });
});

describe('durability', () => {
  it('loses no acknowledged event when the server is killed with SIGKILL mid-ingest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-kill-'));
    const dbPath = join(dir, 'kill.db');
    const child = spawn(process.execPath, [join(__dirname, 'fixtures/child-server.mjs'), dbPath, '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const info = await new Promise<{ url: string; serverKey: string }>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const line = buf.split('\n')[0];
        if (buf.includes('\n') && line) resolve(JSON.parse(line));
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const acked = new Set<string>();
    let failures = 0;
    const sender = async () => {
      for (;;) {
        const events = Array.from({ length: 200 }, () => track());
        try {
          const res = await fetch(`${info.url}/sdk/v1/events`, {
            method: 'POST',
            headers: { 'x-api-key': info.serverKey, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          if (res.status === 202) for (const e of events) acked.add(e.id);
        } catch {
          failures++;
          return;
        }
      }
    };
    const senders = Array.from({ length: 6 }, () => sender());
    // Killed mid-stream once enough is acknowledged, whatever the machine's speed.
    await vi.waitFor(() => expect(acked.size).toBeGreaterThan(1000), { timeout: 60_000, interval: 20 });
    child.kill('SIGKILL');
    await Promise.all(senders);
    expect(failures).toBeGreaterThan(0);
    const t = await startTestServer({ dbPath, dir });
    try {
      const db = new Database(dbPath, { readonly: true });
      const stored = new Set((db.prepare('SELECT id FROM events').all() as { id: string }[]).map((r) => r.id));
      db.close();
      const lost = [...acked].filter((id) => !stored.has(id));
      expect(lost).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acked.size);
    } finally {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
