import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

let t: TestServer;
let doc: Doc;
beforeAll(async () => {
  t = await startTestServer({ demo: true });
  doc = (await t.request('GET', '/api/v1/openapi.json')).body as Doc;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

/** A validator of one response schema of the document (its `$ref`s resolved against the document). */
function validator(schema: unknown): (value: unknown) => string[] {
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? `doc${v}` : rewrite(v)]));
  };
  ajv.addSchema(rewrite({ components: doc.components }) as object, 'doc');
  const validate = ajv.compile(rewrite(schema) as object);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
}

const successSchema = (path: string, method: string, type = 'application/json'): unknown => {
  const op = doc.paths[path]?.[method];
  const status = Object.keys(op.responses).find((s) => s.startsWith('2'))!;
  return op.responses[status].content[type].schema;
};

describe('the OpenAPI document describes every response', () => {
  it('gives every operation a typed success response (no untyped data)', () => {
    const untyped: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const [status, response] = Object.entries(op.responses as Record<string, any>).find(([s]) => s.startsWith('2'))!;
        if (status === '204') continue;
        const content = response.content as Record<string, { schema: any }> | undefined;
        if (content === undefined) untyped.push(`${method} ${path}: no content`);
        for (const [type, { schema }] of Object.entries(content ?? {})) {
          // The generic envelope (`data: {}`) or a schema saying nothing is untyped.
          const data = schema?.properties?.data;
          const says = schema?.$ref ?? schema?.properties ?? schema?.allOf ?? schema?.oneOf;
          if (type === 'application/json' && (says === undefined || (data !== undefined && Object.keys(data).length === 0)))
            untyped.push(`${method} ${path}`);
        }
        expect(op.description, `${method} ${path}`).toBeTruthy();
      }
    }
    expect(untyped).toEqual([]);
  });

  it('documents /health, /ready and /metrics, the results media types, the stream and the config ETag', () => {
    for (const p of ['/health', '/ready', '/metrics']) expect(doc.paths[p]?.get, p).toBeDefined();
    expect(Object.keys(doc.paths['/metrics']!.get.responses['200'].content)).toEqual(['text/plain']);
    expect(Object.keys(doc.paths['/api/v1/experiments/{id}/results']!.get.responses['200'].content).sort()).toEqual([
      'application/json',
      'image/svg+xml',
      'text/csv',
    ]);
    expect(Object.keys(doc.paths['/sdk/v1/stream']!.get.responses['200'].content)).toEqual(['text/event-stream']);
    const config = doc.paths['/sdk/v1/config']!.get;
    expect(config.responses['200'].headers.ETag).toBeDefined();
    expect(config.responses['304']).toBeDefined();
    expect(config.parameters.map((p: { name: string }) => p.name)).toContain('If-None-Match');
  });

  it('matches what the demo server really answers', async () => {
    const admin = { token: t.adminToken };
    const checks: [string, string, string, { status: number; body: unknown }][] = [];
    const add = async (method: string, docPath: string, path: string, o: Record<string, unknown> = admin) =>
      checks.push([method, docPath, path, await t.request(method.toUpperCase(), path, o)]);
    await add('get', '/api/v1/feature-flags', '/api/v1/feature-flags');
    await add('get', '/api/v1/feature-flags/{id}', '/api/v1/feature-flags/new-checkout');
    await add('get', '/api/v1/segments', '/api/v1/segments');
    await add('get', '/api/v1/experiments', '/api/v1/experiments');
    await add('get', '/api/v1/experiments/{id}/results', '/api/v1/experiments/checkout-cta/results');
    await add('get', '/api/v1/environments', '/api/v1/environments');
    await add('get', '/api/v1/users', '/api/v1/users');
    await add('get', '/api/v1/api-keys', '/api/v1/api-keys');
    await add('post', '/api/v1/api-keys', '/api/v1/api-keys', { ...admin, body: { name: 'doc check', kind: 'server' } });
    await add('get', '/api/v1/audit-log', '/api/v1/audit-log');
    await add('get', '/api/v1/auth/me', '/api/v1/auth/me');
    await add('get', '/api/v1/auth/providers', '/api/v1/auth/providers');
    await add('post', '/api/v1/auth/session', '/api/v1/auth/session', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    await add(
      'get',
      '/api/v1/feature-flags/{key}/evaluate',
      `/api/v1/feature-flags/new-checkout/evaluate?context=${encodeURIComponent('{"key":"u1"}')}`,
    );
    await add('get', '/sdk/v1/config', '/sdk/v1/config', { apiKey: t.serverKey });
    await add('post', '/sdk/v1/evaluate', '/sdk/v1/evaluate', { apiKey: t.clientKey, body: { context: { key: 'u1' } } });
    await add('get', '/ready', '/ready', {});
    const problems = checks.flatMap(([method, docPath, path, r]) => {
      if (r.status >= 300) return [`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`];
      return validator(successSchema(docPath, method))(r.body).map((p) => `${method} ${path}:${p}`);
    });
    expect(problems).toEqual([]);
  });

  it('the shape check can fail: a flag without its key is refused', () => {
    const check = validator(successSchema('/api/v1/feature-flags/{id}', 'get'));
    expect(check({ data: { id: 'x', type: 'feature-flag', attributes: { type: 'boolean' } } })).not.toEqual([]);
    expect(check({ data: { id: 'x', type: 'segment', attributes: { key: 'k', type: 'boolean' } } })).not.toEqual([]);
  });
});
