import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { ApiError } from '../src/errors';
import { deprecationHeaders, route } from '../src/http/route';
import { startTestServer, type TestServer } from './helpers';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});

const DEPRECATED = { since: '2027-01-01', sunset: '2028-01-01', link: 'https://example.com/docs/api-versioning.md#old-thing' };

/** The app with one deprecated and one beta route mounted the way feature routes are. */
function appWithExtras() {
  return createApp(t.server.ctx, [
    {
      prefix: '/api/v1',
      routes: [
        route({
          method: 'get',
          path: '/old-thing/:id',
          summary: 'An old thing',
          tag: 'test',
          auth: 'none',
          deprecated: DEPRECATED,
          success: { status: 200, description: 'the thing' },
          handler: async (_c, { params }) => {
            if (params.id === 'missing') throw new ApiError('RESOURCE_NOT_FOUND', 'no such thing');
            return { data: { id: params.id } };
          },
        }),
      ],
    },
    {
      prefix: '/api/beta',
      routes: [
        route({
          method: 'get',
          path: '/new-thing',
          summary: 'A new thing',
          tag: 'test',
          auth: 'none',
          success: { status: 200, description: 'the thing' },
          handler: async () => ({ data: { beta: true } }),
        }),
      ],
    },
  ]);
}

describe('API evolution', () => {
  it('a deprecated route answers with Deprecation, Sunset and Link, on success and on errors', async () => {
    const app = appWithExtras();
    for (const [id, status] of [
      ['a', 200],
      ['missing', 404],
    ] as const) {
      const res = await app.request(`/api/v1/old-thing/${id}`);
      expect(res.status).toBe(status);
      expect(res.headers.get('deprecation')).toBe('@1798761600');
      expect(res.headers.get('sunset')).toBe('Sat, 01 Jan 2028 00:00:00 GMT');
      expect(res.headers.get('link')).toBe(`<${DEPRECATED.link}>; rel="deprecation"`);
    }
  });

  it('other routes carry no deprecation headers', async () => {
    const res = await appWithExtras().request('/api/beta/new-thing');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { beta: true } });
    expect(res.headers.get('deprecation')).toBeNull();
    expect(res.headers.get('sunset')).toBeNull();
  });

  it('the OpenAPI document marks deprecated and beta operations', async () => {
    const doc = (await (await appWithExtras().request('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { deprecated?: boolean; description?: string; 'x-beta'?: boolean }>>;
    };
    const old = doc.paths['/api/v1/old-thing/{id}']?.get;
    expect(old?.deprecated).toBe(true);
    expect(old?.description).toContain('2028-01-01');
    expect(doc.paths['/api/beta/new-thing']?.get?.['x-beta']).toBe(true);
    expect(doc.paths['/api/v1/feature-flags']?.get?.deprecated).toBeUndefined();
  });

  it('deprecationHeaders formats RFC 9745 and RFC 8594 dates', () => {
    expect(deprecationHeaders({ since: '2026-12-04', sunset: '2027-12-04', link: 'https://x' })).toEqual({
      Deprecation: '@1796342400',
      Sunset: 'Sat, 04 Dec 2027 00:00:00 GMT',
      Link: '<https://x>; rel="deprecation"',
    });
  });
});
