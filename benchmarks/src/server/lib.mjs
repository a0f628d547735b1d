/**
 * Shared helpers of the server benchmarks (sse-fanout, ingestion, results): child processes
 * with an IPC channel, a loopback HTTP client, percentiles, CPU-profile summaries and the
 * section header.
 *
 * Clock: `nowNs()` is `process.hrtime.bigint()`, i.e. CLOCK_MONOTONIC on Linux, which is one
 * clock for every process on the machine, so a timestamp taken in one process can be
 * subtracted from one taken in another. V8 CPU profiles use the same clock (in µs).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
/** The server's built entry point (build with `cd packages/server && npx tsup`). */
export const SERVER_DIST = path.join(repoRoot, 'packages/server/dist/index.js');

/** Monotonic nanoseconds, comparable across processes on this machine. */
export const nowNs = () => Number(process.hrtime.bigint());
/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Throws with a build hint when a dist the benchmarks import is missing. */
export function assertBuilt() {
  const need = [SERVER_DIST, path.join(repoRoot, 'packages/core/dist/index.js'), path.join(repoRoot, 'packages/stats/dist/index.js')];
  const missing = need.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `missing build output: ${missing.map((f) => path.relative(repoRoot, f)).join(', ')}; run \`npx tsup\` in packages/core, packages/stats and packages/server`,
    );
  }
}

/** The soft limit on open files of a shell spawned from here (what children inherit). */
export function fdLimit() {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const v = r.stdout.trim();
  return v === 'unlimited' ? Infinity : Number(v);
}

/**
 * Starts `node <script> <args>` with an IPC channel, through `sh` so that the open-file limit can
 * be raised first (`ulimit -n`, best effort: it cannot pass the hard limit).
 * @param {string} script
 * @param {{ args?: string[], execArgv?: string[], fds?: number, env?: Record<string, string> }} [o]
 */
