import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

const MASTER_KEY = 'master-key-for-pii-tests-0123456789abcdef';
const EMAIL = 'Ana.Secret@Example.com';
const AGENT = 'pii-test-agent/1.0';

/** Every value of every row of the tables that hold personal data, as one string. */
type RawDump = () => Promise<string>;

async function exercise(t: TestServer): Promise<void> {
  const created = await t.request('POST', '/api/v1/users', {
    token: t.adminToken,
    body: { email: EMAIL, role: 'EXPERIMENTER', password: ADMIN_PASSWORD },
    headers: { 'user-agent': AGENT },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  // Looked up case-insensitively, as before.
  const token = await t.login(EMAIL.toUpperCase(), ADMIN_PASSWORD);
  const flag = await t.request('POST', '/api/v1/feature-flags', {
    token,
    body: { key: 'pii-flag', type: 'boolean' },
    headers: { 'user-agent': AGENT },
  });
  expect(flag.status).toBe(201);
  // A failed login records the address that was tried.
  expect(
    (await t.request('POST', '/api/v1/auth/login', { body: { email: 'nobody.secret@example.com', password: 'wrong-password' } })).status,
  ).toBe(401);
}

async function expectReadableThroughTheApi(t: TestServer): Promise<void> {
  const users = await t.request('GET', '/api/v1/users?limit=100', { token: t.adminToken });
  expect(users.body.data.map((u: { attributes: { email: string } }) => u.attributes.email)).toContain(EMAIL.toLowerCase());
  const audit = await t.request('GET', '/api/v1/audit-log?limit=100', { token: t.adminToken });
  const records = audit.body.data.map((r: { attributes: Record<string, unknown> }) => r.attributes);
  const flagCreate = records.find((r: Record<string, unknown>) => r.action === 'feature-flag.create');
  expect(flagCreate).toMatchObject({ user_agent: AGENT, ip: '127.0.0.1', actor: { label: EMAIL.toLowerCase() } });
  expect(JSON.stringify(flagCreate)).toContain(EMAIL.toLowerCase());
  expect(JSON.stringify(records)).toContain('nobody.secret@example.com');
}

function expectNoPersonalData(dump: string): void {
  for (const secret of [EMAIL.toLowerCase(), 'nobody.secret@example.com', AGENT, '127.0.0.1'])
    expect(dump.toLowerCase()).not.toContain(secret.toLowerCase());
  expect(dump).toContain('pii:v1:');
}

describe('personal data encrypted at rest (SQLite)', () => {
  let t: TestServer;
  let dump: RawDump;
  // Our own folder: the database must outlive the restarts below.
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pii-'));
  beforeAll(async () => {
    t = await startTestServer({ dir, masterKey: MASTER_KEY, encryptPii: true });
    dump = async () => {
      const db = new Database(t.dbPath, { readonly: true });
      try {
        return JSON.stringify([db.prepare('SELECT * FROM users').all(), db.prepare('SELECT * FROM audit_log').all()]);
      } finally {
        db.close();
      }
    };
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores emails, audit labels, diffs, IPs and user agents sealed, and shows them in clear through the API', async () => {
    await exercise(t);
    expectNoPersonalData(await dump());
    await expectReadableThroughTheApi(t);
  });

  it('refuses to start without the master key, and turning encryption off decrypts the users again', async () => {
    await t.stop();
    await expect(startTestServer({ dir })).rejects.toThrow(/encrypted: start with the SWITCHYARD_MASTER_KEY/);
    t = await startTestServer({ dir, masterKey: MASTER_KEY, encryptPii: false });
    expect(await dump()).toContain(EMAIL.toLowerCase());
    // Records written while encryption was on are still shown in clear.
    await expectReadableThroughTheApi(t);
  });

  it('refuses SWITCHYARD_ENCRYPT_PII without a master key before opening anything', async () => {
    await expect(startTestServer({ encryptPii: true })).rejects.toThrow(/SWITCHYARD_ENCRYPT_PII: needs SWITCHYARD_MASTER_KEY/);
  });
});

describe('personal data encrypted at rest (PostgreSQL)', () => {
  let postgres: TestPostgres;
  let t: TestServer;
  let url: string;
  beforeAll(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase();
    t = await startTestServer({ databaseUrl: url, masterKey: MASTER_KEY, encryptPii: true });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await postgres?.stop();
  });

  it('stores the same fields sealed and shows them in clear through the API', async () => {
    await exercise(t);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const users = await client.query('SELECT * FROM users');
      const audit = await client.query('SELECT * FROM audit_log');
      expectNoPersonalData(JSON.stringify([users.rows, audit.rows]));
    } finally {
      await client.end();
    }
    await expectReadableThroughTheApi(t);
  });
});
