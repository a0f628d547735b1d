import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { commitMutation, SYSTEM_ORIGIN } from '../src/services/context';
import { startTestServer, type TestServer } from './helpers';

describe('request bodies', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('deeply nested condition is a 400, not a 500', async () => {
    const depth = 50_000;
    const raw = `{"key":"deep","type":"boolean","rules":[{"id":"r","serve":{"variant":"on"},"when":${'{"not":'.repeat(depth)}{"attr":"a","op":"exists","values":[]}${'}'.repeat(depth)}}]}`;
    const r = await t.request('POST', '/api/v1/feature-flags', {
      token: t.adminToken,
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
  });

  it('deeply nested context on /sdk/v1/evaluate is a 400, not a 500', async () => {
    const depth = 100_000;
    const raw = `{"context":{"key":"u","x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const r = await t.request('POST', '/sdk/v1/evaluate', { apiKey: t.clientKey, raw, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
  });

  it('deeply nested events batch is a 400, not a 500', async () => {
    const depth = 100_000;
    const raw = `{"events":[{"id":"e1","type":"track","key":"k","unit_id":"u","timestamp":1,"properties":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}]}`;
    const r = await t.request('POST', '/sdk/v1/events', { apiKey: t.serverKey, raw, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
  });

  it('deeply nested flag variant value is a 400, not a 500', async () => {
    const depth = 100_000;
    const raw = `{"key":"deepjson","type":"json","variants":[{"key":"a","value":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    const r = await t.request('POST', '/api/v1/feature-flags', {
      token: t.adminToken,
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
  });

  it('deeply nested ?context= on a client-key stream is a 400 before the stream opens, not an error inside a 200', async () => {
    // As deep as a URL within Node's 16 KiB header limit carries (base64url, as EventSource URLs do).
    const depth = 5_000;
    const context = Buffer.from(`{"key":"u","x":${'['.repeat(depth)}${']'.repeat(depth)}}`).toString('base64url');
    const r = await t.request('GET', `/sdk/v1/stream?context=${context}`, { apiKey: t.clientKey });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION_ERROR');
    expect(r.body.error.details[0].path).toBe('context');
  });

  it('deeply nested OFREP context is a 400, not a 500', async () => {
    const depth = 100_000;
    const raw = `{"context":{"targetingKey":"u","x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const r = await t.request('POST', '/ofrep/v1/evaluate/flags', {
      apiKey: t.clientKey,
      raw,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
  });
});

describe('SSE streams', () => {
  it('a stream whose response closed before it was attached is not kept', async () => {
    const t = await startTestServer();
    try {
      const hub = t.server.ctx.hub;
      // The client hung up while the request was authenticated: 'close' has already fired.
      const res = Object.assign(new EventEmitter(), {
        destroyed: true,
        writableEnded: false,
        writableLength: 0,
        socket: null,
        write: () => true,
        end: () => undefined,
        destroy: () => undefined,
      });
      hub.openConfigStream(res as unknown as ServerResponse, null);
      hub.openRemoteStream(res as unknown as ServerResponse, { key: 'u1' });
      expect(hub.size).toBe(0);
    } finally {
      await t.stop();
    }
  });
});

describe('scheduler', () => {
  it('a scheduled start that fails is not retried in a tight loop', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const lines: string[] = [];
    const logger = pino(
      { level: 'error' },
      {
        write: (s: string) => {
          lines.push(s);
        },
      },
    );
    const t = await startTestServer({ now: () => now, logger });
    try {
      const seg = await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'doomed-seg', included: ['u1'] } });
      expect(seg.status).toBe(201);
      const exp = await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: {
          key: 'doomed',
          variants: [
            { key: 'control', weight: 50 },
            { key: 'treatment', weight: 50 },
          ],
          targeting: { segment: 'doomed-seg' },
          schedule: { start_at: '2030-01-02T00:00:00Z' },
        },
      });
      expect(exp.status).toBe(201);
      // The segment goes behind the API's back (as in a database from before DRAFT references were checked).
      await commitMutation(t.server.ctx, SYSTEM_ORIGIN, {
        writes: [{ table: 'resources', action: 'delete', id: seg.body.data.id }],
        patches: { production: { segments: { 'doomed-seg': null } } },
        audit: {
          action: 'segment.delete',
          resourceType: 'segment',
          resourceId: seg.body.data.id,
          resourceKey: 'doomed-seg',
          before: null,
          after: null,
        },
      });
      now = Date.parse('2030-01-02T00:00:01Z');
      await t.server.jobs.scheduler.tick();
      await vi.waitFor(() => expect(lines.some((l) => l.includes('scheduled transition failed'))).toBe(true));
      // One tick, one attempt: the failure is not retried in a loop.
      expect(lines.filter((l) => l.includes('scheduled transition failed')).length).toBe(1);
      // Fixed by an edit, it is retried.
      expect((await t.request('PATCH', '/api/v1/experiments/doomed', { token: t.adminToken, body: { targeting: null } })).status).toBe(200);
      await t.server.jobs.scheduler.replan();
      await t.server.jobs.scheduler.tick();
      expect((await t.request('GET', '/api/v1/experiments/doomed', { token: t.adminToken })).body.data.attributes.status).toBe('RUNNING');
    } finally {
      await t.stop();
    }
  });
});

describe('references of DRAFT experiments', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });
  const draft = (key: string, segment: string) => ({
    key,
    variants: [
      { key: 'control', weight: 50 },
      { key: 'treatment', weight: 50 },
    ],
    targeting: { segment },
  });

  it('a segment a DRAFT experiment targets cannot be deleted (409), so the experiment can still start', async () => {
    expect(
      (await t.request('POST', '/api/v1/segments', { token: t.adminToken, body: { key: 'draft-seg', included: ['u1'] } })).status,
    ).toBe(201);
    expect((await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: draft('draft-exp', 'draft-seg') })).status).toBe(
      201,
    );
    const del = await t.request('DELETE', '/api/v1/segments/draft-seg', { token: t.adminToken });
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('CONFLICT');
    expect((await t.request('POST', '/api/v1/experiments/draft-exp/start', { token: t.adminToken })).status).toBe(200);
  });

  it('a DRAFT experiment targeting an unknown segment is a 400 on save', async () => {
    const r = await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: draft('draft-ghost', 'no-such-segment') });
    expect(r.status).toBe(400);
    expect(r.body.error.details[0].path).toBe('targeting');
  });
});

describe('review follow-ups', () => {
  it('does not open a scheduled window that closed while the server was down', async () => {
    let now = Date.parse('2031-01-01T00:00:00Z');
    const t = await startTestServer({ now: () => now });
    try {
      await t.request('POST', '/api/v1/experiments', {
        token: t.adminToken,
        body: {
          key: 'missed-window',
          variants: [
            { key: 'control', weight: 50 },
            { key: 'b', weight: 50 },
          ],
          schedule: { start_at: '2031-01-02T00:00:00Z', end_at: '2031-01-03T00:00:00Z' },
        },
      });
      now = Date.parse('2031-01-04T00:00:00Z');
      await t.server.jobs.scheduler.tick();
      const row = await t.request('GET', '/api/v1/experiments/missed-window', { token: t.adminToken });
      expect(row.body.data.attributes.status).toBe('DRAFT');
    } finally {
      await t.stop();
    }
  });

  it('lets a key capped below another key’s role not revoke it', async () => {
    const t = await startTestServer();
    try {
      const admin = await t.request('POST', '/api/v1/api-keys', {
        token: t.adminToken,
        body: { name: 'admin mgmt', kind: 'management', role: 'ADMIN' },
      });
      const viewerKey = await t.request('POST', '/api/v1/api-keys', {
        token: t.adminToken,
        body: { name: 'read only', kind: 'management', role: 'VIEWER' },
      });
      const r = await t.request('DELETE', `/api/v1/api-keys/${admin.body.data.id}`, { apiKey: viewerKey.body.data.attributes.key });
      expect(r.status).toBe(403);
      expect((await t.request('GET', '/api/v1/auth/me', { apiKey: admin.body.data.attributes.key })).status).toBe(200);
      expect((await t.request('DELETE', `/api/v1/api-keys/${admin.body.data.id}`, { token: t.adminToken })).status).toBe(204);
    } finally {
      await t.stop();
    }
  });

  it('answers a VIEWER editing a running experiment with 403, and keeps checking guardrails past a failing experiment', async () => {
    const t = await startTestServer();
    try {
      const body = (key: string) => ({
        key,
        variants: [
          { key: 'control', weight: 50 },
          { key: 'b', weight: 50 },
        ],
        guardrails: [{ metric: 'errors', max_relative_increase: 0.1 }],
      });
      await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: body('live-exp') });
      await t.request('POST', '/api/v1/experiments/live-exp/start', { token: t.adminToken });
      const viewer = await t.user('VIEWER');
      const r = await t.request('PATCH', '/api/v1/experiments/live-exp', {
        token: viewer.token,
        body: {
          variants: [
            { key: 'control', weight: 10 },
            { key: 'b', weight: 90 },
          ],
        },
      });
      expect(r.status).toBe(403);
      const results = (t.server.jobs.safety as unknown as { results: { sufficientStats: (...a: unknown[]) => Promise<unknown> } }).results;
      const original = results.sufficientStats.bind(results);
      let calls = 0;
      results.sufficientStats = async (...a: unknown[]) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return original(...a);
      };
      await t.request('POST', '/api/v1/experiments', { token: t.adminToken, body: body('second-exp') });
      await t.request('POST', '/api/v1/experiments/second-exp/start', { token: t.adminToken });
      await expect(t.server.jobs.safety.check()).resolves.toEqual([]);
      expect(calls).toBe(2);
    } finally {
      await t.stop();
    }
  });
});
