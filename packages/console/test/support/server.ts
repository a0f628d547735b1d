import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '@switchyard/server';

export const ADMIN_EMAIL = 'admin@console.test';
export const ADMIN_PASSWORD = 'admin-password-1';

/** A JSON reply. */
export interface Reply<T = any> {
  status: number;
  body: T;
}

/** A real server (the built `@switchyard/server`) on loopback with a SQLite file, serving this console's build. */
export interface ConsoleServer {
  server: RunningServer;
  url: string;
  adminToken: string;
  serverKey: string;
  request<T = any>(method: string, path: string, o?: { body?: unknown; token?: string }): Promise<Reply<T>>;
  /** Management call as admin that must succeed. */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  /** Creates a user with a password. */
  user(role: 'VIEWER' | 'EXPERIMENTER' | 'ADMIN', email: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a server with a fresh database; its console comes from this package's dist/. `extra` adds server options (e.g. `oidc`). */
export async function startConsoleServer(extra: Partial<Parameters<typeof startServer>[0]> = {}): Promise<ConsoleServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-console-'));
  process.env.SWITCHYARD_CONSOLE_DIR = fileURLToPath(new URL('../../dist', import.meta.url));
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dbPath: join(dir, 'switchyard.db'),
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    jwtSecret: 'console-test-secret-long-enough-for-hs256',
    heartbeatMs: 1000,
    // The browser tests sign in many times from one address.
    loginRatePerMinute: 1000,
    env: {},
    ...extra,
  });
  const request: ConsoleServer['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(server.url + path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : JSON.parse(text) };
  };
  const login = await request('POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  if (login.status !== 200) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  const adminToken = login.body.data.access_token as string;
  const admin: ConsoleServer['admin'] = async (method, path, body) => {
    const r = await request(method, path, { token: adminToken, body });
    if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const serverKey =
    server.credentials?.serverKey ??
    (await admin('POST', '/api/v1/api-keys', { name: 'console test server', kind: 'server' })).data.attributes.key;
  return {
    server,
    url: server.url,
    adminToken,
    serverKey,
    request,
    admin,
    async user(role, email, password) {
      await admin('POST', '/api/v1/users', { email, role, password });
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
