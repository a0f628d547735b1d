import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../src/store/postgres/postgres-store';
import { noExclusions } from '../src/store/run-attribution';
import { PG_MIGRATIONS } from '../src/store/postgres/migrations';
import { MIGRATIONS } from '../src/store/sqlite/migrations';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store';
import { isUniqueViolation } from '../src/store/store-errors';
import { isVersionConflict, VERSION_CONFLICT_ERROR_CODE } from '../src/store/types';
import type { ApiKeyRow, AuditRecord, ResourceKind, ResourceRow, Store, StoredEvent, UnitOfWork, UserRow } from '../src/store/types';
import { storedEvent as event, storedExposure as exposure } from './stored-events';
import { startPostgres, type TestPostgres } from './services';
import { prng } from '../src/services/infra/prng';

/** A duplicate is the typed unique violation on both stores, worded as SQLite words it. */
const isDuplicate = (e: unknown): boolean => isUniqueViolation(e) && /^UNIQUE constraint failed/.test((e as Error).message);

/**
 * One behavioural suite, run against the SQLite store and the PostgreSQL store: whatever the
 * server relies on must hold on both.
 */

interface Harness {
  store: Store;
  /** Runs raw SQL on a separate connection (to poke at the database behind the store's back). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

let postgres: TestPostgres;

const harnesses: Record<'sqlite' | 'postgres', () => Promise<Harness>> = {
  async sqlite() {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-contract-'));
    const path = join(dir, 'store.db');
    const store = openSqliteStore(path);
    return {
      store,
      async exec(sql) {
        const db = new Database(path);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  async postgres() {
    const url = await postgres.createDatabase(undefined, migratedTemplate);
    const store = await openPostgresStore(url);
    return {
      store,
      async exec(sql) {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(sql);
        } finally {
          await c.end();
        }
      },
      close: () => store.close(),
    };
  },
};

/** A database the store migrated once: each test's database is a copy of it, not migrated again. */
let migratedTemplate: string;

beforeAll(async () => {
  postgres = await startPostgres();
  migratedTemplate = 'contract_migrated';
  await (await openPostgresStore(await postgres.createDatabase(migratedTemplate))).close();
});
afterAll(async () => {
  await postgres?.stop();
});

const T0 = '2025-01-01T00:00:00.000Z';

function resource(kind: ResourceKind, key: string, extra: Partial<ResourceRow> = {}): ResourceRow {
  return {
    seq: 0,
    id: randomUUID(),
    kind,
    environment: kind === 'experiment' ? 'production' : null,
    key,
    ownerId: 'owner-1',
    status: kind === 'experiment' ? 'DRAFT' : null,
    data: { key, name: `Name of ${key}`, enabled: true },
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function audit(action: string, resourceId: string | null, extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    at: T0,
    actorType: 'user',
    actorId: 'actor-1',
    actorLabel: 'Ada',
    action,
    resourceType: 'flag',
    resourceId,
    resourceKey: null,
    before: null,
    after: { n: 1 },
    requestId: 'req-1',
    ip: '127.0.0.1',
    userAgent: 'vitest',
    ...extra,
  };
}

const flagPatch = (key: string) =>
  ({ flags: { [key]: { key, type: 'boolean', enabled: true } } }) as unknown as NonNullable<UnitOfWork['configPatches']>[string];

function user(email: string, extra: Partial<UserRow> = {}): UserRow {
  return {
    seq: 0,
    id: randomUUID(),
    email,
    name: 'U',
    role: 'VIEWER',
    passwordHash: 'h',
    source: 'local',
    tokenVersion: 0,
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  };
}

function apiKey(name: string, createdBy: string | null, extra: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return {
    seq: 0,
    id: randomUUID(),
    name,
    kind: 'server',
    role: null,
    environment: 'production',
    prefix: 'sy_srv_abc',
    hash: `hash-${randomUUID()}`,
    createdBy,
    version: 1,
    createdAt: T0,
    lastUsedAt: null,
    revokedAt: null,
    allowedMetrics: null,
    ...extra,
  };
}

describe.each(['sqlite', 'postgres'] as const)('store contract: %s', (kind) => {
  let h: Harness;
  let store: Store;
  beforeEach(async () => {
    h = await harnesses[kind]();
    store = h.store;
  });
  afterEach(async () => {
    await h.close();
  });

  it('reports its kind and answers ping', async () => {
    expect(store.kind).toBe(kind);
    expect(await store.ping()).toBe(true);
  });

  it('commits rows, config patch and audit record together; config versions are one monotonic sequence', async () => {
    expect(await store.configVersion('production')).toBe(0);
    const plain = await store.commit({
      writes: [{ table: 'users', action: 'insert', row: user('a@x.test') }],
      audit: audit('user.create', null),
    });
    expect(plain.versions).toEqual({});
    expect(await store.configVersion('production')).toBe(0);
    const versions: (number | null)[] = [];
    for (const key of ['a', 'b', 'c']) {
      const r = resource('flag', key);
      versions.push(
        (
          await store.commit({
            writes: [{ table: 'resources', action: 'insert', row: r }],
            configPatches: { production: flagPatch(key) },
            audit: audit('flag.create', r.id),
          })
        ).versions.production!,
      );
    }
    expect(versions).toEqual([1, 2, 3]);
    expect(await store.configVersion('production')).toBe(3);
    const log = await store.configLogSince('production', 0, 10);
    expect(log.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(log.map((e) => e.patch.version)).toEqual([1, 2, 3]);
    expect(log[1]!.patch).toEqual({ ...flagPatch('b'), version: 2 });
    expect((await store.configLogSince('production', 1, 1)).map((e) => e.version)).toEqual([2]);
    expect(await store.configLogSince('production', 3, 10)).toEqual([]);
    expect((await store.listAudit({ limit: 10 })).items.map((a) => a.action)).toEqual([
      'flag.create',
      'flag.create',
      'flag.create',
      'user.create',
    ]);
  });

  it('gives concurrent commits distinct, gap-free versions, logged in version order', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const r = resource('flag', `f${i}`);
        return store.commit({
          writes: [{ table: 'resources', action: 'insert', row: r }],
          configPatches: { production: flagPatch(r.key) },
          audit: audit('flag.create', r.id),
        });
      }),
    );
    expect(results.map((r) => r.versions.production!).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const log = await store.configLogSince('production', 0, 100);
    expect(log.map((e) => e.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await store.configVersion('production')).toBe(20);
  });

  it('enforces UNIQUE(ns, key) with an error naming UNIQUE, and a failed unit of work leaves nothing behind', async () => {
    const flag = resource('flag', 'shared');
    await store.commit({
      writes: [{ table: 'resources', action: 'insert', row: flag }],
      configPatches: { production: flagPatch('shared') },
      audit: audit('flag.create', flag.id),
    });
    const auditBefore = (await store.listAudit({ limit: 100 })).items.length;
    // Flags and experiments share a namespace: this unit of work must fail as a whole.
    const exp = resource('experiment', 'shared');
    const other = resource('flag', 'innocent');
    await expect(
      store.commit({
        writes: [
          { table: 'resources', action: 'insert', row: other },
          { table: 'resources', action: 'insert', row: exp },
        ],
        configPatches: { production: flagPatch('x') },
        audit: audit('experiment.create', exp.id),
      }),
    ).rejects.toSatisfy(isDuplicate);
    expect(await store.configVersion('production')).toBe(1);
    expect(await store.configLogSince('production', 1, 10)).toEqual([]);
    expect(await store.getResource('flag', 'innocent')).toBeNull();
    expect((await store.listAudit({ limit: 100 })).items.length).toBe(auditBefore);
    await expect(store.commit({ writes: [{ table: 'resources', action: 'insert', row: resource('flag', 'shared') }] })).rejects.toSatisfy(
      isDuplicate,
    );
    // Segments have their own namespace.
    await store.commit({ writes: [{ table: 'resources', action: 'insert', row: resource('segment', 'shared') }] });
    expect((await store.getResource('segment', 'shared'))?.kind).toBe('segment');
    // The next config commit continues the sequence.
    const next = resource('flag', 'after');
    expect(
      (
        await store.commit({
          writes: [{ table: 'resources', action: 'insert', row: next }],
          configPatches: { production: flagPatch('after') },
        })
      ).versions.production,
    ).toBeGreaterThan(1);
  });

  it('reads, updates and deletes resources; rows round-trip exactly (JSON key order included)', async () => {
    const data = { zeta: 1, alpha: { b: [1, 2.5, null, 'x'], a: true }, name: 'Ünïcode ✓', key: 'rt', n: -0.125 };
    const row = resource('experiment', 'rt', { data, status: 'RUNNING', ownerId: null });
    await store.commit({ writes: [{ table: 'resources', action: 'insert', row }] });
    const byId = await store.getResource('experiment', row.id);
    const byKey = await store.getResource('experiment', 'rt');
    expect(byId).toEqual(byKey);
    expect(byId).toMatchObject({
      id: row.id,
      kind: 'experiment',
      key: 'rt',
      ownerId: null,
      status: 'RUNNING',
      version: 1,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(typeof byId!.seq).toBe('number');
    expect(JSON.stringify(byId!.data)).toBe(JSON.stringify(data));
    expect(await store.getResource('flag', 'rt')).toBeNull();
    expect((await store.findByKey(['flag', 'experiment'], 'rt'))?.id).toBe(row.id);
    expect(await store.findByKey(['flag'], 'rt')).toBeNull();
    expect(await store.findByKey(['segment'], 'rt')).toBeNull();

    const updated = { ...byId!, status: 'STOPPED', ownerId: 'owner-2', data: { ...data, zeta: 2 }, updatedAt: '2025-02-01T00:00:00.000Z' };
    await store.commit({ writes: [{ table: 'resources', action: 'update', row: updated }] });
    const after = await store.getResource('experiment', row.id);
    // An update is made from the version it read and stores the next one.
    expect(after).toEqual({ ...updated, seq: byId!.seq, version: 2 });
    expect((await store.allResources('experiment')).map((r) => r.id)).toEqual([row.id]);

    await store.commit({ writes: [{ table: 'resources', action: 'delete', id: row.id }] });
    expect(await store.getResource('experiment', row.id)).toBeNull();
    expect(await store.allResources('experiment')).toEqual([]);
  });

  it('updates and versioned deletes are compare-and-sets: a stale version fails the whole unit of work, writing nothing', async () => {
    const row = resource('flag', 'cas');
    const other = resource('segment', 'cas-other');
    await store.commit({
      writes: [
        { table: 'resources', action: 'insert', row },
        { table: 'resources', action: 'insert', row: other },
      ],
    });
    const v1 = (await store.getResource('flag', 'cas'))!;
    await store.commit({ writes: [{ table: 'resources', action: 'update', row: { ...v1, data: { ...v1.data, name: 'first' } } }] });
    const logBefore = await store.configVersion('production');
    const auditBefore = (await store.listAudit({ limit: 100 })).items.length;
    // Made from version 1, which is no longer stored: nothing of the unit is written.
    const stale = store.commit({
      writes: [
        { table: 'resources', action: 'update', row: { ...other, data: { ...other.data, name: 'side effect' } } },
        { table: 'resources', action: 'update', row: { ...v1, data: { ...v1.data, name: 'lost update' } } },
      ],
      configPatches: { production: flagPatch('cas') },
      audit: audit('flag.update', v1.id),
    });
    await expect(stale).rejects.toMatchObject({ code: VERSION_CONFLICT_ERROR_CODE });
    expect(isVersionConflict(await stale.catch((e: unknown) => e))).toBe(true);
    expect(await store.getResource('flag', 'cas')).toMatchObject({ version: 2, data: { name: 'first' } });
    expect(await store.getResource('segment', 'cas-other')).toMatchObject({ version: 1, data: { name: 'Name of cas-other' } });
    expect(await store.configVersion('production')).toBe(logBefore);
    expect((await store.listAudit({ limit: 100 })).items.length).toBe(auditBefore);
    await expect(store.commit({ writes: [{ table: 'resources', action: 'delete', id: row.id, version: 1 }] })).rejects.toMatchObject({
      code: VERSION_CONFLICT_ERROR_CODE,
    });
    expect(await store.getResource('flag', 'cas')).not.toBeNull();
    await store.commit({ writes: [{ table: 'resources', action: 'delete', id: row.id, version: 2 }] });
    expect(await store.getResource('flag', 'cas')).toBeNull();
    // Users and API keys the same way; recording a key's use is not a change.
    const u = user('cas@test.local');
    const k = apiKey('cas', u.id);
    await store.commit({
      writes: [
        { table: 'users', action: 'insert', row: u },
        { table: 'api_keys', action: 'insert', row: k },
      ],
    });
    await store.touchApiKey(k.id, '2025-04-01T00:00:00.000Z');
    const k1 = (await store.getApiKey(k.id))!;
    expect(k1.version).toBe(1);
    await store.commit({ writes: [{ table: 'api_keys', action: 'update', row: { ...k1, name: 'renamed' } }] });
    await expect(store.commit({ writes: [{ table: 'api_keys', action: 'update', row: { ...k1, name: 'stale' } }] })).rejects.toMatchObject({
      code: VERSION_CONFLICT_ERROR_CODE,
    });
    expect(await store.getApiKey(k.id)).toMatchObject({ name: 'renamed', version: 2 });
    const u1 = (await store.getUser(u.id))!;
    await store.commit({ writes: [{ table: 'users', action: 'update', row: { ...u1, name: 'first' } }] });
    await expect(store.commit({ writes: [{ table: 'users', action: 'update', row: { ...u1, name: 'stale' } }] })).rejects.toMatchObject({
      code: VERSION_CONFLICT_ERROR_CODE,
    });
    await expect(store.commit({ writes: [{ table: 'users', action: 'delete', id: u.id, version: 1 }] })).rejects.toMatchObject({
      code: VERSION_CONFLICT_ERROR_CODE,
    });
    expect(await store.getUser(u.id)).toMatchObject({ name: 'first', version: 2 });
  });

  it('pages resources with seq cursors and filters by status, owner and q (key or name, case-insensitive)', async () => {
    const rows = [
      resource('flag', 'checkout-v2', { ownerId: 'o1', status: 'a', data: { name: 'New Checkout' } }),
      resource('flag', 'search', { ownerId: 'o2', status: 'a', data: { name: 'Search ranking' } }),
      resource('flag', 'banner', { ownerId: 'o1', status: 'b', data: { name: 'CHECKOUT banner' } }),
      resource('flag', 'dark-mode', { ownerId: 'o1', status: 'a', data: {} }),
      resource('flag', 'footer', { ownerId: 'o2', status: 'b', data: { name: 'Footer' } }),
    ];
    for (const r of rows) await store.commit({ writes: [{ table: 'resources', action: 'insert', row: r }] });
    await store.commit({ writes: [{ table: 'resources', action: 'insert', row: resource('segment', 'seg') }] });
    const keys: string[] = [];
    let after: number | undefined;
    let pages = 0;
    for (;;) {
      const p = await store.listResources('flag', { limit: 2, ...(after !== undefined ? { after } : {}) });
      pages++;
      keys.push(...p.items.map((r) => r.key));
      if (p.nextCursor === null) break;
      expect(p.nextCursor).toBe(p.items[p.items.length - 1]!.seq);
      after = p.nextCursor;
    }
    expect(pages).toBe(3);
    expect(keys).toEqual(rows.map((r) => r.key));
    const exact = await store.listResources('flag', { limit: 5 });
    expect(exact.nextCursor).toBeNull();
    expect((await store.listResources('flag', { limit: 10, status: 'a' })).items.map((r) => r.key)).toEqual([
      'checkout-v2',
      'search',
      'dark-mode',
    ]);
    expect((await store.listResources('flag', { limit: 10, ownerId: 'o2' })).items.map((r) => r.key)).toEqual(['search', 'footer']);
    expect((await store.listResources('flag', { limit: 10, q: 'checkout' })).items.map((r) => r.key)).toEqual(['checkout-v2', 'banner']);
    expect((await store.listResources('flag', { limit: 10, q: 'DARK' })).items.map((r) => r.key)).toEqual(['dark-mode']);
    expect((await store.listResources('flag', { limit: 10, q: 'a', status: 'b', ownerId: 'o1' })).items.map((r) => r.key)).toEqual([
      'banner',
    ]);
    expect((await store.listResources('flag', { limit: 10, q: '' })).items.length).toBe(5);
    expect((await store.listResources('segment', { limit: 10 })).items.map((r) => r.key)).toEqual(['seg']);
  });

  it('users: case-insensitive email lookup and uniqueness, paging, count, update and delete', async () => {
    const ada = user('Ada@Example.test', { role: 'ADMIN', passwordHash: null, source: 'oidc' });
    await store.commit({ writes: [{ table: 'users', action: 'insert', row: ada }] });
    expect(await store.getUserByEmail('ada@example.TEST')).toEqual({ ...ada, seq: (await store.getUser(ada.id))!.seq });
    await expect(store.commit({ writes: [{ table: 'users', action: 'insert', row: user('ADA@example.test') }] })).rejects.toSatisfy(
      isDuplicate,
    );
    for (let i = 0; i < 4; i++) await store.commit({ writes: [{ table: 'users', action: 'insert', row: user(`u${i}@x.test`) }] });
    expect(await store.countUsers()).toBe(5);
    const first = await store.listUsers(undefined, 3);
    expect(first.items.map((u) => u.email)).toEqual(['Ada@Example.test', 'u0@x.test', 'u1@x.test']);
    const second = await store.listUsers(first.nextCursor!, 3);
    expect(second.items.map((u) => u.email)).toEqual(['u2@x.test', 'u3@x.test']);
    expect(second.nextCursor).toBeNull();
    const changed = {
      ...(await store.getUser(ada.id))!,
      email: 'ada@new.test',
      name: null,
      role: 'VIEWER' as const,
      passwordHash: 'p2',
      updatedAt: '2025-03-01T00:00:00.000Z',
    };
    await store.commit({ writes: [{ table: 'users', action: 'update', row: changed }] });
    expect(await store.getUser(ada.id)).toEqual({ ...changed, source: 'oidc', version: 2 });
    expect(await store.getUserByEmail('Ada@Example.test')).toBeNull();
    await store.commit({ writes: [{ table: 'users', action: 'delete', id: ada.id }] });
    expect(await store.getUser(ada.id)).toBeNull();
    expect(await store.countUsers()).toBe(4);
  });

  it('API keys: lookup by id and hash, listing by creator with paging, touch and revoke', async () => {
    const keys = [
      apiKey('k1', 'alice'),
      apiKey('k2', 'bob'),
      apiKey('k3', 'alice', { kind: 'management', role: 'EXPERIMENTER' }),
      apiKey('k4', 'alice'),
    ];
    for (const k of keys) await store.commit({ writes: [{ table: 'api_keys', action: 'insert', row: k }] });
    await expect(
      store.commit({ writes: [{ table: 'api_keys', action: 'insert', row: apiKey('dup', null, { hash: keys[0]!.hash }) }] }),
    ).rejects.toSatisfy(isDuplicate);
    expect(await store.countApiKeys()).toBe(4);
    const k3 = await store.getApiKeyByHash(keys[2]!.hash);
    expect(k3).toEqual({ ...keys[2], seq: k3!.seq });
    expect(await store.getApiKey(keys[2]!.id)).toEqual(k3);
    expect(await store.getApiKey(keys[3]!.id)).toEqual({ ...keys[3], seq: expect.any(Number) });
    const all = await store.listApiKeys(undefined, undefined, 3);
    expect(all.items.map((k) => k.name)).toEqual(['k1', 'k2', 'k3']);
    expect((await store.listApiKeys(undefined, all.nextCursor!, 3)).items.map((k) => k.name)).toEqual(['k4']);
    const alice = await store.listApiKeys('alice', undefined, 2);
    expect(alice.items.map((k) => k.name)).toEqual(['k1', 'k3']);
    expect((await store.listApiKeys('alice', alice.nextCursor!, 2)).items.map((k) => k.name)).toEqual(['k4']);
    await store.touchApiKey(keys[0]!.id, '2025-04-01T00:00:00.000Z');
    expect((await store.getApiKey(keys[0]!.id))!.lastUsedAt).toBe('2025-04-01T00:00:00.000Z');
    await store.commit({
      writes: [{ table: 'api_keys', action: 'update', row: { ...keys[0]!, name: 'renamed', revokedAt: '2025-05-01T00:00:00.000Z' } }],
    });
    expect(await store.getApiKey(keys[0]!.id)).toMatchObject({
      name: 'renamed',
      revokedAt: '2025-05-01T00:00:00.000Z',
      lastUsedAt: '2025-04-01T00:00:00.000Z',
    });
  });

  it('audit log: newest first, filters, paging; the database refuses UPDATE and DELETE', async () => {
    await store.commit({
      writes: [],
      audit: audit('flag.create', 'id-1', { resourceKey: 'alpha', before: undefined, after: { nested: { a: [1] } } }),
    });
    await store.commit({
      writes: [],
      audit: audit('flag.update', 'id-1', { resourceKey: 'alpha', actorId: 'actor-2', before: { a: 1 }, after: null }),
    });
    await store.commit({
      writes: [],
      audit: audit('segment.create', 'id-2', {
        resourceType: 'segment',
        resourceKey: 'beta',
        actorType: 'system',
        actorId: null,
        ip: null,
      }),
    });
    await store.commit({ writes: [], audit: audit('flag.delete', 'id-1', { resourceKey: 'alpha' }) });
    const all = await store.listAudit({ limit: 10 });
    expect(all.items.map((a) => a.action)).toEqual(['flag.delete', 'segment.create', 'flag.update', 'flag.create']);
    expect(all.items[3]).toMatchObject({
      before: null,
      after: { nested: { a: [1] } },
      requestId: 'req-1',
      userAgent: 'vitest',
      at: T0,
      actorLabel: 'Ada',
    });
    expect(all.items[1]).toMatchObject({ actorType: 'system', actorId: null, ip: null, resourceType: 'segment' });
    expect(all.items[0]!.seq).toBeGreaterThan(all.items[1]!.seq);
    const p1 = await store.listAudit({ limit: 3 });
    expect(p1.nextCursor).toBe(p1.items[2]!.seq);
    expect((await store.listAudit({ limit: 3, after: p1.nextCursor! })).items.map((a) => a.action)).toEqual(['flag.create']);
    expect((await store.listAudit({ limit: 10, actorId: 'actor-2' })).items.map((a) => a.action)).toEqual(['flag.update']);
    expect((await store.listAudit({ limit: 10, action: 'flag.create' })).items.length).toBe(1);
    expect((await store.listAudit({ limit: 10, resourceType: 'segment' })).items.map((a) => a.resourceKey)).toEqual(['beta']);
    // resourceId matches the id or the key
    expect((await store.listAudit({ limit: 10, resourceId: 'alpha' })).items.length).toBe(3);
    expect((await store.listAudit({ limit: 10, resourceId: 'id-2' })).items.length).toBe(1);

    await expect(h.exec("UPDATE audit_log SET action = 'forged'")).rejects.toThrow(/append-only/);
    await expect(h.exec('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    expect((await store.listAudit({ limit: 10 })).items.map((a) => a.action)).toEqual([
      'flag.delete',
      'segment.create',
      'flag.update',
      'flag.create',
    ]);
  });

  it('settings: absent, set, overwritten', async () => {
    expect(await store.getSetting('jwt_secret')).toBeNull();
    await store.setSetting('jwt_secret', 's1');
    expect(await store.getSetting('jwt_secret')).toBe('s1');
    await store.setSetting('jwt_secret', 's2');
    expect(await store.getSetting('jwt_secret')).toBe('s2');
  });

  it('events: idempotent by id within a batch, across batches of one group and across calls (a 2,500-event batch included)', async () => {
    const big = Array.from({ length: 2500 }, (_, i) =>
      event(`big-${String(i).padStart(5, '0')}`, { unitId: `u${i % 50}`, value: i / 4, properties: { i, tag: 'x' } }),
    );
    const [r1] = await store.insertEventBatches([big]);
    expect(r1).toEqual({ accepted: 2500, duplicates: 0 });
    // The same ids again, mixed with new ones; a repeat inside one batch counts as a duplicate.
    const results = await store.insertEventBatches([
      [event('big-00001'), event('n1'), event('n1'), event('n2')],
      [event('n2'), event('n3')],
      big.slice(0, 1200),
    ]);
    expect(results).toEqual([
      { accepted: 2, duplicates: 2 },
      { accepted: 1, duplicates: 1 },
      { accepted: 0, duplicates: 1200 },
    ]);
    expect(await store.countEvents()).toBe(2503);
    expect(await store.insertEventBatches([[event('n3')], []])).toEqual([
      { accepted: 0, duplicates: 1 },
      { accepted: 0, duplicates: 0 },
    ]);
    expect(await store.countEvents()).toBe(2503);
  });

  it('deletes events older than a cutoff', async () => {
    await store.insertEventBatches([
      [event('old1', { timestamp: 100 }), event('old2', { timestamp: 199 }), event('new', { timestamp: 200 })],
    ]);
    expect(await store.deleteEventsBefore(200)).toBe(2);
    expect(await store.countEvents()).toBe(1);
    expect(await store.deleteEventsBefore(200)).toBe(0);
  });

  it('deletes a backlog larger than one retention chunk (PostgreSQL deletes 10,000 at a time), and only what is older', async () => {
    const batches = Array.from({ length: 25 }, (_, b) =>
      Array.from({ length: 1000 }, (_, i) => event(`bulk-${b}-${i}`, { timestamp: 1000 + b * 1000 + i })),
    );
    await store.insertEventBatches(batches);
    const before = await store.countEvents();
    expect(await store.deleteEventsBefore(1000 + 22_000)).toBe(22_000);
    expect(await store.countEvents()).toBe(before - 22_000);
    expect(await store.deleteEventsBefore(1000 + 22_000)).toBe(0);
  });

  it('experiment units: first variant kept, a second variant excludes the unit, resent exposures change nothing, earliest exposure wins', async () => {
    await store.insertEventBatches([
      [
        exposure('e1', 'u1', 'A', 1000),
        exposure('e2', 'u2', 'B', 1000),
        exposure('e3', 'u3', 'A', 1000),
        // the same unit twice in one batch, same variant, earlier second
        exposure('e4', 'u4', 'B', 900),
        exposure('e5', 'u4', 'B', 500),
        // conflict inside one batch
        exposure('e6', 'u5', 'A', 1000),
        exposure('e7', 'u5', 'B', 1100),
      ],
    ]);
    let agg = await store.experimentAggregates('production', 'exp', []);
    expect(agg).toEqual({
      units: { A: 2, B: 2 },
      excludedUnits: 1,
      exclusions: { ...noExclusions(), multiple_variants: 1 },
      exclusionsBySender: [],
      metrics: {},
    });
    // A resent exposure with another variant is a duplicate id: nothing moves.
    await store.insertEventBatches([[exposure('e1', 'u1', 'B', 1000)]]);
    agg = await store.experimentAggregates('production', 'exp', []);
    expect(agg).toEqual({
      units: { A: 2, B: 2 },
      excludedUnits: 1,
      exclusions: { ...noExclusions(), multiple_variants: 1 },
      exclusionsBySender: [],
      metrics: {},
    });
    // A new exposure of u1 to B (across calls) excludes u1; a new one of u2 to B keeps u2.
    await store.insertEventBatches([[exposure('e8', 'u1', 'B', 2000)], [exposure('e9', 'u2', 'B', 3000)]]);
    agg = await store.experimentAggregates('production', 'exp', []);
    expect(agg).toEqual({
      units: { A: 1, B: 2 },
      excludedUnits: 2,
      exclusions: { ...noExclusions(), multiple_variants: 2 },
      exclusionsBySender: [],
      metrics: {},
    });
    // Earliest exposure wins: u3 exposed at 1000, tracked at 800 -> not counted; then an exposure at 700 arrives late.
    await store.insertEventBatches([[event('t1', { unitId: 'u3', key: 'buy', timestamp: 800, value: 5 })]]);
    expect((await store.experimentAggregates('production', 'exp', [{ key: 'buy', type: 'mean' }])).metrics).toEqual({ buy: {} });
    await store.insertEventBatches([[exposure('e10', 'u3', 'A', 700)]]);
    expect(
      (
        await store.experimentAggregates('production', 'exp', [
          { key: 'buy', type: 'mean' },
          { key: 'buy-conv', type: 'conversion' },
        ])
      ).metrics,
    ).toEqual({
      buy: { A: { sum: 5, sumSquares: 25, unitsWithEvents: 1 } },
      'buy-conv': {},
    });
    // Other experiments are separate.
    expect(await store.experimentAggregates('production', 'other', [{ key: 'buy', type: 'conversion' }])).toEqual({
      units: {},
      excludedUnits: 0,
      exclusions: { ...noExclusions(), multiple_variants: 0 },
      exclusionsBySender: [],
      metrics: { buy: {} },
    });
  });

  const BUY = [
    { key: 'buy', type: 'mean' as const },
    { key: 'buy', type: 'conversion' as const },
  ];
  const sums = async (experiment = 'exp', metric: { key: string; type: 'mean' | 'conversion' } = BUY[0]!) =>
    (await store.experimentAggregates('production', experiment, [metric])).metrics[metric.key];

  it('unit metrics: a track that arrives before its exposure counts when its timestamp is at or after the exposure, not before', async () => {
    await store.insertEventBatches([
      [
        event('t-late', { unitId: 'u1', key: 'buy', timestamp: 1500, value: 4 }),
        event('t-same', { unitId: 'u1', key: 'buy', timestamp: 1000, value: 2 }),
        event('t-early', { unitId: 'u1', key: 'buy', timestamp: 999, value: 100 }),
        event('t-other', { unitId: 'u2', key: 'buy', timestamp: 5000 }),
      ],
    ]);
    expect(await sums()).toEqual({});
    // Exposure in a later call.
    await store.insertEventBatches([[exposure('x1', 'u1', 'A', 1000)]]);
    expect(await sums()).toEqual({ A: { sum: 6, sumSquares: 36, unitsWithEvents: 1 } });
    // In the same batch, after and before the track.
    await store.insertEventBatches([
      [
        event('t3', { unitId: 'u3', key: 'buy', timestamp: 2000, value: 1.5 }),
        exposure('x3', 'u3', 'B', 1000),
        exposure('x4', 'u4', 'B', 1000),
        event('t4', { unitId: 'u4', key: 'buy', timestamp: 1000 }),
        event('t4-early', { unitId: 'u4', key: 'buy', timestamp: 10 }),
      ],
    ]);
    expect(await sums()).toEqual({
      A: { sum: 6, sumSquares: 36, unitsWithEvents: 1 },
      B: { sum: 2.5, sumSquares: 3.25, unitsWithEvents: 2 },
    });
    expect(await sums('exp', BUY[1])).toEqual({
      A: { sum: 1, sumSquares: 1, unitsWithEvents: 1 },
      B: { sum: 2, sumSquares: 2, unitsWithEvents: 2 },
    });
    // A track after the exposures adds to the unit's sum; u2 was never exposed.
    await store.insertEventBatches([
      [event('t5', { unitId: 'u1', key: 'buy', timestamp: 3000, value: -1 }), event('t6', { unitId: 'u2', key: 'buy', timestamp: 6000 })],
    ]);
    expect(await sums()).toEqual({
      A: { sum: 5, sumSquares: 25, unitsWithEvents: 1 },
      B: { sum: 2.5, sumSquares: 3.25, unitsWithEvents: 2 },
    });
    expect((await store.experimentAggregates('production', 'exp', [])).units).toEqual({ A: 1, B: 2 });
  });

  it('unit metrics: an earlier exposure that arrives later moves the first exposure back and more events count, once', async () => {
    await store.insertEventBatches([
      [
        exposure('x1', 'u1', 'A', 1000),
        event('t1', { unitId: 'u1', key: 'buy', timestamp: 400, value: 1 }),
        event('t2', { unitId: 'u1', key: 'buy', timestamp: 700, value: 2 }),
        event('t3', { unitId: 'u1', key: 'buy', timestamp: 1200, value: 4 }),
        event('t4', { unitId: 'u1', key: 'view', timestamp: 800 }),
      ],
    ]);
    expect(await sums()).toEqual({ A: { sum: 4, sumSquares: 16, unitsWithEvents: 1 } });
    expect(await sums('exp', { key: 'view', type: 'conversion' })).toEqual({});
    await store.insertEventBatches([[exposure('x2', 'u1', 'A', 600)]]);
    expect(await sums()).toEqual({ A: { sum: 6, sumSquares: 36, unitsWithEvents: 1 } });
    expect(await sums('exp', { key: 'view', type: 'conversion' })).toEqual({ A: { sum: 1, sumSquares: 1, unitsWithEvents: 1 } });
    // A later exposure changes nothing; an even earlier one (with a track in the same batch) adds the rest.
    await store.insertEventBatches([[exposure('x3', 'u1', 'A', 5000)]]);
    expect(await sums()).toEqual({ A: { sum: 6, sumSquares: 36, unitsWithEvents: 1 } });
    await store.insertEventBatches([
      [
        event('t5', { unitId: 'u1', key: 'buy', timestamp: 300, value: 8 }),
        exposure('x4', 'u1', 'A', 300),
        event('t6', { unitId: 'u1', key: 'buy', timestamp: 350, value: 16 }),
      ],
    ]);
    expect(await sums()).toEqual({ A: { sum: 31, sumSquares: 961, unitsWithEvents: 1 } });
    // Another experiment of the same unit keeps its own first exposure.
    await store.insertEventBatches([[exposure('y1', 'u1', 'C', 1100, 'exp2')]]);
    expect(await sums('exp2')).toEqual({ C: { sum: 4, sumSquares: 16, unitsWithEvents: 1 } });
    await store.insertEventBatches([[event('t7', { unitId: 'u1', key: 'buy', timestamp: 1100, value: 0.5 })]]);
    expect(await sums('exp2')).toEqual({ C: { sum: 4.5, sumSquares: 20.25, unitsWithEvents: 1 } });
    expect(await sums()).toEqual({ A: { sum: 31.5, sumSquares: 992.25, unitsWithEvents: 1 } });
  });

  it('unit metrics: a unit exposed to a second variant leaves the metrics and is counted as excluded, whatever arrives later', async () => {
    await store.insertEventBatches([
      [
        exposure('x1', 'u1', 'A', 1000),
        exposure('x2', 'u2', 'A', 1000),
        exposure('x3', 'u3', 'B', 1000),
        event('t1', { unitId: 'u1', key: 'buy', timestamp: 1100, value: 3 }),
        event('t1v', { unitId: 'u1', key: 'view', timestamp: 1100 }),
        event('t2', { unitId: 'u2', key: 'buy', timestamp: 1100, value: 5 }),
        event('t3', { unitId: 'u3', key: 'buy', timestamp: 1100, value: 7 }),
      ],
    ]);
    expect(await sums()).toEqual({ A: { sum: 8, sumSquares: 34, unitsWithEvents: 2 }, B: { sum: 7, sumSquares: 49, unitsWithEvents: 1 } });
    // u1 is exposed to B (later in time): excluded, its rows (every metric key) go.
    await store.insertEventBatches([[exposure('x4', 'u1', 'B', 2000)]]);
    let agg = await store.experimentAggregates('production', 'exp', [...BUY, { key: 'view', type: 'conversion' }]);
    expect(agg.units).toEqual({ A: 1, B: 1 });
    expect(agg.excludedUnits).toBe(1);
    expect(agg.metrics.view).toEqual({});
    expect(await sums()).toEqual({ A: { sum: 5, sumSquares: 25, unitsWithEvents: 1 }, B: { sum: 7, sumSquares: 49, unitsWithEvents: 1 } });
    // Later tracks, exposures of either variant and an earlier exposure of an excluded unit change nothing.
    await store.insertEventBatches([
      [
        event('t5', { unitId: 'u1', key: 'buy', timestamp: 3000, value: 11 }),
        exposure('x5', 'u1', 'A', 10),
        exposure('x6', 'u1', 'B', 20),
        event('t6', { unitId: 'u1', key: 'buy', timestamp: 30, value: 13 }),
      ],
    ]);
    expect(await sums()).toEqual({ A: { sum: 5, sumSquares: 25, unitsWithEvents: 1 }, B: { sum: 7, sumSquares: 49, unitsWithEvents: 1 } });
    // A conflict and tracks of a new unit inside one batch, in both orders.
    await store.insertEventBatches([
      [
        event('t7', { unitId: 'u7', key: 'buy', timestamp: 5000 }),
        exposure('x7', 'u7', 'A', 100),
        exposure('x8', 'u7', 'B', 200),
        event('t8', { unitId: 'u7', key: 'buy', timestamp: 6000 }),
      ],
    ]);
    agg = await store.experimentAggregates('production', 'exp', BUY.slice(0, 1));
    expect(agg).toEqual({
      units: { A: 1, B: 1 },
      excludedUnits: 2,
      exclusions: { ...noExclusions(), multiple_variants: 2 },
      exclusionsBySender: [],
      metrics: { buy: { A: { sum: 5, sumSquares: 25, unitsWithEvents: 1 }, B: { sum: 7, sumSquares: 49, unitsWithEvents: 1 } } },
    });
    // The conflict is per experiment: u1 in exp2 still counts.
    await store.insertEventBatches([[exposure('y1', 'u1', 'A', 1000, 'exp2')]]);
    expect(await sums('exp2')).toEqual({ A: { sum: 3 + 11, sumSquares: 196, unitsWithEvents: 1 } });
  });

  it('unit metrics: resent events never count twice (within a batch, across batches of a group, across calls)', async () => {
    const x1 = exposure('x1', 'u1', 'A', 1000);
    const t1 = event('t1', { unitId: 'u1', key: 'buy', timestamp: 1500, value: 2 });
    const t0 = event('t0', { unitId: 'u1', key: 'buy', timestamp: 800, value: 64 });
    expect(
      await store.insertEventBatches([
        [t1, t1, x1, t1, x1],
        [t1, x1],
      ]),
    ).toEqual([
      { accepted: 2, duplicates: 3 },
      { accepted: 0, duplicates: 2 },
    ]);
    expect(await sums()).toEqual({ A: { sum: 2, sumSquares: 4, unitsWithEvents: 1 } });
    await store.insertEventBatches([[t1, x1], [t1]]);
    expect(await sums()).toEqual({ A: { sum: 2, sumSquares: 4, unitsWithEvents: 1 } });
    // An earlier exposure, resent many times, takes in t0 once.
    const x0 = exposure('x0', 'u1', 'A', 500);
    await store.insertEventBatches([
      [t0, x0, x0],
      [x0, t0],
    ]);
    await store.insertEventBatches([[x0, t0, t1]]);
    expect(await sums()).toEqual({ A: { sum: 66, sumSquares: 66 * 66, unitsWithEvents: 1 } });
    // A resent exposure with another variant is a duplicate: no conflict.
    await store.insertEventBatches([[{ ...x1, variant: 'B' }]]);
    expect(await store.experimentAggregates('production', 'exp', BUY.slice(1))).toEqual({
      units: { A: 1 },
      excludedUnits: 0,
      exclusions: { ...noExclusions(), multiple_variants: 0 },
      exclusionsBySender: [],
      metrics: { buy: { A: { sum: 1, sumSquares: 1, unitsWithEvents: 1 } } },
    });
  });

  it('unit metrics: a track deleted by retention no longer joins a unit whose exposure arrives after it', async () => {
    await store.insertEventBatches([
      [
        event('t1', { unitId: 'u1', key: 'buy', timestamp: 150, value: 2 }),
        event('t2', { unitId: 'u1', key: 'buy', timestamp: 5000, value: 3 }),
      ],
    ]);
    expect(await store.deleteEventsBefore(1000)).toBe(1);
    // Exposed at 100: only the surviving track (5000) counts; the deleted one (150) is gone for good.
    await store.insertEventBatches([[exposure('x1', 'u1', 'A', 100)]]);
    expect((await store.experimentAggregates('production', 'exp', BUY.slice(0, 1))).metrics.buy).toEqual({
      A: { sum: 3, sumSquares: 9, unitsWithEvents: 1 },
    });
  });

  it('unit metrics: retention deletes events, not what they added to the results', async () => {
    await store.insertEventBatches([
      [
        exposure('x1', 'u1', 'A', 100),
        exposure('x2', 'u2', 'B', 100),
        event('t1', { unitId: 'u1', key: 'buy', timestamp: 150, value: 2 }),
        event('t2', { unitId: 'u1', key: 'buy', timestamp: 5000, value: 3 }),
        event('t3', { unitId: 'u2', key: 'buy', timestamp: 200 }),
      ],
    ]);
    const before = await store.experimentAggregates('production', 'exp', BUY);
    expect(before.metrics.buy).toEqual({
      A: { sum: 1, sumSquares: 1, unitsWithEvents: 1 },
      B: { sum: 1, sumSquares: 1, unitsWithEvents: 1 },
    });
    expect(await store.deleteEventsBefore(1000)).toBe(4);
    expect(await store.countEvents()).toBe(1);
    expect(await store.experimentAggregates('production', 'exp', BUY)).toEqual(before);
    expect((await store.experimentAggregates('production', 'exp', BUY.slice(0, 1))).metrics.buy).toEqual({
      A: { sum: 5, sumSquares: 25, unitsWithEvents: 1 },
      B: { sum: 1, sumSquares: 1, unitsWithEvents: 1 },
    });
    // New events still add to the kept sums.
    await store.insertEventBatches([[event('t4', { unitId: 'u1', key: 'buy', timestamp: 6000, value: 1 })]]);
    expect((await store.experimentAggregates('production', 'exp', BUY.slice(0, 1))).metrics.buy).toEqual({
      A: { sum: 6, sumSquares: 36, unitsWithEvents: 1 },
      B: { sum: 1, sumSquares: 1, unitsWithEvents: 1 },
    });
  });
});

/** Groups of batches with exposures (some conflicting, some resent), metric events before and after exposure, null values. */
function generateEvents(seed: number, idPrefix = 'ev'): StoredEvent[][][] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const all: StoredEvent[] = [];
  const groups: StoredEvent[][][] = [];
  let n = 0;
  for (let g = 0; g < 6; g++) {
    const group: StoredEvent[][] = [];
    for (let b = 0; b < 4; b++) {
      const batch: StoredEvent[] = [];
      for (let i = 0; i < 150; i++) {
        const unit = `unit-${Math.floor(rnd() * 120)}`;
        const r = rnd();
        if (r < 0.05 && all.length > 0) {
          batch.push(pick(all)); // resent
          continue;
        }
        let e: StoredEvent;
        if (r < 0.35) {
          const variant =
            rnd() < 0.04 ? pick(['control', 'treatment', 'third']) : Number(unit.slice(5)) % 2 === 0 ? 'control' : 'treatment';
          e = exposure(`${idPrefix}-${n++}`, unit, variant, Math.floor(rnd() * 10_000), rnd() < 0.9 ? 'exp' : 'other-exp');
        } else {
          e = event(`${idPrefix}-${n++}`, {
            unitId: unit,
            key: pick(['revenue', 'clicks', 'signup']),
            timestamp: Math.floor(rnd() * 10_000),
            value: rnd() < 0.3 ? null : Math.floor(rnd() * 40) / 4,
            properties: rnd() < 0.5 ? null : { plan: pick(['a', 'b']) },
          });
        }
        all.push(e);
        batch.push(e);
      }
      group.push(batch);
    }
    groups.push(group);
  }
  return groups;
}

/** An independent computation of the aggregates from the definition (first occurrence of an id wins). */
function referenceAggregates(groups: StoredEvent[][][], experiment: string, metrics: { key: string; type: 'conversion' | 'mean' }[]) {
  const seen = new Set<string>();
  const events: StoredEvent[] = [];
  for (const g of groups)
    for (const b of g)
      for (const e of b)
        if (!seen.has(e.id)) {
          seen.add(e.id);
          events.push(e);
        }
  const units = new Map<string, { variant: string; first: number; conflicted: boolean }>();
  for (const e of events) {
    if (e.type !== 'exposure' || e.experiment !== experiment) continue;
    const u = units.get(e.unitId);
    if (u === undefined) units.set(e.unitId, { variant: e.variant!, first: e.timestamp, conflicted: false });
    else {
      u.conflicted ||= u.variant !== e.variant;
      u.first = Math.min(u.first, e.timestamp);
    }
  }
  const out = {
    units: {} as Record<string, number>,
    excludedUnits: 0,
    exclusions: { ...noExclusions(), multiple_variants: 0 },
    exclusionsBySender: [] as { reason: string; sentBy: string; events: number }[],
    metrics: {} as Record<string, Record<string, { sum: number; sumSquares: number; unitsWithEvents: number }>>,
  };
  for (const u of units.values())
    if (u.conflicted) out.excludedUnits++;
    else out.units[u.variant] = (out.units[u.variant] ?? 0) + 1;
  // No experiment of these keys exists: nothing is attributed to a run, so nothing is left out of one.
  out.exclusions.multiple_variants = out.excludedUnits;
  for (const m of metrics) {
    const per: Record<string, { sum: number; sumSquares: number; unitsWithEvents: number }> = {};
    for (const [unitId, u] of units) {
      if (u.conflicted) continue;
      const mine = events.filter((e) => e.type === 'track' && e.key === m.key && e.unitId === unitId && e.timestamp >= u.first);
      if (mine.length === 0) continue;
      const s = m.type === 'conversion' ? 1 : mine.reduce((acc, e) => acc + (e.value ?? 1), 0);
      const p = (per[u.variant] ??= { sum: 0, sumSquares: 0, unitsWithEvents: 0 });
      p.sum += s;
      p.sumSquares += s * s;
      p.unitsWithEvents++;
    }
    out.metrics[m.key] = per;
  }
  return out;
}

describe('SQLite and PostgreSQL agree', () => {
  it.each([20250101, 7, 99991])(
    'experimentAggregates are identical for the same events after every group, and match the definition (seed %i)',
    async (seed) => {
      const groups = generateEvents(seed);
      const metrics = [
        { key: 'revenue', type: 'mean' as const },
        { key: 'clicks', type: 'mean' as const },
        { key: 'signup', type: 'conversion' as const },
        { key: 'none', type: 'mean' as const },
      ];
      const sqlite = await harnesses.sqlite();
      const postgresH = await harnesses.postgres();
      try {
        const counts: Record<string, unknown[]> = { sqlite: [], postgres: [] };
        for (let g = 0; g < groups.length; g++) {
          counts.sqlite!.push(await sqlite.store.insertEventBatches(groups[g]!));
          counts.postgres!.push(await postgresH.store.insertEventBatches(groups[g]!));
          // Incremental upkeep: right after each group, not only at the end.
          const sofar = groups.slice(0, g + 1);
          for (const exp of ['exp', 'other-exp']) {
            const a = await sqlite.store.experimentAggregates('production', exp, metrics);
            expect(await postgresH.store.experimentAggregates('production', exp, metrics)).toEqual(a);
            expect(a).toEqual(referenceAggregates(sofar, exp, metrics));
          }
        }
        expect(counts.postgres).toEqual(counts.sqlite);
        expect(await postgresH.store.countEvents()).toBe(await sqlite.store.countEvents());
        for (const exp of ['exp', 'other-exp']) {
          const a = await sqlite.store.experimentAggregates('production', exp, metrics);
          if (exp === 'exp') expect(a.excludedUnits).toBeGreaterThan(0);
          expect(Object.keys(a.metrics.revenue!).sort()).toEqual(['control', 'treatment']);
          // The conversion of a key also tracked as a mean.
          const conv = await sqlite.store.experimentAggregates('production', exp, [{ key: 'revenue', type: 'conversion' }]);
          expect(await postgresH.store.experimentAggregates('production', exp, [{ key: 'revenue', type: 'conversion' }])).toEqual(conv);
          expect(conv).toEqual(referenceAggregates(groups, exp, [{ key: 'revenue', type: 'conversion' }]));
        }
        // Retention leaves the results as they were.
        const before = await sqlite.store.experimentAggregates('production', 'exp', metrics);
        expect(await sqlite.store.deleteEventsBefore(5000)).toBe(await postgresH.store.deleteEventsBefore(5000));
        expect(await sqlite.store.experimentAggregates('production', 'exp', metrics)).toEqual(before);
        expect(await postgresH.store.experimentAggregates('production', 'exp', metrics)).toEqual(before);
      } finally {
        await sqlite.close();
        await postgresH.close();
      }
    },
  );

  it('PostgreSQL: instances ingesting the same units concurrently still count every event once', async () => {
    const url = await postgres.createDatabase();
    const a = await openPostgresStore(url);
    const b = await openPostgresStore(url);
    try {
      // Many small groups over few units, half to each instance, all in flight at once: tracks
      // and new exposures of one unit race in different transactions.
      const groups = generateEvents(4242).flatMap((g) =>
        g.flatMap((batch) => [batch.slice(0, 50), batch.slice(50, 100), batch.slice(100)].map((part) => [part])),
      );
      await Promise.all(groups.map((g, i) => (i % 2 === 0 ? a : b).insertEventBatches(g)));
      const metrics = [
        { key: 'revenue', type: 'mean' as const },
        { key: 'signup', type: 'conversion' as const },
      ];
      for (const exp of ['exp', 'other-exp'])
        expect(await a.experimentAggregates('production', exp, metrics)).toEqual(referenceAggregates(groups, exp, metrics));
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** The distinct events of `groups` in arrival order (first occurrence of an id wins). */
function legacyRows(groups: StoredEvent[][][]): StoredEvent[] {
  const seen = new Set<string>();
  const out: StoredEvent[] = [];
  for (const g of groups)
    for (const b of g)
      for (const e of b)
        if (!seen.has(e.id)) {
          seen.add(e.id);
          out.push(e);
        }
  return out;
}

describe('migration 4 backfills the metric sums of a database written at migration 3', () => {
  const groups = generateEvents(31337);
  const metrics = [
    { key: 'revenue', type: 'mean' as const },
    { key: 'clicks', type: 'mean' as const },
    { key: 'signup', type: 'conversion' as const },
  ];

  it('SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-migrate-'));
    const path = join(dir, 'store.db');
    try {
      const db = new Database(path);
      db.exec('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      for (const m of MIGRATIONS.filter((x) => x.id <= 3)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, T0);
      }
      const insert = db.prepare(
        `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const upsert = db.prepare(`INSERT INTO experiment_units (experiment, unit_id, variant, first_ts) VALUES (?, ?, ?, ?)
        ON CONFLICT (experiment, unit_id) DO UPDATE SET conflicted = conflicted OR (variant <> excluded.variant), first_ts = MIN(first_ts, excluded.first_ts)`);
      db.transaction(() => {
        for (const e of legacyRows(groups)) {
          insert.run(
            e.id,
            e.type,
            e.key,
            e.unitId,
            e.experiment,
            e.variant,
            e.value,
            e.properties === null ? null : JSON.stringify(e.properties),
            e.timestamp,
            e.receivedAt,
          );
          if (e.type === 'exposure' && e.experiment !== null && e.variant !== null)
            upsert.run(e.experiment, e.unitId, e.variant, e.timestamp);
        }
      })();
      db.close();
      const store = openSqliteStore(path);
      try {
        for (const exp of ['exp', 'other-exp'])
          expect(await store.experimentAggregates('production', exp, metrics)).toEqual(referenceAggregates(groups, exp, metrics));
        // And it keeps them up to date from there.
        const more = generateEvents(5, 'more');
        for (const g of more) await store.insertEventBatches(g);
        for (const exp of ['exp', 'other-exp'])
          expect(await store.experimentAggregates('production', exp, metrics)).toEqual(
            referenceAggregates([...groups, ...more], exp, metrics),
          );
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PostgreSQL', async () => {
    const url = await postgres.createDatabase();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      for (const m of PG_MIGRATIONS.filter((x) => x.id <= 3)) {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (id, name, applied_at) VALUES ($1, $2, $3)', [m.id, m.name, T0]);
      }
      for (const e of legacyRows(groups)) {
        await c.query(
          `INSERT INTO events (id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            e.id,
            e.type,
            e.key,
            e.unitId,
            e.experiment,
            e.variant,
            e.value,
            e.properties === null ? null : JSON.stringify(e.properties),
            e.timestamp,
            e.receivedAt,
          ],
        );
        if (e.type === 'exposure' && e.experiment !== null && e.variant !== null) {
          await c.query(
            `INSERT INTO experiment_units AS a (experiment, unit_id, variant, first_ts, conflicted) VALUES ($1, $2, $3, $4, 0)
            ON CONFLICT (experiment, unit_id) DO UPDATE SET
              conflicted = CASE WHEN a.conflicted = 1 OR a.variant <> EXCLUDED.variant THEN 1 ELSE 0 END, first_ts = LEAST(a.first_ts, EXCLUDED.first_ts)`,
            [e.experiment, e.unitId, e.variant, e.timestamp],
          );
        }
      }
    } finally {
      await c.end();
    }
    const store = await openPostgresStore(url);
    try {
      for (const exp of ['exp', 'other-exp'])
        expect(await store.experimentAggregates('production', exp, metrics)).toEqual(referenceAggregates(groups, exp, metrics));
      const more = generateEvents(5, 'more');
      for (const g of more) await store.insertEventBatches(g);
      for (const exp of ['exp', 'other-exp'])
        expect(await store.experimentAggregates('production', exp, metrics)).toEqual(
          referenceAggregates([...groups, ...more], exp, metrics),
        );
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL store with several instances', () => {
  it('two instances opening one empty database together both migrate it, once', async () => {
    const url = await postgres.createDatabase();
    const stores = await Promise.all([openPostgresStore(url), openPostgresStore(url), openPostgresStore(url)]);
    try {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const { rows } = await c.query('SELECT id FROM schema_migrations ORDER BY id');
      await c.end();
      expect(rows.map((r) => r.id)).toEqual(PG_MIGRATIONS.map((m) => m.id));
      expect(rows.length).toBeGreaterThanOrEqual(3);
      for (const s of stores) expect(await s.ping()).toBe(true);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('instances committing concurrently share one version sequence that becomes visible in order, without holes', async () => {
    const url = await postgres.createDatabase();
    // 60 commits queue on each pool of 10 at once; on a loaded machine the last ones wait longer
    // than the default 5 s for a free connection (which answers 503 by design). This test is about
    // the version sequence, not that backpressure, so the queue may wait.
    const patient = { connectionTimeoutMs: 120_000 };
    const a = await openPostgresStore(url, patient);
    const b = await openPostgresStore(url, patient);
    const reader = await openPostgresStore(url, patient);
    try {
      let done = false;
      const holes: number[][] = [];
      let reads = 0;
      const reading = (async () => {
        while (!done) {
          // What a catching-up instance sees: versions 1..N, never N+1 before N.
          const seen = (await reader.configLogSince('production', 0, 1000)).map((e) => e.version);
          reads++;
          if (seen.some((v, i) => v !== i + 1)) holes.push(seen);
        }
      })();
      const commits = Array.from({ length: 120 }, (_, i) => {
        const r = resource('flag', `k${i}`);
        return (i % 2 === 0 ? a : b).commit({
          writes: [{ table: 'resources', action: 'insert', row: r }],
          configPatches: { production: flagPatch(r.key) },
          audit: audit('flag.create', r.id),
        });
      });
      const versions = (await Promise.all(commits)).map((r) => r.versions.production!);
      done = true;
      await reading;
      expect(reads).toBeGreaterThan(3);
      expect(holes).toEqual([]);
      expect([...versions].sort((x, y) => x - y)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(await a.configVersion('production')).toBe(120);
      expect((await b.configLogSince('production', 0, 1000)).map((e) => e.patch.version)).toEqual(
        Array.from({ length: 120 }, (_, i) => i + 1),
      );
    } finally {
      await a.close();
      await b.close();
      await reader.close();
    }
  });

  it('reads issued together (as ConfigState.load does) see one snapshot while another instance commits', async () => {
    const url = await postgres.createDatabase();
    const reader = await openPostgresStore(url);
    const writer = await openPostgresStore(url);
    try {
      let done = false;
      const writing = (async () => {
        for (let i = 0; !done && i < 400; i++) {
          const r = resource('flag', `w${i}`);
          await writer.commit({
            writes: [{ table: 'resources', action: 'insert', row: r }],
            configPatches: { production: flagPatch(r.key) },
          });
        }
      })();
      const observed: [number, number][] = [];
      for (let i = 0; i < 60; i++) {
        // Every commit adds one flag and one version: a consistent pair has flags == version.
        const [flags, segments, version] = await Promise.all([
          reader.allResources('flag'),
          reader.allResources('segment'),
          reader.configVersion('production'),
        ]);
        expect(segments).toEqual([]);
        observed.push([flags.length, version]);
      }
      done = true;
      await writing;
      expect(observed.filter(([f, v]) => f !== v)).toEqual([]);
      // The writer made progress while we read: the check was not vacuous.
      expect(new Set(observed.map(([, v]) => v)).size).toBeGreaterThan(5);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('survives the database dropping its connections, idle or checked out (no crash, the pool reconnects)', async () => {
    const url = await postgres.createDatabase();
    const db = url.slice(url.lastIndexOf('/') + 1);
    const errors: Error[] = [];
    const store = await openPostgresStore(url, { onError: (e) => errors.push(e) });
    const terminate = async () => {
      const c = new pg.Client({ connectionString: postgres.adminUrl });
      await c.connect();
      try {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db]);
      } finally {
        await c.end();
      }
    };
    try {
      await Promise.all([store.configVersion('production'), store.countUsers(), store.countEvents()]);
      // Checked out and idle while the lock holder works.
      let release!: () => void;
      const held = store.withLock(
        'test',
        () =>
          new Promise<string>((r) => {
            release = () => r('done');
          }),
      );
      await new Promise((r) => setTimeout(r, 100));
      await terminate();
      await new Promise((r) => setTimeout(r, 100));
      release();
      expect(await held).toBe('done');
      const deadline = Date.now() + 5000;
      while (!(await store.ping())) {
        if (Date.now() > deadline) throw new Error('store did not reconnect');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await store.configVersion('production')).toBe(0);
      // The lock was released with its connection: it can be taken again.
      expect(await store.withLock('test', async () => 'again')).toBe('again');
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('refuses a non-PostgreSQL database URL instead of silently using SQLite', async () => {
    const { openStore } = await import('../src/store/open-store');
    await expect(openStore({ databaseUrl: 'mysql://db/switchyard', dbPath: ':memory:' })).rejects.toThrow(/postgres:\/\//);
    const sqlite = await openStore({ databaseUrl: undefined, dbPath: ':memory:' });
    expect(sqlite.kind).toBe('sqlite');
    await sqlite.close();
  });

  it("passes the pool options that are set to PostgreSQL and leaves the unset ones at the pool's defaults", async () => {
    const { openStore } = await import('../src/store/open-store');
    const { isPostgresStore } = await import('../src/store/postgres/postgres-store');
    const { PG_POOL_DEFAULTS } = await import('../src/store/postgres/connection');
    const url = await postgres.createDatabase();
    const sized = await openStore({ databaseUrl: url, dbPath: ':memory:', pgPoolMax: 3, pgStatementTimeoutMs: 1000 });
    const unset = await openStore({ databaseUrl: url, dbPath: ':memory:' });
    try {
      expect(isPostgresStore(sized) && sized.poolUse().max).toBe(3);
      expect(isPostgresStore(unset) && unset.poolUse().max).toBe(PG_POOL_DEFAULTS.max);
    } finally {
      await Promise.all([sized.close(), unset.close()]);
    }
  });
});
