import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * Throwaway PostgreSQL and Redis servers for tests: real binaries, a temporary directory, free
 * ports on 127.0.0.1, nothing persisted. Missing binaries are an error naming the Debian
 * packages (`postgresql`, `redis-server`), never a skip.
 */

/** A free TCP port on 127.0.0.1 (bound and released; the race with other processes is negligible). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function which(bin: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return null;
}

/** The directory holding initdb and postgres: the newest /usr/lib/postgresql/<ver>/bin, else PATH. */
function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const initdb = which('initdb');
  if (initdb !== null && existsSync(join(initdb, '..', 'postgres'))) return join(initdb, '..');
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/<version>/bin or on PATH: ' +
      "install the Debian package 'postgresql' (apt-get install postgresql).",
  );
}

function redisServerBin(): string {
  const bin = which('redis-server') ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : null);
  if (bin === null)
    throw new Error("redis-server not found on PATH: install the Debian package 'redis-server' (apt-get install redis-server).");
  return bin;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      "running as root but there is no 'postgres' OS user to run PostgreSQL as: install the Debian package 'postgresql' (it creates the user).",
    );
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Sends a signal to a process that may have exited meanwhile. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already (ESRCH): nothing to stop or continue.
  }
}

/** The ids of a process's direct children (procps `pgrep -P`). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  } catch {
    // pgrep exits 1 when there are none.
    return [];
  }
}

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (superuser, trust authentication). */
  adminUrl: string;
  port: number;
  /**
   * Creates a database and returns its URL: empty, or a copy of `template` (a database of this
   * server nobody is connected to, e.g. one migrated once per file instead of once per test).
   */
  createDatabase(name?: string, template?: string): Promise<string>;
  /** Shuts the server down, keeping its data, for {@link TestPostgres.start}. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data after {@link TestPostgres.halt}. */
  start(): Promise<void>;
  /** SIGSTOP: the server keeps its connections open and answers nothing (a hung database). */
  freeze(): void;
  /** SIGCONT after {@link TestPostgres.freeze}. */
  thaw(): void;
  /** Stops the server and deletes its data. */
  stop(): Promise<void>;
}

let dbCounter = 0;

/** initdb into a temporary directory and start `postgres` on a free port (fsync off: throwaway). */
/** A raw `pg` client connected to `url`, for what a test does behind the store's back (end it yourself). */
export async function connectClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (user !== null) {
    chownSync(dir, user.uid, user.gid);
    chownSync(sock, user.uid, user.gid);
  }
  const asUser = user === null ? {} : { uid: user.uid, gid: user.gid };
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  try {
    execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
      ...asUser,
      env,
      stdio: 'pipe',
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${err.stderr?.toString() ?? err.message}`, { cause: e });
  }
  const port = await freePort();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess;
  let log = '';
  const launch = async () => {
    const c = track(
      spawn(
        join(bin, 'postgres'),
        [
          '-D',
          data,
          '-p',
          String(port),
          '-k',
          sock,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=200',
          '-c',
          'shared_buffers=32MB',
        ],
        { ...asUser, env, stdio: ['ignore', 'ignore', 'pipe'] },
      ),
    );
    child = c;
    c.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-8000);
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`postgres exited with ${c.exitCode}: ${log}`);
      const client = new pg.Client({ connectionString: adminUrl });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
        if (Date.now() > deadline) {
          c.kill('SIGKILL');
          throw new Error(`postgres did not accept connections in 30 s: ${log}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  try {
    await launch();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    adminUrl,
    port,
    async createDatabase(name, template) {
      const db = name ?? `sy_${process.pid}_${++dbCounter}`;
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        // FILE_COPY copies the template's files; the default (WAL_LOG) writes all of them through
        // the WAL, which while other tests wrote took ~3x as long (store-contract: 360 -> 130 ms).
        await c.query(`CREATE DATABASE "${db}"${template === undefined ? '' : ` TEMPLATE "${template}"`} STRATEGY = FILE_COPY`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    async halt() {
      // SIGINT: fast shutdown; the data directory stays for start().
      child.kill('SIGINT');
      await waitForExit(child, 10_000);
    },
    async start() {
      if (child.exitCode === null && child.signalCode === null) return;
      await launch();
    },
    freeze() {
      // The postmaster and every backend and auxiliary process it forked: the whole server hangs.
      child.kill('SIGSTOP');
      for (const pid of childrenOf(child.pid!)) signal(pid, 'SIGSTOP');
    },
    thaw() {
      for (const pid of childrenOf(child.pid!)) signal(pid, 'SIGCONT');
      child.kill('SIGCONT');
    },
    async stop() {
      // A frozen server must run again to shut down.
      if (child.exitCode === null && child.signalCode === null) {
        for (const pid of childrenOf(child.pid!)) signal(pid, 'SIGCONT');
        child.kill('SIGCONT');
      }
      // SIGINT: fast shutdown (disconnects clients, no checkpoint wait worth speaking of with fsync off).
      child.kill('SIGINT');
      await waitForExit(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (the port stays reserved for {@link TestRedis.start}). */
  stop(): Promise<void>;
  /** Starts it again on the same port (after {@link TestRedis.stop}). */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open and nothing is answered (a hung Redis). */
  freeze(): void;
  /** SIGCONT after {@link TestRedis.freeze}. */
  thaw(): void;
  readonly running: boolean;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.startsWith('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
  });
}

/** `redis-server` on a free port with persistence off. */
export async function startRedis(): Promise<TestRedis> {
  const bin = redisServerBin();
  const port = await freePort();
  let child: ChildProcess | null = null;
  let log = '';
  const start = async () => {
    if (child !== null) return;
    const c = track(
      spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    child = c;
    c.stdout!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    c.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (c.exitCode !== null) {
        child = null;
        throw new Error(`redis-server exited with ${c.exitCode}: ${log}`);
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING in 10 s: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== null;
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async stop() {
      const c = child;
      if (c === null) return;
      child = null;
      c.kill('SIGKILL');
      await waitForExit(c, 5000);
    },
    start,
  };
}

/** Stops everything given, ignoring what was never started. */
export async function stopAll(...services: ({ stop(): Promise<void> } | undefined)[]): Promise<void> {
  for (const s of services) await s?.stop();
}
