import { expect } from 'vitest';
import type { TestServer } from './helpers';
import { createKey, insertApiKey, insertUser, ownedFlag, ownedSegment, uniqueKey, whoAmI } from './support';

/**
 * The RBAC matrix: every kind of caller × resource × action, with the status each cell must
 * answer. Columns of `expect` strings follow {@link ACTORS}.
 */
export const ACTORS = [
  'anonymous',
  'viewer',
  'experimenter',
  'admin',
  'viewer-key', // management key created by the VIEWER (role defaults to VIEWER)
  'experimenter-key', // management key created by the EXPERIMENTER
  'admin-key', // management key created by the ADMIN
  'admin-key-as-experimenter', // management key created by the ADMIN with role EXPERIMENTER
  'experimenter-key-as-viewer', // management key created by the EXPERIMENTER with role VIEWER
  'server-key',
  'client-key',
] as const;

export type ActorName = (typeof ACTORS)[number];

export interface MatrixActor {
  name: ActorName;
  auth: { token?: string; apiKey?: string };
  /** The user whose resources count as this caller's own (a key's creator). */
  ownerId: string;
}

export interface MatrixEnv {
  t: TestServer;
  actors: Record<ActorName, MatrixActor>;
  adminId: string;
  /** An EXPERIMENTER who owns the "someone else's" resources. */
  otherId: string;
  /** A protected environment: only an ADMIN changes flag state there. */
  locked: string;
}

/** Creates the users and keys the matrix runs as. */
export async function setupMatrix(t: TestServer): Promise<MatrixEnv> {
  const adminId = await whoAmI(t, t.adminToken);
  const [viewer, experimenter, other] = await Promise.all([t.user('VIEWER'), t.user('EXPERIMENTER'), t.user('EXPERIMENTER')]);
  const key = async (token: string, body: Record<string, unknown>) => (await createKey(t, { token }, { kind: 'management', ...body })).key;
  const [viewerKey, experimenterKey, adminKey, adminKeyAsExperimenter, experimenterKeyAsViewer] = await Promise.all([
    key(viewer.token, { name: 'viewer key' }),
    key(experimenter.token, { name: 'experimenter key' }),
    key(t.adminToken, { name: 'admin key' }),
    key(t.adminToken, { name: 'admin key as experimenter', role: 'EXPERIMENTER' }),
    key(experimenter.token, { name: 'experimenter key as viewer', role: 'VIEWER' }),
  ]);
  const a = (name: ActorName, auth: MatrixActor['auth'], ownerId: string): MatrixActor => ({ name, auth, ownerId });
  const actors: Record<ActorName, MatrixActor> = {
    anonymous: a('anonymous', {}, adminId),
    viewer: a('viewer', { token: viewer.token }, viewer.id),
    experimenter: a('experimenter', { token: experimenter.token }, experimenter.id),
    admin: a('admin', { token: t.adminToken }, adminId),
    'viewer-key': a('viewer-key', { apiKey: viewerKey }, viewer.id),
    'experimenter-key': a('experimenter-key', { apiKey: experimenterKey }, experimenter.id),
    'admin-key': a('admin-key', { apiKey: adminKey }, adminId),
    'admin-key-as-experimenter': a('admin-key-as-experimenter', { apiKey: adminKeyAsExperimenter }, adminId),
    'experimenter-key-as-viewer': a('experimenter-key-as-viewer', { apiKey: experimenterKeyAsViewer }, experimenter.id),
    'server-key': a('server-key', { apiKey: t.serverKey }, adminId),
    'client-key': a('client-key', { apiKey: t.clientKey }, adminId),
  };
  const locked = uniqueKey('rbac-locked');
  const env = await t.request('POST', '/api/v1/environments', { token: t.adminToken, body: { key: locked, protected: true } });
  if (env.status !== 201) throw new Error(`protected environment: ${env.status} ${JSON.stringify(env.body)}`);
  return { t, actors, adminId, otherId: other.id, locked };
}

/** What one cell sends, and how to confirm the effect agrees with the status. */
export interface CellRequest {
  method: string;
  path: string;
  body?: unknown;
  /** Runs after the request with its status and body; asserts that the store agrees with it. */
  check?: (status: number, body: any) => Promise<void>;
}

