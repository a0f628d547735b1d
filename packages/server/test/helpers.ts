import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartOptions } from '../src/server';

export const ADMIN_EMAIL = 'admin@test.local';
export const ADMIN_PASSWORD = 'admin-password-1';

/** A JSON response: status, headers and parsed body. */
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A real server on a random port with a temporary SQLite file, plus an HTTP client for it. */
export interface TestServer {
  server: RunningServer;
  url: string;
  dir: string;
  dbPath: string;
  /** Admin's JWT. */
  adminToken: string;
  serverKey: string;
  clientKey: string;
  request<T = any>(
    method: string,
    path: string,
    options?: { body?: unknown; raw?: string; token?: string; apiKey?: string; headers?: Record<string, string> },
  ): Promise<Reply<T>>;
  login(email: string, password: string): Promise<string>;
  /** Creates a user as admin and returns its id and token. */
  user(role: 'VIEWER' | 'EXPERIMENTER' | 'ADMIN', email?: string): Promise<{ id: string; token: string; email: string }>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startTestServer(options: StartOptions & { dir?: string } = {}): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  const dbPath = options.dbPath ?? join(dir, 'switchyard.db');
  const { dir: _dir, ...rest } = options;
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dbPath,
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    jwtSecret: 'test-secret-that-is-long-enough-for-hs256',
    env: {},
    ...rest,
  });
  const url = server.url;
  const request: TestServer['request'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.apiKey !== undefined) headers['x-api-key'] = o.apiKey;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON (metrics, docs): keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as any };
  };
  const login = async (email: string, password: string) => {
    const r = await request('POST', '/api/v1/auth/login', { body: { email, password } });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.data.access_token as string;
  };
  const adminToken = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
  let serverKey = server.credentials?.serverKey ?? '';
  let clientKey = server.credentials?.clientKey ?? '';
  if (serverKey === '') {
    serverKey = (await request('POST', '/api/v1/api-keys', { token: adminToken, body: { name: 'test server', kind: 'server' } })).body.data
      .attributes.key;
    clientKey = (await request('POST', '/api/v1/api-keys', { token: adminToken, body: { name: 'test client', kind: 'client' } })).body.data
      .attributes.key;
  }
  return {
    server,
    url,
    dir,
    dbPath,
    adminToken,
    serverKey,
    clientKey,
    request,
    login,
    async user(role, email) {
      const e = email ?? `${role.toLowerCase()}-${++counter}-${Date.now()}@test.local`;
      const password = 'password-' + counter;
      const r = await request('POST', '/api/v1/users', { token: adminToken, body: { email: e, role, password } });
      if (r.status !== 201) throw new Error(`user create failed: ${r.status} ${JSON.stringify(r.body)}`);
      return { id: r.body.data.id, token: await login(e, password), email: e };
    },
    async stop() {
      await server.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
