import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '@switchyard/server';

/** The admin account every test server is created with. */
export const ADMIN_EMAIL = 'admin@test-support.test';
export const ADMIN_PASSWORD = 'admin-password-1';
/** The JWT secret of every test server: a second instance on the same database accepts its tokens. */
export const JWT_SECRET = 'test-support-secret-long-enough-for-hs256';

/** Who a call is made as: the admin by default, another user's `token`, or an API key. */
export interface ApiAuth {
  token?: string | undefined;
  apiKey?: string | undefined;
}

/** A reply of the HTTP API: the status and the body, parsed when it is JSON. */
export interface Reply<T = any> {
  status: number;
  body: T;
}

/** A real Switchyard server on a temporary SQLite file, with an admin token and SDK keys. */
export interface TestServer {
  server: RunningServer;
  /** Where it listens now (a restart on another port changes it). */
  url: string;
  port: number;
  /** The temporary directory holding the database; deleted by `cleanup()`. */
  dir: string;
  dbPath: string;
  adminToken: string;
  serverKey: string;
  clientKey: string;
  /** Calls the HTTP API (as admin unless `auth` says otherwise) and parses JSON. */
  api<T = any>(method: string, path: string, body?: unknown, auth?: ApiAuth): Promise<Reply<T>>;
  /**
   * Stops this instance and starts a new one on the same database, with the first options plus
   * `extra`; on the same port unless `extra.port` names another (`0`: any free one).
   */
  restart(extra?: StartOptions): Promise<void>;
  /** Stops the instance; the database stays until `cleanup()`. */
  stop(): Promise<void>;
  /** Stops the instance and deletes its directory. */
  cleanup(): Promise<void>;
}

/**
 * Starts a silent server on a random loopback port (SQLite in a temporary directory) that
 * allows every CORS origin, so a browser page on another port can use it.
 *
 * @example
 * ```ts
 * const t = await startTestServer({ heartbeatMs: 200 });
 * await t.api('POST', '/api/v1/feature-flags', booleanFlag('f'));
 * await t.cleanup();
 * ```
 */
export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-test-support-'));
  const dbPath = join(dir, 'switchyard.db');
  const base: StartOptions = {
    host: '127.0.0.1',
    dbPath,
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    jwtSecret: JWT_SECRET,
    corsOrigins: ['*'],
    env: {},
    ...options,
  };
  let server = await startServer({ ...base, port: options.port ?? 0 });
  let stopped = false;
  const t: TestServer = {
    server,
    url: server.url,
    port: server.port,
    dir,
    dbPath,
    adminToken: '',
    serverKey: '',
    clientKey: '',
    async api(method, path, body, auth = {}) {
      const headers: Record<string, string> = {};
      if (auth.apiKey !== undefined) headers['x-api-key'] = auth.apiKey;
      else headers.authorization = `Bearer ${auth.token ?? t.adminToken}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(t.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        // not JSON (metrics, docs): keep the text
      }
      return { status: res.status, body: parsed as any };
    },
    async restart(extra = {}) {
      await t.stop();
      server = await startServer({ ...base, ...extra, port: extra.port ?? t.port });
      stopped = false;
      t.server = server;
      t.url = server.url;
      t.port = server.port;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
    },
    async cleanup() {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const login = await fetch(`${t.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  t.adminToken = ((await login.json()) as { data: { access_token: string } }).data.access_token;
  for (const kind of ['server', 'client'] as const) {
    const r = await t.api('POST', '/api/v1/api-keys', { name: `test-support ${kind}`, kind });
    if (r.status !== 201) throw new Error(`creating a ${kind} key failed: ${r.status} ${JSON.stringify(r.body)}`);
    t[kind === 'server' ? 'serverKey' : 'clientKey'] = r.body.data.attributes.key;
  }
  return t;
}

/**
 * Calls the management API as admin and returns the body; throws unless the call succeeded, so
 * a test's setup cannot fail silently.
 *
 * @example
 * ```ts
 * await admin(t, 'PATCH', '/api/v1/feature-flags/f', { enabled: false });
 * ```
 */
export async function admin(t: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await t.api(method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * A boolean flag body for the management API, on for everyone unless `extra` says otherwise.
 *
 * @example
 * ```ts
 * await t.api('POST', '/api/v1/feature-flags', booleanFlag('new-checkout'));
 * ```
 */
export function booleanFlag(key: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    key,
    type: 'boolean',
    enabled: true,
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    off_variant: 'off',
    default_serve: { variant: 'on' },
    ...extra,
  };
}

/**
 * Creates a flag as admin: an enabled boolean flag with the server's defaults unless `extra`
 * says otherwise (`type`, `variants`, rules...). Returns the response body.
 *
 * @example
 * ```ts
 * await createFlag(t, 'banner', { type: 'string', variants: [{ key: 'a', value: 'A' }], default_serve: { variant: 'a' } });
 * ```
 */
export function createFlag(t: TestServer, key: string, extra: Record<string, unknown> = {}): Promise<any> {
  return admin(t, 'POST', '/api/v1/feature-flags', { key, type: 'boolean', enabled: true, ...extra });
}