export function startChild(script, o = {}) {
  const fds = o.fds ?? 8192;
  const child = spawn(
    'sh',
    [
      '-c',
      `ulimit -n ${fds} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`,
      process.execPath,
      ...(o.execArgv ?? []),
      script,
      ...(o.args ?? []),
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...(o.env ?? {}) },
    },
  );
  /** @type {any[]} */
  const inbox = [];
  /** @type {{ test: (m: any) => boolean, resolve: (m: any) => void }[]} */
  const waiters = [];
  child.on('message', (m) => {
    const i = waiters.findIndex((w) => w.test(m));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
    else inbox.push(m);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    /** @param {any} m */
    send(m) {
      child.send(m);
    },
    /**
     * The next message of `type` (or matching `test`), failing after `timeoutMs` or when the child exits.
     * @param {string | ((m: any) => boolean)} typeOrTest
     * @param {number} [timeoutMs]
     */
    next(typeOrTest, timeoutMs = 60_000) {
      const test = typeof typeOrTest === 'string' ? (m) => m?.type === typeOrTest || m?.type === 'error' : typeOrTest;
      const j = inbox.findIndex(test);
      if (j >= 0) return checkError(inbox.splice(j, 1)[0]);
      return new Promise((resolve, reject) => {
        const w = {
          test,
          resolve: (m) => {
            clearTimeout(timer);
            try {
              resolve(checkError(m));
            } catch (e) {
              reject(e);
            }
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(
            new Error(
              `${path.basename(script)}: no '${typeof typeOrTest === 'string' ? typeOrTest : 'matching'}' message within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        waiters.push(w);
        void exited.then(({ code, signal }) => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(w), 1);
            reject(new Error(`${path.basename(script)} exited (code ${code}, signal ${signal}) while waiting`));
          }
        });
      });
    },
    /** Asks the child to close (it exits by itself), then kills it if it has not within `ms`. */
    async stop(ms = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        child.send({ type: 'close' });
      } catch {
        /* channel already closed */
      }
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(t);
    },
  };
}

/** @param {any} m */
function checkError(m) {
  if (m?.type === 'error') throw new Error(`child failed: ${m.message}`);
  return m;
}

/** Reports an uncaught failure of a child to its parent, then exits. */
export function childFailureHandler() {
  const fail = (e) => {
    try {
      process.send?.({ type: 'error', message: e?.stack ?? String(e) });
    } catch {
      /* ignore */
    }
    setTimeout(() => process.exit(1), 100);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  process.on('disconnect', () => process.exit(0));
}

/**
 * A small loopback HTTP client (keep-alive), for the coordinators' management calls.
 * @param {http.Agent} agent
 * @param {string} base
 * @param {string} method
 * @param {string} p
 * @param {{ body?: unknown, headers?: Record<string, string> }} [o]
 * @returns {Promise<{ status: number, headers: http.IncomingHttpHeaders, text: string, json: any }>}
 */
export function request(agent, base, method, p, o = {}) {
  const u = new URL(p, base);
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        agent,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          ...(o.headers ?? {}),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = text === '' ? null : JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Throws unless the response has one of the expected statuses. */
export function expectStatus(r, ...ok) {
  if (!ok.includes(r.status)) throw new Error(`unexpected HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  return r;
}

/** Logs in and returns the `Authorization` header value. */
export async function login(agent, base, email, password) {
  const r = expectStatus(await request(agent, base, 'POST', '/api/v1/auth/login', { body: { email, password } }), 200);
  return `Bearer ${r.json.data.access_token}`;
}

/**
 * Nearest-rank percentile of an ascending array.
 * @param {ArrayLike<number>} sorted
 * @param {number} p in [0, 100]
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** p50 / p95 / p99 / max of unsorted samples. */
export function summarize(samples) {
  const s = Float64Array.from(samples).sort();
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.length > 0 ? s[s.length - 1] : NaN };
}

/** @param {number[]} xs */
export function median(xs) {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A number with sensible precision for a table. */
export function fmt(x, digits) {
  if (x === null || x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return '∞';
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** "1-minute load average" note, the same wording in every section. */
export function loadNote(before, after) {
  return `1-minute load average ${before.toFixed(2)} before, ${after.toFixed(2)} after (${os.cpus().length} cores; above the core count, other processes competed for the CPU)`;
}
export const load1 = () => os.loadavg()[0];

/** The machine's CPU time counters so far (Linux `/proc/stat`, in ticks), or null elsewhere. */
export function cpuTicks() {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    return { busy: user + nice + system + irq + softirq, idle, iowait, steal };
  } catch {
    return null;
  }
}

/** Shares (0-1) of the machine's CPU time between two `cpuTicks()` readings. */
export function cpuShares(a, b) {
  if (a === null || b === null) return null;
  const d = { busy: b.busy - a.busy, idle: b.idle - a.idle, iowait: b.iowait - a.iowait, steal: b.steal - a.steal };
  const total = d.busy + d.idle + d.iowait + d.steal || 1;
  return { busy: d.busy / total, idle: d.idle / total, iowait: d.iowait / total, steal: d.steal / total };
}

/** Node processes other than this benchmark's that were using CPU at the start (noise). */
export function otherBusyProcesses() {
  const r = spawnSync('ps', ['-eo', 'pid,ppid,pcpu,comm', '--sort=-pcpu'], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 4 && Number(f[2]) >= 10 && Number(f[0]) !== process.pid)
    .map((f) => `${f[3]} ${f[2]} %`);
}

/**
 * Summarizes a V8 `.cpuprofile`: each sample goes to the first rule (in order) that matches any
 * frame of its stack; the rest is "other JS". Optionally only samples inside the given time
 * windows ([startUs, endUs] on the monotonic clock) count.
 * @param {string} file
 * @param {{ name: string, test?: (frame: { functionName: string, url: string }) => boolean, leafOnly?: boolean, stack?: (frames: { functionName: string, url: string }[]) => boolean }[]} rules
 *   `test` matches one frame (any frame of the stack, or only the leaf with `leafOnly`); `stack`
 *   sees the whole stack, leaf first.
 * @param {[number, number][]} [windows]
 * @returns {{ totalMs: number, categories: { name: string, ms: number, pct: number }[], topSelf: { fn: string, ms: number, pct: number }[] }}
 */
export function summarizeProfile(file, rules, windows) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  /** @type {Map<number, any>} */
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {Map<number, string>} */
  const catOf = new Map();
  const categorize = (id) => {
    const cached = catOf.get(id);
    if (cached !== undefined) return cached;
    const leaf = byId.get(id).callFrame;
    const stack = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) stack.push(byId.get(cur).callFrame);
    let cat = 'other JS (not matched above)';
    for (const r of rules) {
      if (r.stack !== undefined ? r.stack(stack) : r.leafOnly ? r.test(leaf) : stack.some(r.test)) {
        cat = r.name;
        break;
      }
    }
    catOf.set(id, cat);
    return cat;
  };
  /** @type {Map<string, number>} */
  const cats = new Map();
  /** @type {Map<string, number>} */
  const self = new Map();
  let t = prof.startTime;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (windows !== undefined && !windows.some(([a, b]) => t >= a && t <= b)) continue;
    const id = prof.samples[i];
    const cat = categorize(id);
    cats.set(cat, (cats.get(cat) ?? 0) + dt);
    const f = byId.get(id).callFrame;
    const fn = `${f.functionName || '(anonymous)'} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
    self.set(fn, (self.get(fn) ?? 0) + dt);
    total += dt;
  }
  const pct = (us) => (total > 0 ? (100 * us) / total : 0);
  return {
    totalMs: total / 1000,
    categories: [...cats].map(([name, us]) => ({ name, ms: us / 1000, pct: pct(us) })).sort((a, b) => b.ms - a.ms),
    topSelf: [...self]
      .map(([fn, us]) => ({ fn, ms: us / 1000, pct: pct(us) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12),
  };
}

/** Frame predicates for profile rules. */
export const frameIs = {
  idle: (f) => f.functionName === '(idle)',
  gc: (f) => f.functionName === '(garbage collector)',
  program: (f) => f.functionName === '(program)',
  url: (re) => (f) => re.test(f.url),
  fn: (re) => (f) => re.test(f.functionName),
  native: (re) => (f) => f.url === '' && re.test(f.functionName),
};

/** Rules shared by every server profile, after the benchmark-specific ones. */
export const COMMON_RULES = [
  { name: 'SQLite (better-sqlite3)', test: frameIs.url(/better-sqlite3/) },
  {
    name: 'HTTP: node:http / net / streams',
    test: frameIs.url(/^node:(_http|http|net|stream|internal\/(streams|http|net|stream_base|js_stream))/),
  },
  { name: 'Hono + @hono/node-server (routing, middleware, Request/Response adapters)', test: frameIs.url(/(hono|@hono)/) },
  { name: 'pino / prom-client', test: frameIs.url(/(pino|prom-client)/) },
];

/** The profile file a `--cpu-prof-dir` run left (the newest `.cpuprofile`). */
export function newestProfile(dir) {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files[0] ?? null;
}

/**
 * The profile one thread of a process wrote into `dir` (`--cpu-prof` names each file
 * `CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile`; 0 is the main thread, workers count up
 * in the order they started), or null.
 */
export function threadProfile(dir, threadId) {
  const f = fs.readdirSync(dir).find((x) => new RegExp(`^CPU\\.\\d+\\.\\d+\\.\\d+\\.${threadId}\\.\\d+\\.cpuprofile$`).test(x));
  return f === undefined ? null : path.join(dir, f);
}

/** Markdown table of a profile summary. */
export function profileTable(summary, limit = 12) {
  const lines = ['| where | ms | share |', '|---|--:|--:|'];
  for (const c of summary.categories.slice(0, limit)) lines.push(`| ${c.name} | ${fmt(c.ms, 0)} | ${fmt(c.pct, 1)} % |`);
  return lines.join('\n');
}

/** Markdown table of the functions with the most self time. */
export function topSelfTable(summary, limit = 8) {
  const lines = ['| function (self time) | ms | share |', '|---|--:|--:|'];
  for (const c of summary.topSelf.slice(0, limit))
    lines.push(`| \`${c.fn.replace(/\|/g, '\\|')}\` | ${fmt(c.ms, 0)} | ${fmt(c.pct, 1)} % |`);
  return lines.join('\n');
}

/** Writes `results/<name>.md`. */
export function writeSection(resultsDir, name, markdown) {
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.md`);
  fs.writeFileSync(file, markdown.trimEnd() + '\n');
  return file;
}

/** A fresh temp directory for one benchmark, removed by the returned function. */
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `switchyard-bench-${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