export interface Row {
  resource: 'feature-flags' | 'segments' | 'users' | 'api-keys' | 'audit-log' | 'environments';
  action: string;
  /** One status per actor, in {@link ACTORS} order. */
  expect: string;
  prepare(env: MatrixEnv, actor: MatrixActor): Promise<CellRequest>;
}

const asAdmin = (env: MatrixEnv, method: string, path: string) => env.t.request(method, path, { token: env.t.adminToken });

/** Rows for flags and segments, which share the CRUD routes and the ownership rules. */
function resourceRows(resource: 'feature-flags' | 'segments'): Row[] {
  const base = `/api/v1/${resource}`;
  const isFlag = resource === 'feature-flags';
  const make = (env: MatrixEnv, ownerId: string) =>
    isFlag
      ? ownedFlag(env.t.server.ctx, ownerId, { key: uniqueKey('rbac-flag'), name: 'before' })
      : ownedSegment(env.t.server.ctx, ownerId, { key: uniqueKey('rbac-seg'), name: 'before' });
  const ownerOf = (env: MatrixEnv, actor: MatrixActor, whose: 'own' | 'other') => (whose === 'own' ? actor.ownerId : env.otherId);
  const update = (method: 'PATCH' | 'PUT', whose: 'own' | 'other', statuses: string): Row => ({
    resource,
    action: `${method} ${whose}`,
    expect: statuses,
    async prepare(env, actor) {
      const row = await make(env, ownerOf(env, actor, whose));
      const body = method === 'PUT' ? (isFlag ? { type: 'boolean', name: 'after' } : { name: 'after' }) : { name: 'after' };
      return {
        method,
        path: `${base}/${row.id}`,
        body,
        async check(status) {
          const now = await asAdmin(env, 'GET', `${base}/${row.id}`);
          expect(now.body.data.attributes.name).toBe(status === 200 ? 'after' : 'before');
          // Ownership never moves on update.
          expect(now.body.data.relationships.owner.data.id).toBe(row.ownerId);
        },
      };
    },
  });
  const remove = (whose: 'own' | 'other', statuses: string): Row => ({
    resource,
    action: `DELETE ${whose}`,
    expect: statuses,
    async prepare(env, actor) {
      const row = await make(env, ownerOf(env, actor, whose));
      return {
        method: 'DELETE',
        path: `${base}/${row.key}`,
        async check(status) {
          expect((await asAdmin(env, 'GET', `${base}/${row.id}`)).status).toBe(status === 204 ? 404 : 200);
        },
      };
    },
  });
  //                 anon  viewer exp  admin vKey eKey aKey aKeyE eKeyV server client
  return [
    {
      resource,
      action: 'list',
      expect: '401 200 200 200 200 200 200 200 200 403 403',
      async prepare() {
        return { method: 'GET', path: `${base}?limit=5` };
      },
    },
    {
      resource,
      action: 'get',
      expect: '401 200 200 200 200 200 200 200 200 403 403',
      async prepare(env) {
        const row = await make(env, env.otherId);
        return { method: 'GET', path: `${base}/${row.key}` };
      },
    },
    {
      resource,
      action: 'create',
      expect: '401 403 201 201 403 201 201 201 403 403 403',
      async prepare(env, actor) {
        const key = uniqueKey('rbac-new');
        return {
          method: 'POST',
          path: base,
          body: isFlag ? { key, type: 'boolean' } : { key },
          async check(status) {
            const now = await asAdmin(env, 'GET', `${base}/${key}`);
            expect(now.status).toBe(status === 201 ? 200 : 404);
            // What a management key creates belongs to the key's creator.
            if (status === 201) expect(now.body.data.relationships.owner.data.id).toBe(actor.ownerId);
          },
        };
      },
    },
    update('PATCH', 'own', '401 403 200 200 403 200 200 200 403 403 403'),
    update('PATCH', 'other', '401 403 403 200 403 403 200 403 403 403 403'),
    update('PUT', 'own', '401 403 200 200 403 200 200 200 403 403 403'),
    update('PUT', 'other', '401 403 403 200 403 403 200 403 403 403 403'),
    remove('own', '401 403 204 204 403 204 204 204 403 403 403'),
    remove('other', '401 403 403 204 403 403 204 403 403 403 403'),
  ];
}

