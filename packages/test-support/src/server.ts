import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '@switchyard/server';

/** A real Switchyard server on a temporary SQLite file, with an admin token and SDK keys. */
export interface TestServer {
  server: RunningServer;
  url: string;
  port: number;
  adminToken: string;
  serverKey: string;
  clientKey: string;
  /** Calls the HTTP API as admin (or with `apiKey`) and parses JSON. */
  api<T = any>(method: string, path: string, body?: unknown, apiKey?: string): Promise<{ status: number; body: T }>;
  /** Stops this instance and starts a new one on the same port and database. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

const EMAIL = 'admin@test-support.test';
const PASSWORD = 'admin-password-1';

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
  const base: StartOptions = {
    host: '127.0.0.1',
    dbPath: join(dir, 'switchyard.db'),
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: EMAIL,
    adminPassword: PASSWORD,
    jwtSecret: 'test-support-secret-long-enough-for-hs256',
    corsOrigins: ['*'],
    env: {},
    ...options,
  };
  let server = await startServer({ ...base, port: 0 });
  let stopped = false;
  const t: TestServer = {
    server,
    url: server.url,
    port: server.port,
    adminToken: '',
    serverKey: '',
    clientKey: '',
    async api(method, path, body, apiKey) {
      const headers: Record<string, string> = apiKey === undefined ? { authorization: `Bearer ${t.adminToken}` } : { 'x-api-key': apiKey };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(t.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        // keep the text
      }
      return { status: res.status, body: parsed as any };
    },
    async restart() {
      await t.stop();
      server = await startServer({ ...base, port: t.port });
      stopped = false;
      t.server = server;
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
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
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
