import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '@switchyard/server';

/** A real Switchyard server on a temporary SQLite file, with admin and server-key credentials. */
export interface TestServer {
  server: RunningServer;
  url: string;
  port: number;
  dir: string;
  dbPath: string;
  adminToken: string;
  serverKey: string;
  /** Calls the HTTP API (as admin unless `token`/`apiKey` say otherwise) and parses JSON. */
  api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    auth?: { token?: string; apiKey?: string },
  ): Promise<{ status: number; body: T }>;
  /** Stops this instance and starts a new one on the same port and SQLite file. */
  restart(extra?: StartOptions): Promise<void>;
  /** Stops the instance (the database stays until `cleanup`). */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

const ADMIN_EMAIL = 'admin@sdk-node.test';
const ADMIN_PASSWORD = 'admin-password-1';

/** Starts a server like packages/server/test/helpers.ts does (silent, fixed secrets, random port). */
export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-sdk-node-'));
  const dbPath = join(dir, 'switchyard.db');
  const base: StartOptions = {
    host: '127.0.0.1',
    dbPath,
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    jwtSecret: 'sdk-node-test-secret-long-enough-for-hs256',
    env: {},
  };
  let server = await startServer({ ...base, port: 0, ...options });
  let stopped = false;
  const t: TestServer = {
    server,
    url: server.url,
    port: server.port,
    dir,
    dbPath,
    adminToken: '',
    serverKey: server.credentials?.serverKey ?? '',
    async api(method, path, body, auth) {
      const headers: Record<string, string> = {};
      if (auth?.apiKey !== undefined) headers['x-api-key'] = auth.apiKey;
      else headers.authorization = `Bearer ${auth?.token ?? t.adminToken}`;
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
    async restart(extra = {}) {
      await t.stop();
      server = await startServer({ ...base, ...options, ...extra, port: t.port });
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
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  t.adminToken = ((await login.json()) as { data: { access_token: string } }).data.access_token;
  if (t.serverKey === '') {
    const r = await t.api('POST', '/api/v1/api-keys', { name: 'sdk-node test', kind: 'server' });
    t.serverKey = r.body.data.attributes.key;
  }
  return t;
}

/** A boolean flag body for the management API. */
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