const userRows: Row[] = [
  //                                     anon  viewer exp  admin vKey eKey aKey aKeyE eKeyV server client
  {
    resource: 'users',
    action: 'list',
    expect: '401 200 200 200 200 200 200 200 200 403 403',
    async prepare(env, actor) {
      return {
        method: 'GET',
        path: '/api/v1/users?limit=200',
        async check(status) {
          if (status !== 200) return;
          const r = await env.t.request('GET', '/api/v1/users?limit=200', actor.auth);
          const ids = r.body.data.map((u: { id: string }) => u.id);
          // ADMINs see everyone; everybody else sees exactly themselves (a key: its creator).
          if (actor.name === 'admin' || actor.name === 'admin-key') expect(ids).toEqual(expect.arrayContaining([env.adminId, env.otherId]));
          else expect(ids).toEqual([actor.ownerId]);
        },
      };
    },
  },
  {
    resource: 'users',
    action: 'get self',
    expect: '401 200 200 200 200 200 200 200 200 403 403',
    async prepare(_env, actor) {
      return { method: 'GET', path: `/api/v1/users/${actor.ownerId}` };
    },
  },
  {
    resource: 'users',
    action: 'get other',
    expect: '401 403 403 200 403 403 200 403 403 403 403',
    async prepare(env) {
      return { method: 'GET', path: `/api/v1/users/${env.otherId}` };
    },
  },
  {
    resource: 'users',
    action: 'create',
    expect: '401 403 403 201 403 403 201 403 403 403 403',
    async prepare(env) {
      const email = `${uniqueKey('rbac-user')}@test.local`;
      return {
        method: 'POST',
        path: '/api/v1/users',
        body: { email, role: 'VIEWER', password: 'a-long-password' },
        async check(status) {
          expect((await asAdmin(env, 'GET', `/api/v1/users/${email}`)).status).toBe(status === 201 ? 200 : 404);
        },
      };
    },
  },
  {
    resource: 'users',
    action: 'PATCH self',
    expect: '401 403 403 200 403 403 200 403 403 403 403',
    async prepare(env, actor) {
      const name = uniqueKey('self-name');
      return {
        method: 'PATCH',
        path: `/api/v1/users/${actor.ownerId}`,
        body: { name },
        async check(status, body) {
          // Cells run concurrently and two of them rename the ADMIN: trust the reply on success.
          if (status === 200) expect(body.data.attributes.name).toBe(name);
          else expect((await asAdmin(env, 'GET', `/api/v1/users/${actor.ownerId}`)).body.data.attributes.name).not.toBe(name);
        },
      };
    },
  },
  {
    resource: 'users',
    action: 'PATCH other',
    expect: '401 403 403 200 403 403 200 403 403 403 403',
    async prepare(env) {
      const victim = await insertUser(env.t.server.ctx, 'VIEWER');
      return {
        method: 'PATCH',
        path: `/api/v1/users/${victim.id}`,
        body: { role: 'EXPERIMENTER' },
        async check(status) {
          expect((await asAdmin(env, 'GET', `/api/v1/users/${victim.id}`)).body.data.attributes.role).toBe(
            status === 200 ? 'EXPERIMENTER' : 'VIEWER',
          );
        },
      };
    },
  },
  {
    // There is no PUT on users: the route does not exist for anybody.
    resource: 'users',
    action: 'PUT',
    expect: '404 404 404 404 404 404 404 404 404 404 404',
    async prepare(env) {
      return {
        method: 'PUT',
        path: `/api/v1/users/${env.otherId}`,
        body: { email: 'x@test.local', role: 'ADMIN', password: 'a-long-password' },
      };
    },
  },
  {
    resource: 'users',
    action: 'DELETE other',
    expect: '401 403 403 204 403 403 204 403 403 403 403',
    async prepare(env) {
      const victim = await insertUser(env.t.server.ctx, 'EXPERIMENTER');
      return {
        method: 'DELETE',
        path: `/api/v1/users/${victim.id}`,
        async check(status) {
          expect((await asAdmin(env, 'GET', `/api/v1/users/${victim.id}`)).status).toBe(status === 204 ? 404 : 200);
        },
      };
    },
  },
];

