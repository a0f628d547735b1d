/**
 * A throwaway PostgreSQL server for benchmarks: initdb into a temporary directory, `postgres` on
 * a free loopback port, run as the `postgres` OS user when this process is root (PostgreSQL
 * refuses root). Unlike the test servers it keeps `fsync` on; commits are asynchronous
 * (`synchronous_commit = off`), which is what SQLite's WAL with `synchronous = NORMAL` gives the
 * SQLite runs: a crash may lose the last moments, never corrupt the database.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs, { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot, sleep } from './lib.mjs';

const pg = createRequire(path.join(repoRoot, 'packages/server/package.json'))('pg');

function binDir() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0)
    throw new Error("PostgreSQL binaries not found in /usr/lib/postgresql/<version>/bin (Debian package 'postgresql')");
  return path.join(root, versions[0], 'bin');
}

/** CPU milliseconds of `pid` so far. */
function cpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0; // exited meanwhile
  }
}

/**
 * CPU milliseconds of the PostgreSQL server so far: the postmaster and every process it started
 * (backends, WAL writer, checkpointer), from /proc (Linux only).
 * @param {number} postmaster
 */
export function serverCpuMs(postmaster) {
  let ms = cpuMs(postmaster);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (Number(fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]) === postmaster) ms += cpuMs(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return ms;
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts PostgreSQL; `createDatabase()` makes a fresh database and answers its URL.
 * `pid` is the postmaster's (its children are the backends, WAL writer, checkpointer...).
 * @returns {Promise<{ createDatabase: () => Promise<string>, stop: () => Promise<void>, version: string, pid: number }>}
 */
export async function startPostgres() {
  const bin = binDir();
  const asUser =
    process.getuid?.() === 0
      ? {
          uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
          gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
        }
      : {};
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-bench-pg-'));
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  mkdirSync(sock);
  if ('uid' in asUser) {
    chownSync(dir, asUser.uid, asUser.gid);
    chownSync(sock, asUser.uid, asUser.gid);
  }
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  execFileSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'], {
    ...asUser,
    env,
    stdio: 'pipe',
  });
  const port = await freePort();
  const settings = [
    'listen_addresses=127.0.0.1',
    'synchronous_commit=off',
    'shared_buffers=256MB',
    'max_wal_size=4GB',
    'max_connections=100',
  ];
  const child = spawn(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', sock, ...settings.flatMap((s) => ['-c', s])], {
    ...asUser,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const query = async (/** @type {string} */ sql) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  for (const deadline = Date.now() + 30_000; ;) {
    if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
    try {
      await query('SELECT 1');
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`postgres did not start: ${log}`, { cause: e });
      await sleep(100);
    }
  }
  const version = (await query('SHOW server_version'))[0].server_version;
  let n = 0;
  return {
    version,
    pid: child.pid ?? 0,
    async createDatabase() {
      const name = `bench_${process.pid}_${++n}`;
      await query(`CREATE DATABASE ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      child.kill('SIGINT');
      for (let i = 0; i < 100 && child.exitCode === null; i++) await sleep(100);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
