import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '@switchyard/server';

const ADMIN_EMAIL = 'admin@sdk-browser.test';
const ADMIN_PASSWORD = 'admin-password-1';
const JWT_SECRET = 'sdk-browser-test-secret-long-enough-for-hs256';

/** A JSON reply. */
export interface Reply<T = any> {
  status: number;
  body: T;
}

/**
 * A real Switchyard server (the built `@switchyard/server`) on 127.0.0.1 with a SQLite file in a
 * temporary directory, like the server's own `startTestServer()`, plus `stop()` / `restart()`
 * that keep the file, so a test can take the server down and bring it back on the same port.
 */
export interface TestServer {
  server: RunningServer;
  url: string;
  port: number;
  dbPath: string;
  adminToken: string;
  serverKey: string;
  clientKey: string;
  request<T = any>(method: string, path: string, options?: { body?: unknown; token?: string; apiKey?: string }): Promise<Reply<T>>;
  /** Stops the server, keeping its database. */
  stop(): Promise<void>;
  /** Starts it again on `port` (default: the same one) with the same database. */
  restart(port?: number): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
}

const launch = (dbPath: string, port: number) =>
  startServer({
    port,
    host: '127.0.0.1',
    dbPath,
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    jwtSecret: JWT_SECRET,
    heartbeatMs: 1000,
    env: {},
  });

/** Starts a server and creates its admin token and one server and one client key. */
export async function startTestServer(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sdk-browser-'));
  const dbPath = join(dir, 'switchyard.db');
  let server = await launch(dbPath, 0);
  let running = true;
  const t: TestServer = {
    server,
    url: server.url,
    port: server.port,
    dbPath,
    adminToken: '',
    serverKey: '',
    clientKey: '',
    async request(method, path, o = {}) {
      const headers: Record<string, string> = {};
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      if (o.apiKey !== undefined) headers['x-api-key'] = o.apiKey;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(t.url + path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : JSON.parse(text) };
    },
    async stop() {
      if (!running) return;
      running = false;
      await server.close();
    },
    async restart(port = t.port) {
      await t.stop();
      server = await launch(dbPath, port);
      running = true;
      t.server = server;
      t.url = server.url;
      t.port = server.port;
    },
    async destroy() {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const login = await t.request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  t.adminToken = login.body.data.access_token;
  t.serverKey = server.credentials?.serverKey ?? (await createKey(t, 'server'));
  t.clientKey = server.credentials?.clientKey ?? (await createKey(t, 'client'));
  return t;
}

/** Creates an API key of a kind and returns its secret. */
export async function createKey(t: TestServer, kind: 'server' | 'client'): Promise<string> {
  const r = await t.request('POST', '/api/v1/api-keys', { token: t.adminToken, body: { name: `sdk-browser ${kind}`, kind } });
  if (r.status !== 201) throw new Error(`key create failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data.attributes.key;
}

/** Management API call that must succeed; returns the body. */
export async function admin(t: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await t.request(method, path, { token: t.adminToken, body });
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Creates a flag (enabled boolean by default). */
export function createFlag(t: TestServer, key: string, extra: Record<string, unknown> = {}): Promise<any> {
  return admin(t, 'POST', '/api/v1/feature-flags', { key, type: 'boolean', enabled: true, ...extra });
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function until<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