const keyRows: Row[] = [
  //                                        anon  viewer exp  admin vKey eKey aKey aKeyE eKeyV server client
  {
    resource: 'api-keys',
    action: 'list',
    expect: '401 200 200 200 200 200 200 200 200 403 403',
    async prepare() {
      return { method: 'GET', path: '/api/v1/api-keys?limit=5' };
    },
  },
  {
    resource: 'api-keys',
    action: 'get own',
    expect: '401 200 200 200 200 200 200 200 200 403 403',
    async prepare(env, actor) {
      const { row } = await insertApiKey(env.t.server.ctx, actor.ownerId, 'management', 'VIEWER');
      return {
        method: 'GET',
        path: `/api/v1/api-keys/${row.id}`,
        async check(status) {
          if (status !== 200) return;
          const r = await env.t.request('GET', `/api/v1/api-keys/${row.id}`, actor.auth);
          expect(r.body.data.attributes).not.toHaveProperty('key');
          expect(r.body.data.attributes).not.toHaveProperty('hash');
        },
      };
    },
  },
  {
    resource: 'api-keys',
    action: 'get other',
    expect: '401 403 403 200 403 403 200 403 403 403 403',
    async prepare(env) {
      const { row } = await insertApiKey(env.t.server.ctx, env.otherId, 'management', 'VIEWER');
      return { method: 'GET', path: `/api/v1/api-keys/${row.id}` };
    },
  },
  {
    resource: 'api-keys',
    action: 'create management (own role)',
    expect: '401 201 201 201 201 201 201 201 201 403 403',
    async prepare() {
      return { method: 'POST', path: '/api/v1/api-keys', body: { name: uniqueKey('rbac-key'), kind: 'management' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'create management VIEWER',
    expect: '401 201 201 201 201 201 201 201 201 403 403',
    async prepare() {
      return { method: 'POST', path: '/api/v1/api-keys', body: { name: uniqueKey('rbac-key'), kind: 'management', role: 'VIEWER' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'create management EXPERIMENTER',
    expect: '401 403 201 201 403 201 201 201 403 403 403',
    async prepare() {
      return { method: 'POST', path: '/api/v1/api-keys', body: { name: uniqueKey('rbac-key'), kind: 'management', role: 'EXPERIMENTER' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'create management ADMIN',
    expect: '401 403 403 201 403 403 201 403 403 403 403',
    async prepare() {
      return { method: 'POST', path: '/api/v1/api-keys', body: { name: uniqueKey('rbac-key'), kind: 'management', role: 'ADMIN' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'create server',
    expect: '401 403 403 201 403 403 201 403 403 403 403',
    async prepare() {
      return { method: 'POST', path: '/api/v1/api-keys', body: { name: uniqueKey('rbac-key'), kind: 'server' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'create client',
    expect: '401 403 403 201 403 403 201 403 403 403 403',
    async prepare() {
      return { method: 'POST', path: '/api/v1/api-keys', body: { name: uniqueKey('rbac-key'), kind: 'client' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'PATCH',
    expect: '404 404 404 404 404 404 404 404 404 404 404',
    async prepare(env, actor) {
      const { row } = await insertApiKey(env.t.server.ctx, actor.ownerId, 'management', 'VIEWER');
      return { method: 'PATCH', path: `/api/v1/api-keys/${row.id}`, body: { name: 'renamed' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'PUT',
    expect: '404 404 404 404 404 404 404 404 404 404 404',
    async prepare(env, actor) {
      const { row } = await insertApiKey(env.t.server.ctx, actor.ownerId, 'management', 'VIEWER');
      return { method: 'PUT', path: `/api/v1/api-keys/${row.id}`, body: { name: 'renamed', kind: 'management' } };
    },
  },
  {
    resource: 'api-keys',
    action: 'DELETE own management key',
    expect: '401 204 204 204 204 204 204 204 204 403 403',
    async prepare(env, actor) {
      const { row, secret } = await insertApiKey(env.t.server.ctx, actor.ownerId, 'management', 'VIEWER');
      return {
        method: 'DELETE',
        path: `/api/v1/api-keys/${row.id}`,
        async check(status) {
          expect((await env.t.request('GET', '/api/v1/feature-flags', { apiKey: secret })).status).toBe(status === 204 ? 401 : 200);
        },
      };
    },
  },
  {
    resource: 'api-keys',
    action: "DELETE other's management key",
    expect: '401 403 403 204 403 403 204 403 403 403 403',
    async prepare(env) {
      const { row, secret } = await insertApiKey(env.t.server.ctx, env.otherId, 'management', 'VIEWER');
      return {
        method: 'DELETE',
        path: `/api/v1/api-keys/${row.id}`,
        async check(status) {
          expect((await env.t.request('GET', '/api/v1/feature-flags', { apiKey: secret })).status).toBe(status === 204 ? 401 : 200);
        },
      };
    },
  },
  {
    // Server and client keys are an ADMIN's business, even when the caller (or a scoped key's
    // creator) is the one who created them: a read-only key must not be able to cut SDKs off.
    resource: 'api-keys',
    action: 'DELETE own server key',
    expect: '401 403 403 204 403 403 204 403 403 403 403',
    async prepare(env, actor) {
      const { row, secret } = await insertApiKey(env.t.server.ctx, actor.ownerId, 'server');
      return {
        method: 'DELETE',
        path: `/api/v1/api-keys/${row.id}`,
        async check(status) {
          const r = await env.t.request('GET', '/api/v1/feature-flags/none/evaluate', { apiKey: secret });
          expect(r.status).toBe(status === 204 ? 401 : 404);
        },
      };
    },
  },
];

const auditRows: Row[] = [
  //                                         anon  viewer exp  admin vKey eKey aKey aKeyE eKeyV server client
  {
    resource: 'audit-log',
    action: 'list',
    expect: '401 403 403 200 403 403 200 403 403 403 403',
    async prepare() {
      return { method: 'GET', path: '/api/v1/audit-log?limit=5' };
    },
  },
  // Append-only: no route reads one record by id or changes the log.
  ...(['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const).map((method): Row => ({
    resource: 'audit-log',
    action: `${method} one record`,
    expect: '404 404 404 404 404 404 404 404 404 404 404',
    async prepare() {
      return { method, path: '/api/v1/audit-log/1', ...(method === 'GET' || method === 'DELETE' ? {} : { body: { action: 'forged' } }) };
    },
  })),
  {
    resource: 'audit-log',
    action: 'POST collection',
    expect: '404 404 404 404 404 404 404 404 404 404 404',
    async prepare() {
      return { method: 'POST', path: '/api/v1/audit-log', body: { action: 'forged' } };
    },
  },
  {
    resource: 'audit-log',
    action: 'DELETE collection',
    expect: '404 404 404 404 404 404 404 404 404 404 404',
    async prepare() {
      return { method: 'DELETE', path: '/api/v1/audit-log' };
    },
  },
];

const evaluateRows: Row[] = [
  //                                                anon  viewer exp  admin vKey eKey aKey aKeyE eKeyV server client
  {
    resource: 'feature-flags',
    action: 'evaluate (SDK keys too)',
    expect: '401 200 200 200 200 200 200 200 200 200 200',
    async prepare(env) {
      const row = await ownedFlag(env.t.server.ctx, env.otherId, { key: uniqueKey('rbac-eval'), enabled: true });
      return { method: 'GET', path: `/api/v1/feature-flags/${row.key}/evaluate?user_id=u1` };
    },
  },
];

/** Changing one's own flag's state in an environment, and promoting onto one. */
function stateRow(action: string, where: (env: MatrixEnv) => string, how: 'patch' | 'promote', statuses: string): Row {
  return {
    resource: 'feature-flags',
    action,
    expect: statuses,
    async prepare(env, actor) {
      // Enabled in production, disabled everywhere else.
      const row = await ownedFlag(env.t.server.ctx, actor.ownerId, { key: uniqueKey('rbac-state'), enabled: true });
      const target = where(env);
      const enabledThere = async () =>
        (await asAdmin(env, 'GET', `/api/v1/feature-flags/${row.key}?environment=${target}`)).body.data.attributes.enabled as boolean;
      return how === 'patch'
        ? {
            method: 'PATCH',
            path: `/api/v1/feature-flags/${row.key}/environments/${target}`,
            body: { enabled: true },
            check: async (status) => expect(await enabledThere()).toBe(status === 200),
          }
        : {
            method: 'POST',
            path: `/api/v1/feature-flags/${row.key}/promote`,
            body: { from: 'production', to: target },
            check: async (status) => expect(await enabledThere()).toBe(status === 200),
          };
    },
  };
}

const environmentRows: Row[] = [
  //                                                anon  viewer exp  admin vKey eKey aKey aKeyE eKeyV server client
  stateRow('PATCH own state, unprotected environment', () => 'development', 'patch', '401 403 200 200 403 200 200 200 403 403 403'),
  stateRow('PATCH own state, protected environment', (env) => env.locked, 'patch', '401 403 403 200 403 403 200 403 403 403 403'),
  stateRow('promote own onto a protected environment', (env) => env.locked, 'promote', '401 403 403 200 403 403 200 403 403 403 403'),
  {
    resource: 'environments',
    action: 'list',
    expect: '401 200 200 200 200 200 200 200 200 403 403',
    async prepare() {
      return { method: 'GET', path: '/api/v1/environments' };
    },
  },
  {
    resource: 'environments',
    action: 'create',
    expect: '401 403 403 201 403 403 201 403 403 403 403',
    async prepare(env) {
      const key = uniqueKey('rbac-env');
      return {
        method: 'POST',
        path: '/api/v1/environments',
        body: { key },
        check: async (status) => expect((await asAdmin(env, 'GET', `/api/v1/environments/${key}`)).status).toBe(status === 201 ? 200 : 404),
      };
    },
  },
  {
    resource: 'environments',
    action: 'PATCH',
    expect: '401 403 403 200 403 403 200 403 403 403 403',
    async prepare(env) {
      const key = uniqueKey('rbac-env');
      await env.t.request('POST', '/api/v1/environments', { token: env.t.adminToken, body: { key, name: 'before' } });
      return {
        method: 'PATCH',
        path: `/api/v1/environments/${key}`,
        body: { name: 'after' },
        check: async (status) =>
          expect((await asAdmin(env, 'GET', `/api/v1/environments/${key}`)).body.data.attributes.name).toBe(
            status === 200 ? 'after' : 'before',
          ),
      };
    },
  },
  {
    resource: 'environments',
    action: 'DELETE',
    expect: '401 403 403 204 403 403 204 403 403 403 403',
    async prepare(env) {
      const key = uniqueKey('rbac-env');
      await env.t.request('POST', '/api/v1/environments', { token: env.t.adminToken, body: { key } });
      return {
        method: 'DELETE',
        path: `/api/v1/environments/${key}`,
        check: async (status) => expect((await asAdmin(env, 'GET', `/api/v1/environments/${key}`)).status).toBe(status === 204 ? 404 : 200),
      };
    },
  },
];

/** Every row of the matrix. */
export const ROWS: Row[] = [
  ...resourceRows('feature-flags'),
  ...environmentRows,
  ...evaluateRows,
  ...resourceRows('segments'),
  ...userRows,
  ...keyRows,
  ...auditRows,
];

/** Flattens the rows into one case per (row, actor) with its expected status. */
export function cells(): { row: Row; actor: ActorName; status: number; label: string }[] {
  const out: { row: Row; actor: ActorName; status: number; label: string }[] = [];
  for (const row of ROWS) {
    const statuses = row.expect.trim().split(/\s+/).map(Number);
    if (statuses.length !== ACTORS.length)
      throw new Error(`row ${row.resource} ${row.action} has ${statuses.length} statuses, expected ${ACTORS.length}`);
    ACTORS.forEach((actor, i) =>
      out.push({ row, actor, status: statuses[i]!, label: `${row.resource} | ${row.action} | ${actor} -> ${statuses[i]}` }),
    );
  }
  return out;
}
