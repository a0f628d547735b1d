import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { seed, SINGLE } from './ofrep-seed';

describe('OFREP endpoints (raw HTTP)', () => {
  let t: TestServer;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    t.request('POST', path, { ...(body === undefined ? {} : { body }), headers });
  const client = () => ({ authorization: `Bearer ${t.clientKey}` });

  beforeAll(async () => {
    t = await startTestServer();
    await seed(t);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('evaluates one flag with a client key as Bearer: OFREP success shape', async () => {
    const r = await post(`${SINGLE}/of-bool`, { context: { targetingKey: 'u1', country: 'US' } }, client());
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body).toEqual({
      key: 'of-bool',
      value: true,
      reason: 'TARGETING_MATCH',
      variant: 'on',
      metadata: { config_version: t.server.ctx.config.version, rule_id: 'us' },
    });
  });

  it('accepts a server key as X-API-Key and serves the default with reason DEFAULT', async () => {
    const r = await post(`${SINGLE}/of-bool`, { context: { targetingKey: 'u1', country: 'FR' } }, { 'x-api-key': t.serverKey });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ key: 'of-bool', value: false, variant: 'off', reason: 'DEFAULT' });
    expect(r.body.metadata.rule_id).toBeUndefined();
  });

  it('maps targetingKey onto the unit id `key` (targetingKey wins over a `key` attribute)', async () => {
    const vip = await post(`${SINGLE}/of-number`, { context: { targetingKey: 'vip-user' } }, client());
    expect(vip.body).toMatchObject({ value: 99.5, variant: 'high', reason: 'TARGETING_MATCH' });
    const both = await post(`${SINGLE}/of-number`, { context: { targetingKey: 'vip-user', key: 'someone-else' } }, client());
    expect(both.body).toMatchObject({ value: 99.5, variant: 'high' });
    const other = await post(`${SINGLE}/of-number`, { context: { targetingKey: 'u2' } }, client());
    expect(other.body).toMatchObject({ value: 10, variant: 'low', reason: 'DEFAULT' });
  });

  it('serves JSON values as objects', async () => {
    const r = await post(`${SINGLE}/of-json`, { context: {} }, client());
    expect(r.body).toMatchObject({ key: 'of-json', value: { theme: 'dark', max: 3 }, variant: 'v1' });
  });

  it('answers an unknown flag with 404 FLAG_NOT_FOUND', async () => {
    const r = await post(`${SINGLE}/no-such-flag`, { context: { targetingKey: 'u1' } }, client());
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ key: 'no-such-flag', errorCode: 'FLAG_NOT_FOUND', errorDetails: expect.any(String) });
  });

  it('answers missing or invalid credentials with 401 and non-SDK credentials with 403, on both endpoints', async () => {
    for (const path of [`${SINGLE}/of-bool`, SINGLE]) {
      const none = await post(path, { context: {} });
      expect(none.status).toBe(401);
      expect(none.body).toEqual({ errorDetails: expect.any(String) });
      expect((await post(path, { context: {} }, { authorization: 'Bearer sy_not_a_real_key' })).status).toBe(401);
      expect((await post(path, { context: {} }, { 'x-api-key': 'sy_not_a_real_key' })).status).toBe(401);
      const jwt = await post(path, { context: {} }, { authorization: `Bearer ${t.adminToken}` });
      expect(jwt.status).toBe(403);
      expect(jwt.body.errorDetails).toMatch(/client or server/);
    }
  });

  it('rejects malformed JSON with 400 PARSE_ERROR and a bad context with 400 INVALID_CONTEXT', async () => {
    const parse = await t.request('POST', `${SINGLE}/of-bool`, {
      raw: '{"context": ',
      headers: { ...client(), 'content-type': 'application/json' },
    });
    expect(parse.status).toBe(400);
    expect(parse.body).toEqual({ key: 'of-bool', errorCode: 'PARSE_ERROR', errorDetails: expect.any(String) });
    for (const body of [[1, 2], { context: 'u1' }, { context: [] }, { context: { targetingKey: 42 } }]) {
      const r = await post(`${SINGLE}/of-bool`, body, client());
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ key: 'of-bool', errorCode: 'INVALID_CONTEXT' });
    }
    const bulkParse = await t.request('POST', SINGLE, { raw: 'nope', headers: client() });
    expect(bulkParse.status).toBe(400);
    expect(bulkParse.body).toEqual({ errorCode: 'PARSE_ERROR', errorDetails: expect.any(String) });
    const bulkContext = await post(SINGLE, { context: 7 }, client());
    expect(bulkContext.status).toBe(400);
    expect(bulkContext.body).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    expect(bulkContext.body.key).toBeUndefined();
  });

  it('treats an absent body or context as an empty context (the spec makes both optional)', async () => {
    const noBody = await post(`${SINGLE}/of-bool`, undefined, client());
    expect(noBody.status).toBe(200);
    expect(noBody.body).toMatchObject({ value: false, reason: 'DEFAULT' });
    const noContext = await post(`${SINGLE}/of-bool`, {}, client());
    expect(noContext.body).toMatchObject({ value: false, reason: 'DEFAULT' });
  });

  it('needs a targeting key for a split: 400 TARGETING_KEY_MISSING without one, a stable SPLIT with one', async () => {
    const missing = await post(`${SINGLE}/of-split`, { context: {} }, client());
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ key: 'of-split', errorCode: 'TARGETING_KEY_MISSING' });
    const a = await post(`${SINGLE}/of-split`, { context: { targetingKey: 'unit-7' } }, client());
    const b = await post(`${SINGLE}/of-split`, { context: { targetingKey: 'unit-7' } }, client());
    expect(a.body.reason).toBe('SPLIT');
    expect(['on', 'off']).toContain(a.body.variant);
    expect(b.body).toEqual(a.body);
  });

  it('defers to the code default (no value, no variant) for a disabled flag without an off variant', async () => {
    const r = await post(`${SINGLE}/of-dark`, { context: { targetingKey: 'u1' } }, client());
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ key: 'of-dark', reason: 'DISABLED', metadata: { config_version: expect.any(Number) } });
  });

  it('evaluates an experiment key like a flag: SPLIT with in_experiment, else a code-default DEFAULT', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await post(`${SINGLE}/of-exp`, { context: { targetingKey: `user-${i}`, country: 'US' } }, client());
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ key: 'of-exp', reason: 'SPLIT', metadata: { in_experiment: true } });
      expect(r.body.value).toBe(r.body.variant === 'control' ? 'old' : 'new');
      seen.add(r.body.variant);
    }
    expect([...seen].sort()).toEqual(['control', 'treatment']);
    const out = await post(`${SINGLE}/of-exp`, { context: { targetingKey: 'user-1', country: 'FR' } }, client());
    expect(out.body).toEqual({ key: 'of-exp', reason: 'DEFAULT', metadata: { config_version: expect.any(Number), in_experiment: false } });
  });

  it('bulk: every flag and experiment, successes and per-flag errors mixed, with an ETag', async () => {
    const r = await post(SINGLE, { context: { country: 'US' } }, client());
    expect(r.status).toBe(200);
    const byKey = Object.fromEntries((r.body.flags as { key: string }[]).map((f) => [f.key, f]));
    expect(Object.keys(byKey).sort()).toEqual(['of-bool', 'of-dark', 'of-exp', 'of-json', 'of-number', 'of-split', 'of-string']);
    expect(byKey['of-bool']).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH' });
    expect(byKey['of-string']).toMatchObject({ value: 'blue', variant: 'blue', reason: 'DEFAULT' });
    expect(byKey['of-split']).toEqual({
      key: 'of-split',
      errorCode: 'TARGETING_KEY_MISSING',
      errorDetails: expect.any(String),
      metadata: expect.any(Object),
    });
    expect(byKey['of-dark']).not.toHaveProperty('value');
    expect(byKey['of-exp']).toMatchObject({ reason: 'DEFAULT' }); // no unit id: not enrolled
    expect(r.headers.get('etag')).toMatch(/^"\d+-[A-Za-z0-9_-]+"$/);
  });

  it('bulk: If-None-Match with the current ETag -> 304; another context or a config change -> a new ETag', async () => {
    const ctxA = { context: { targetingKey: 'u1', country: 'US', plan: 'pro' } };
    const first = await post(SINGLE, ctxA, client());
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();

    const again = await post(SINGLE, ctxA, { ...client(), 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBeNull();
    expect(again.headers.get('etag')).toBe(etag);
    // Weak form and lists match too; the key order of the context does not matter.
    expect((await post(SINGLE, ctxA, { ...client(), 'if-none-match': `"x", W/${etag}` })).status).toBe(304);
    expect(
      (await post(SINGLE, { context: { plan: 'pro', country: 'US', targetingKey: 'u1' } }, { ...client(), 'if-none-match': etag })).status,
    ).toBe(304);
    expect((await post(SINGLE, ctxA, { ...client(), 'if-none-match': '"stale"' })).status).toBe(200);

    const otherContext = await post(
      SINGLE,
      { context: { targetingKey: 'u2', country: 'US', plan: 'pro' } },
      { ...client(), 'if-none-match': etag },
    );
    expect(otherContext.status).toBe(200);
    expect(otherContext.headers.get('etag')).not.toBe(etag);

    const patched = await t.request('PATCH', '/api/v1/feature-flags/of-string', {
      token: t.adminToken,
      body: { default_serve: { variant: 'green' }, rules: [] },
    });
    expect(patched.status).toBe(200);
    const afterChange = await post(SINGLE, ctxA, { ...client(), 'if-none-match': etag });
    expect(afterChange.status).toBe(200);
    expect(afterChange.headers.get('etag')).not.toBe(etag);
    const str = (afterChange.body.flags as { key: string }[]).find((f) => f.key === 'of-string');
    expect(str).toMatchObject({ value: 'green', reason: 'DEFAULT' });
    // Put it back for the other tests.
    await t.request('PATCH', '/api/v1/feature-flags/of-string', {
      token: t.adminToken,
      body: {
        default_serve: { variant: 'blue' },
        rules: [{ id: 'pro', when: { attr: 'plan', op: 'eq', values: ['pro'] }, serve: { variant: 'green' } }],
      },
    });
  });

  it('lets a browser call it cross-origin: preflight allows the headers and the ETag is exposed', async () => {
    const pre = await fetch(t.url + SINGLE, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,if-none-match',
      },
    });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('if-none-match');
    const r = await fetch(t.url + SINGLE, {
      method: 'POST',
      headers: { origin: 'https://app.example', ...client(), 'content-type': 'application/json' },
      body: '{"context":{}}',
    });
    expect(r.headers.get('access-control-expose-headers')).toMatch(/ETag/i);
  });
});

describe('OFREP rate limiting', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ apiRateBurst: 2, apiRatePerSecond: 0.01 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers 429 with Retry-After once a key is over its limit', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${t.url}${SINGLE}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.clientKey}`, 'content-type': 'application/json' },
        body: '{}',
      });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses[3]).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
