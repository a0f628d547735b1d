import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type Reply, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

/**
 * Optimistic concurrency, on both stores, over real HTTP: every stored resource has a `version`
 * and a strong `ETag`; writes honour `If-Match` (stale: 412, nothing changes); without it a
 * PATCH is merged onto the latest row, so concurrent edits of different fields both survive.
 */

const ROUNDS = 50;
const FLAG = { key: 'race', type: 'boolean', enabled: false };

const etagOf = (r: Reply) => r.headers.get('etag');
const versionOf = (r: Reply) => r.body.data.attributes.version as number;

/** The body of a 412 and the proof nothing changed are checked the same way everywhere. */
function expectStale(r: Reply, current: number): void {
  expect(r.status, JSON.stringify(r.body)).toBe(412);
  expect(r.body.error.code).toBe('PRECONDITION_FAILED');
  expect(r.body.error.details).toEqual({ current_version: current });
  expect(etagOf(r)).toBe(`"${current}"`);
}

function suite(name: string, open: () => Promise<TestServer>): void {
  describe(name, () => {
    let t: TestServer;
    const admin = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      t.request(method, path, { token: t.adminToken, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });

    beforeAll(async () => {
      t = await open();
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    });

    it(`two concurrent PATCHes of different fields of one flag, ${ROUNDS} rounds: neither is lost`, async () => {
      const created = await admin('POST', '/api/v1/feature-flags', FLAG);
      expect(created.status).toBe(201);
      let version = versionOf(created);
      for (let round = 0; round < ROUNDS; round++) {
        const enabled = round % 2 === 0;
        const rules = [{ id: `rule-${round}`, when: { attr: 'country', op: 'eq', values: [`c${round}`] }, serve: { variant: 'on' } }];
        // Sent at once, on separate connections: both read the same version before either writes.
        const [a, b] = await Promise.all([
          admin('PATCH', '/api/v1/feature-flags/race', { enabled }),
          admin('PATCH', '/api/v1/feature-flags/race', { rules }),
        ]);
        expect([a.status, b.status], `round ${round}: ${JSON.stringify(a.body)} / ${JSON.stringify(b.body)}`).toEqual([200, 200]);
        const now = await admin('GET', '/api/v1/feature-flags/race');
        expect(now.body.data.attributes.enabled, `round ${round}: the enabled change was lost`).toBe(enabled);
        expect(now.body.data.attributes.rules, `round ${round}: the rules change was lost`).toEqual(rules);
        // Two changes, two versions; the responses name distinct versions, the later one current.
        expect(versionOf(now)).toBe(version + 2);
        expect(new Set([versionOf(a), versionOf(b)])).toEqual(new Set([version + 1, version + 2]));
        version += 2;
      }
      // What SDKs get agrees with the management API.
      const config = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
      expect(config.body.flags.race.enabled).toBe((ROUNDS - 1) % 2 === 0);
      expect(config.body.flags.race.rules[0].id).toBe(`rule-${ROUNDS - 1}`);
    }, 300_000);

    it('a kill switch turned off during an incident stays off when a colleague saves a rules edit', async () => {
      const on = await admin('POST', '/api/v1/feature-flags', { key: 'kill-switch', type: 'boolean', enabled: true });
      expect(on.status).toBe(201);
      // Both open the flag; the incident responder turns it off first.
      const colleague = await admin('GET', '/api/v1/feature-flags/kill-switch');
      const off = await admin('PATCH', '/api/v1/feature-flags/kill-switch', { enabled: false }, { 'If-Match': etagOf(colleague)! });
      expect(off.status).toBe(200);
      const rules = [{ id: 'beta', when: { attr: 'beta', op: 'eq', values: ['yes'] }, serve: { variant: 'on' } }];
      // The colleague's editor saves the whole flag it loaded (enabled: true) with its ETag: refused.
      const { id: _id, created_at: _c, updated_at: _u, version: _v, environments: _e, ...loaded } = colleague.body.data.attributes;
      const put = await admin('PUT', '/api/v1/feature-flags/kill-switch', { ...loaded, rules }, { 'If-Match': etagOf(colleague)! });
      expectStale(put, versionOf(off));
      // A PATCH of the rules alone, with or without the stale ETag, cannot turn it on either.
      expectStale(await admin('PATCH', '/api/v1/feature-flags/kill-switch', { rules }, { 'If-Match': etagOf(colleague)! }), versionOf(off));
      const merged = await admin('PATCH', '/api/v1/feature-flags/kill-switch', { rules });
      expect(merged.status).toBe(200);
      expect(merged.body.data.attributes).toMatchObject({ enabled: false, rules });
      const config = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
      expect(config.body.flags['kill-switch'].enabled).toBe(false);
    });

    it('version and ETag on GET, POST and PATCH responses; If-Match current, * and lists apply; the config has no version', async () => {
      const created = await admin('POST', '/api/v1/feature-flags', { key: 'tagged', type: 'boolean' });
      expect(versionOf(created)).toBe(1);
      expect(etagOf(created)).toBe('"1"');
      const got = await admin('GET', '/api/v1/feature-flags/tagged');
      expect(etagOf(got)).toBe('"1"');
      const p1 = await admin('PATCH', '/api/v1/feature-flags/tagged', { name: 'A' }, { 'If-Match': '"1"' });
      expect(p1.status).toBe(200);
      expect([versionOf(p1), etagOf(p1)]).toEqual([2, '"2"']);
      const p2 = await admin('PATCH', '/api/v1/feature-flags/tagged', { name: 'B' }, { 'If-Match': '*' });
      expect(etagOf(p2)).toBe('"3"');
      const p3 = await admin('PATCH', '/api/v1/feature-flags/tagged', { name: 'C' }, { 'If-Match': '"1", "3"' });
      expect(etagOf(p3)).toBe('"4"');
      // The comparison is strong: a weak tag never matches.
      expectStale(await admin('PATCH', '/api/v1/feature-flags/tagged', { name: 'D' }, { 'If-Match': 'W/"4"' }), 4);
      const malformed = await admin('PATCH', '/api/v1/feature-flags/tagged', { name: 'D' }, { 'If-Match': '4' });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('VALIDATION_ERROR');
      expect(malformed.body.error.details[0].path).toBe('If-Match');
      // A GET body sent back (version included) is accepted; the version is the server's.
      const {
        id: _id,
        created_at: _c,
        updated_at: _u,
        ...back
      } = (await admin('GET', '/api/v1/feature-flags/tagged')).body.data.attributes;
      const put = await admin('PUT', '/api/v1/feature-flags/tagged', { ...back, version: 99, name: 'E' }, { 'If-Match': '"4"' });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect(versionOf(put)).toBe(5);
      const config = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
      expect(config.body.flags.tagged.name).toBe('E');
      expect(config.body.flags.tagged).not.toHaveProperty('version');
    });

    it('a stale If-Match is a 412 and changes nothing: no row, audit record or config version', async () => {
      await admin('POST', '/api/v1/feature-flags', { key: 'stale', type: 'boolean', enabled: true });
      const before = await admin('GET', '/api/v1/feature-flags/stale');
      const config = await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey });
      const audits = await admin('GET', '/api/v1/audit-log?limit=200');
      const r = await admin('PATCH', '/api/v1/feature-flags/stale', { enabled: false }, { 'If-Match': '"7"' });
      expectStale(r, 1);
      expect(r.body.error.request_id).toBeTypeOf('string');
      const after = await admin('GET', '/api/v1/feature-flags/stale');
      expect(after.body.data).toEqual(before.body.data);
      expect((await t.request('GET', '/sdk/v1/config', { apiKey: t.serverKey })).headers.get('etag')).toBe(config.headers.get('etag'));
      expect((await admin('GET', '/api/v1/audit-log?limit=200')).body.data).toEqual(audits.body.data);
      // The per-environment PATCH and promote share the flag's one version.
      expectStale(
        await admin('PATCH', '/api/v1/feature-flags/stale/environments/development', { enabled: true }, { 'If-Match': '"0"' }),
        1,
      );
      const promote = { from: 'production', to: 'development' };
      expectStale(await admin('POST', '/api/v1/feature-flags/stale/promote', promote, { 'If-Match': '"2"' }), 1);
      const env = await admin('PATCH', '/api/v1/feature-flags/stale/environments/development', { enabled: true }, { 'If-Match': '"1"' });
      expect([env.status, etagOf(env)]).toEqual([200, '"2"']);
      const promoted = await admin('POST', '/api/v1/feature-flags/stale/promote', promote, { 'If-Match': '"2"' });
      expect([promoted.status, etagOf(promoted)]).toEqual([200, '"3"']);
    });

    it('DELETE with a stale If-Match is a 412 and the resource stays; with the current one it goes', async () => {
      await admin('POST', '/api/v1/feature-flags', { key: 'doomed', type: 'boolean' });
      await admin('PATCH', '/api/v1/feature-flags/doomed', { name: 'changed' });
      expectStale(await admin('DELETE', '/api/v1/feature-flags/doomed', undefined, { 'If-Match': '"1"' }), 2);
      expect((await admin('GET', '/api/v1/feature-flags/doomed')).status).toBe(200);
      expect((await admin('DELETE', '/api/v1/feature-flags/doomed', undefined, { 'If-Match': '"2"' })).status).toBe(204);
      expect((await admin('GET', '/api/v1/feature-flags/doomed')).status).toBe(404);
    });

    it('experiment lifecycle actions with a stale If-Match are 412s; concurrent edits of an experiment both survive', async () => {
      const body = {
        key: 'exp-cc',
        variants: [
          { key: 'control', weight: 50 },
          { key: 'treatment', weight: 50 },
        ],
      };
      const created = await admin('POST', '/api/v1/experiments', body);
      expect(etagOf(created)).toBe('"1"');
      await admin('PATCH', '/api/v1/experiments/exp-cc', { name: 'Checkout' });
      expectStale(await admin('POST', '/api/v1/experiments/exp-cc/start', undefined, { 'If-Match': '"1"' }), 2);
      expect((await admin('GET', '/api/v1/experiments/exp-cc')).body.data.attributes.status).toBe('DRAFT');
      const started = await admin('POST', '/api/v1/experiments/exp-cc/start', undefined, { 'If-Match': '"2"' });
      expect([started.status, etagOf(started), started.body.data.attributes.status]).toEqual([200, '"3"', 'RUNNING']);
      for (const action of ['pause', 'resume', 'complete', 'archive']) {
        const current = versionOf(await admin('GET', '/api/v1/experiments/exp-cc'));
        expectStale(await admin('POST', `/api/v1/experiments/exp-cc/${action}`, undefined, { 'If-Match': `"${current - 1}"` }), current);
        const ok = await admin('POST', `/api/v1/experiments/exp-cc/${action}`, undefined, { 'If-Match': `"${current}"` });
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      }
      await admin('POST', '/api/v1/experiments', { ...body, key: 'exp-cc2' });
      for (let round = 0; round < 10; round++) {
        const [a, b] = await Promise.all([
          admin('PATCH', '/api/v1/experiments/exp-cc2', { name: `name ${round}` }),
          admin('PATCH', '/api/v1/experiments/exp-cc2', { hypothesis: `hypothesis ${round}` }),
        ]);
        expect([a.status, b.status]).toEqual([200, 200]);
        const now = (await admin('GET', '/api/v1/experiments/exp-cc2')).body.data.attributes;
        expect([now.name, now.hypothesis]).toEqual([`name ${round}`, `hypothesis ${round}`]);
      }
      // A lifecycle action racing an edit: both land.
      const [started2, renamed] = await Promise.all([
        admin('POST', '/api/v1/experiments/exp-cc2/start'),
        admin('PATCH', '/api/v1/experiments/exp-cc2', { description: 'raced' }),
      ]);
      expect([started2.status, renamed.status]).toEqual([200, 200]);
      expect((await admin('GET', '/api/v1/experiments/exp-cc2')).body.data.attributes).toMatchObject({
        status: 'RUNNING',
        description: 'raced',
      });
    });

    it('segments, environments, users and API keys carry versions and honour If-Match', async () => {
      const cases: { create: [string, unknown]; path: (id: string) => string; patch?: unknown }[] = [
        { create: ['/api/v1/segments', { key: 'seg-cc', included: ['a'] }], path: () => '/api/v1/segments/seg-cc', patch: { name: 'S' } },
        { create: ['/api/v1/environments', { key: 'qa-cc' }], path: () => '/api/v1/environments/qa-cc', patch: { name: 'QA' } },
        {
          create: ['/api/v1/users', { email: 'cc@test.local', role: 'VIEWER', password: 'password-cc-1' }],
          path: (id) => `/api/v1/users/${id}`,
          patch: { name: 'C C' },
        },
        { create: ['/api/v1/api-keys', { name: 'cc key', kind: 'management', role: 'VIEWER' }], path: (id) => `/api/v1/api-keys/${id}` },
      ];
      for (const c of cases) {
        const created = await admin('POST', ...c.create);
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect([versionOf(created), etagOf(created)]).toEqual([1, '"1"']);
        const path = c.path(created.body.data.id);
        expect(etagOf(await admin('GET', path))).toBe('"1"');
        let current = 1;
        if (c.patch !== undefined) {
          expectStale(await admin('PATCH', path, c.patch, { 'If-Match': '"0"' }), 1);
          const ok = await admin('PATCH', path, c.patch, { 'If-Match': '"1"' });
          expect([ok.status, etagOf(ok)]).toEqual([200, '"2"']);
          current = 2;
        }
        expectStale(await admin('DELETE', path, undefined, { 'If-Match': `"${current + 1}"` }), current);
        expect((await admin('GET', path)).body.data.attributes).not.toHaveProperty('revoked', true);
        expect((await admin('DELETE', path, undefined, { 'If-Match': `"${current}"` })).status).toBe(204);
      }
    });
  });
}

suite('concurrent edits on SQLite', () => startTestServer());

describe('on PostgreSQL', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await postgres?.stop();
  });
  suite('concurrent edits on PostgreSQL', async () => startTestServer({ databaseUrl: await postgres.createDatabase() }));
});
