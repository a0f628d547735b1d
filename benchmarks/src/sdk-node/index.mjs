import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from 'mitata';
import { compileConfig, evaluate } from '@switchyard/core';
import { document as scenarioDocument } from '../evaluation/adapters/switchyard.mjs';
import { KEYS, SCENARIO_IDS, SCENARIO_LABELS, generateUsers } from '../evaluation/scenarios.mjs';
import { machine, machineLine, packageVersion } from '../lib/machine.mjs';

/**
 * The Node SDK benchmark: what `@switchyard/sdk-node` adds on top of bare `@switchyard/core`.
 *
 * 1. Evaluation through the client vs bare core, over the evaluation benchmark's S1–S4 scenarios
 *    (same flag definitions, same 10,000 users). The client is a live (not offline) client whose
 *    config came from a bootstrap and whose HTTP is stubbed: exposures are recorded and deduped
 *    exactly as in production, and nothing touches the network. S4 is an experiment, so it pays
 *    the exposure dedupe on every call (steady state: every unit already exposed).
 * 2. Memory of a client holding 10,000 flags, against the same document compiled by bare core,
 *    and the time to apply such a document as it arrives on the stream (`put`).
 *
 * The SDK is imported from its build (`packages/sdk-node/dist`): run `npx tsup` there first.
 */

/** The client may add at most this much over bare core (ratio - 1). */
export const TARGET_OVERHEAD = 0.2;

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDist = path.resolve(here, '../../../packages/sdk-node/dist/index.js');

const CLOCK = process.env.BENCH_CLOCK === 'wall' ? 'wall' : 'cpu';
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1e3;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmtNs = (ns) => (ns >= 100 ? Math.round(ns).toLocaleString('en-US') : ns >= 10 ? ns.toFixed(1) : ns.toFixed(2));
const mib = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const pct = (r) => `${r >= 1 ? '+' : '−'}${Math.abs((r - 1) * 100).toFixed(1)} %`;

/** A fresh call site per (variant, scenario), as in the evaluation benchmark. */
function makeBenchFn(label, run, contexts) {
  const src = `/* ${label.replace(/\*\//g, '')} */
    let i = 0;
    let last;
    const n = contexts.length;
    return function bench() {
      const c = contexts[i];
      if (++i === n) i = 0;
      last = run(c);
      return last;
    };`;
  return new Function('run', 'contexts', src)(run, contexts);
}

/**
 * HTTP for a client that must not touch the network: the stream never answers (so sync stays
 * quiet), event batches are acknowledged at once.
 */
function stubFetch() {
  return async (url, init) => {
    if (url.endsWith('/sdk/v1/events')) {
      const n = JSON.parse(init.body).events.length;
      return new Response(JSON.stringify({ data: { accepted: n, duplicates: 0 } }), {
        status: 202,
        headers: { 'content-type': 'application/json' },
      });
    }
    return new Promise((_resolve, reject) =>
      init.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
    );
  };
}

/** 10,000 flags of every type and shape a real config mixes. */
function bigDocument(n = 10_000) {
  const flags = {};
  const ON_OFF = [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ];
  for (let i = 0; i < n; i++) {
    const key = `flag-${String(i).padStart(5, '0')}`;
    switch (i % 4) {
      case 0:
        flags[key] = {
          key,
          type: 'boolean',
          enabled: true,
          variants: ON_OFF,
          off_variant: 'off',
          rules: [],
          default_serve: { variant: 'on' },
        };
        break;
      case 1:
        flags[key] = {
          key,
          type: 'boolean',
          enabled: true,
          variants: ON_OFF,
          off_variant: 'off',
          rules: [],
          default_serve: {
            split: [
              { variant: 'on', weight: 25 },
              { variant: 'off', weight: 75 },
            ],
          },
        };
        break;
      case 2:
        flags[key] = {
          key,
          type: 'string',
          enabled: true,
          variants: [
            { key: 'a', value: 'alpha' },
            { key: 'b', value: 'beta' },
            { key: 'c', value: 'gamma' },
          ],
          rules: [
            { id: 'eu', when: { attr: 'country', op: 'in', values: ['DE', 'FR', 'IT', 'ES', 'NL'] }, serve: { variant: 'b' } },
            {
              id: 'staff',
              when: {
                all: [
                  { attr: 'email', op: 'ends_with', values: ['@example.com'] },
                  { attr: 'plan', op: 'neq', values: ['free'] },
                ],
              },
              serve: { variant: 'c' },
            },
          ],
          default_serve: { variant: 'a' },
        };
        break;
      default:
        flags[key] = {
          key,
          type: 'json',
          enabled: i % 8 !== 3,
          variants: [
            { key: 'v1', value: { limit: 10, tiers: ['free'] } },
            { key: 'v2', value: { limit: 100, tiers: ['pro', 'team'] } },
          ],
          off_variant: 'v1',
          rules: [{ id: 'new-app', when: { attr: 'version', op: 'semver_gte', values: ['5.0.0'] }, serve: { variant: 'v2' } }],
          default_serve: { variant: 'v1' },
        };
    }
  }
  return { schema_version: 1, version: 1, flags, segments: {}, experiments: {} };
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

/**
 * @param {{ resultsDir: string, quick?: boolean, rounds?: number, log?: (s: string) => void }} options
 */
export async function run(options) {
  const log = options.log ?? ((s) => console.log(s));
  const quick = options.quick === true;
  const rounds = options.rounds ?? (quick ? 1 : 5);
  const minCpuTime = (quick ? 150 : 300) * 1e6;
  if (typeof globalThis.gc !== 'function') throw new Error('run node with --expose-gc (run-all.mjs re-spawns itself with it)');
  if (!fs.existsSync(sdkDist)) throw new Error(`${sdkDist} is missing: build the SDK first (cd packages/sdk-node && npx tsup)`);
  const { createClient } = await import(sdkDist);

  const started = Date.now();
  const m = machine();
  const loadBefore = os.loadavg()[0];
  const users = generateUsers(10_000);
  const contexts = users.map((u) => ({ key: u.key, country: u.country, plan: u.plan, email: u.email, version: u.version }));

  // ---- 1. evaluation ------------------------------------------------------------------------
  const compiled = compileConfig(scenarioDocument);
  const client = createClient({
    sdkKey: 'bench',
    baseUrl: 'http://sdk-bench.invalid',
    bootstrap: scenarioDocument,
    fetch: stubFetch(),
    exposureCacheSize: 50_000,
  });
  // The same, with events off: no exposure dedupe, so the wrapper alone.
  const quiet = createClient({
    sdkKey: 'bench',
    baseUrl: 'http://sdk-bench.invalid',
    bootstrap: scenarioDocument,
    fetch: stubFetch(),
    events: { enabled: false },
  });
  const defaults = { s1: false, s2: false, s3: false, s4: 'control' };
  /** variant id -> scenario -> function(context) */
  const VARIANTS = {
    core: { name: 'bare core: `evaluate(compiled, key, ctx, default)`', run: (s) => (c) => evaluate(compiled, KEYS[s], c, defaults[s]) },
    detail: { name: 'client: `client.detail(key, ctx, default)`', run: (s) => (c) => client.detail(KEYS[s], c, defaults[s]) },
    quiet: { name: 'client with events off: `client.detail(key, ctx, default)`', run: (s) => (c) => quiet.detail(KEYS[s], c, defaults[s]) },
    typed: {
      name: 'client: `client.boolean(...)` (S1–S3) / `client.variant(...)` (S4)',
      run: (s) => (s === 's4' ? (c) => client.variant(KEYS[s], c) : (c) => client.boolean(KEYS[s], c, false)),
    },
  };
  const variantIds = Object.keys(VARIANTS);

  // Sanity and warm-up: the client must answer exactly like core, and S4 records its exposures.
  for (let pass = 0; pass < 2; pass++) {
    for (const s of SCENARIO_IDS) {
      for (const c of contexts) {
        const a = evaluate(compiled, KEYS[s], c, defaults[s]);
        const b = client.detail(KEYS[s], c, defaults[s]);
        if (a.value !== b.value || a.variant !== b.variant || a.reason !== b.reason)
          throw new Error(`client and core disagree on ${s} for ${c.key}`);
        VARIANTS.typed.run(s)(c);
        VARIANTS.quiet.run(s)(c);
      }
    }
  }
  await client.flush();
  const exposed = client.stats();
  if (exposed.exposuresRemembered !== users.length)
    throw new Error(`expected ${users.length} remembered exposures, got ${exposed.exposuresRemembered}`);
  log(`sdk-node: sanity ok; ${exposed.events.delivered} exposures recorded once each (${exposed.exposuresRemembered} remembered)`);

  const samples = new Map();
  for (let r = 0; r < rounds; r++) {
    for (const s of SCENARIO_IDS) {
      for (const v of variantIds) {
        const fn = makeBenchFn(`sdk-node ${v} ${s} ${r}`, VARIANTS[v].run(s), contexts);
        const stats = await measure(fn, CLOCK === 'cpu' ? { min_cpu_time: minCpuTime, now: cpuNow } : { min_cpu_time: minCpuTime });
        const key = `${v}/${s}`;
        samples.set(key, [...(samples.get(key) ?? []), stats.p50]);
        log(`  round ${r + 1}/${rounds} ${s} ${v.padEnd(7)} ${fmtNs(stats.p50).padStart(8)} ns/eval`);
      }
    }
  }
  const ns = (v, s) => median(samples.get(`${v}/${s}`));
  const afterTiming = client.stats();
  await client.close();
  await quiet.close();

  const verdict = SCENARIO_IDS.map((s) => {
    const ratio = ns('detail', s) / ns('core', s);
    return { s, ratio, ok: ratio - 1 < TARGET_OVERHEAD, typedRatio: ns('typed', s) / ns('core', s) };
  });

  // ---- 2. memory: a client holding 10,000 flags ----------------------------------------------
  const big = bigDocument(10_000);
  const bigJson = JSON.stringify(big);
  const base = await settle();
  let coreOnly = compileConfig(JSON.parse(bigJson));
  const withCore = await settle();
  if (coreOnly.entries.size !== 10_000) throw new Error('compile lost flags');
  coreOnly = null;
  const base2 = await settle();
  let holder = createClient({ offline: true, bootstrap: JSON.parse(bigJson) });
  const withClient = await settle();
  const evalCheck = holder.detail('flag-00002', { key: 'u', country: 'DE' }, 'x');
  if (evalCheck.value !== 'beta') throw new Error(`big config evaluates wrongly: ${JSON.stringify(evalCheck)}`);
  await holder.close();
  holder = null;
  await settle();

  // Applying a 10,000-flag put as it arrives on the stream: SSE parsing, JSON.parse, compile and
  // the diff that names the changed keys, timed from the moment the frame is handed to the
  // client's stream until its 'change' event.
  const applyMs = [];
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    const frame = `retry: 2000\n\nid: ${2 + i}\nevent: put\ndata: ${JSON.stringify({ ...big, version: 2 + i })}\n\n`;
    let sentAt = 0;
    const fetch = async (url, init) => {
      if (!url.endsWith('/sdk/v1/stream')) return new Promise(() => {});
      const body = new ReadableStream({
        start(controller) {
          sentAt = performance.now();
          controller.enqueue(new TextEncoder().encode(frame));
        },
      });
      init.signal?.addEventListener('abort', () => body.cancel().catch(() => {}));
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    };
    await settle(); // garbage from the previous round is not this round's cost
    const c = createClient({ sdkKey: 'bench', baseUrl: 'http://sdk-bench.invalid', bootstrap: big, fetch, events: { enabled: false } });
    const changed = await new Promise((resolve) => c.once('change', resolve));
    applyMs.push(performance.now() - sentAt);
    if (changed.version !== 2 + i) throw new Error(`put not applied: ${JSON.stringify(changed).slice(0, 200)}`);
    await c.close();
  }

  // The parts core and V8 account for, for comparison.
  const parseMs = [];
  const compileMs = [];
  for (let i = 0; i < (quick ? 3 : 7); i++) {
    let t0 = performance.now();
    const parsed = JSON.parse(bigJson);
    parseMs.push(performance.now() - t0);
    t0 = performance.now();
    compileConfig(parsed);
    compileMs.push(performance.now() - t0);
  }

  // ---- report ----------------------------------------------------------------------------------
  const L = [];
  L.push('## Node SDK: client overhead over bare core, and memory');
  L.push('');
  L.push(
    `Measured on ${machineLine(m)}. \`@switchyard/sdk-node\` ${JSON.parse(fs.readFileSync(path.resolve(here, '../../../packages/sdk-node/package.json'), 'utf8')).version} (built \`dist\`), \`@switchyard/core\` ${packageVersion('@switchyard/core')}, mitata ${packageVersion('mitata')}; the evaluation benchmark's S1–S4 flags and ${users.length.toLocaleString('en-US')} users; ${rounds} round(s), each cell the median over rounds of mitata's p50, clock: ${CLOCK === 'cpu' ? 'process CPU time' : 'wall'}. 1-minute load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after. Wall time ${Math.round((Date.now() - started) / 1000)} s${quick ? '; **quick mode** (shorter runs, not for publishing)' : ''}.`,
  );
  L.push('');
  L.push('### ns per evaluation (median)');
  L.push('');
  L.push(`| call | ${SCENARIO_IDS.map((s) => SCENARIO_LABELS[s]).join(' | ')} |`);
  L.push(`|---|${SCENARIO_IDS.map(() => '--:').join('|')}|`);
  for (const v of variantIds) L.push(`| ${VARIANTS[v].name} | ${SCENARIO_IDS.map((s) => fmtNs(ns(v, s))).join(' | ')} |`);
  L.push(`| overhead of \`client.detail\` over core | ${verdict.map((x) => `${pct(x.ratio)} ${x.ok ? '✅' : '❌'}`).join(' | ')} |`);
  L.push(`| overhead of the typed call over core | ${verdict.map((x) => pct(x.typedRatio)).join(' | ')} |`);
  L.push('');
  L.push(
    `Target: the client adds under ${TARGET_OVERHEAD * 100} % over bare core (\`client.detail\` vs \`evaluate\`, same inputs, same detail out) — ${verdict.every((x) => x.ok) ? '**met**' : '**NOT met**'} (${verdict.map((x) => `${x.s.toUpperCase()} ${pct(x.ratio)}`).join(', ')}).`,
  );
  L.push('');
  L.push(
    `What the client adds per call: a null check for "no config yet", a \`try\` (evaluation must never throw) and, for experiments (S4), the exposure dedupe — a steady-state hit in a bounded LRU (one \`Map#get\` on the caller's unit string and a comparison with the variant, no write: a hash probe into the map of exposed units, which over 10,000 distinct units mostly misses the CPU caches), since all ${users.length.toLocaleString('en-US')} units were exposed during warm-up (${afterTiming.events.delivered.toLocaleString('en-US')} exposures delivered once each to the stubbed endpoint; ${afterTiming.exposuresRemembered.toLocaleString('en-US')} pairs remembered). The client is live (events on, HTTP stubbed, the stream held open without data), not offline, so this is the production path.`,
  );
  L.push('');
  L.push(
    `S1–S3 (flags) measure the wrapper alone; differences of a few percent either way are noise and JIT state (the same \`detail\` function serves every scenario, as in a real service). S4 is an experiment: on top of core, every call asks whether this (experiment, unit) pair was already exposed, which is what "one exposure per unit" costs; with events off (no exposures, so no dedupe) \`client.detail\` was ${pct(ns('quiet', 's4') / ns('core', 's4'))} over core in S4. \`client.variant\`, the call meant for experiments, was ${pct(verdict[3].typedRatio)} in this run.`,
  );
  L.push('');
  L.push('### Memory: a client holding 10,000 flags');
  L.push('');
  L.push(
    '`heapUsed` after forced GCs, before and after building each holder from the same document (a quarter each: boolean on, boolean 25 % split, string with two rules, json with a semver rule).',
  );
  L.push('');
  L.push('| holder | heap added | per flag |');
  L.push('|---|--:|--:|');
  L.push(
    `| bare core: \`compileConfig(doc)\` (document + compiled closures) | ${mib(withCore - base)} | ${((withCore - base) / 10_000).toFixed(0)} B |`,
  );
  L.push(
    `| \`createClient({ bootstrap: doc })\` (the same, plus store, queues, LRU, timers) | ${mib(withClient - base2)} | ${((withClient - base2) / 10_000).toFixed(0)} B |`,
  );
  L.push('');
  L.push(
    `The document is ${mib(bigJson.length)} of JSON. Receiving it as a stream \`put\` — SSE parsing, \`JSON.parse\`, compiling, and the diff that names the changed keys for \`'change'\`, from the frame entering the client's stream to the \`'change'\` event — takes ${median(applyMs).toFixed(0)} ms (median of ${applyMs.length}), of which \`JSON.parse\` alone is ${median(parseMs).toFixed(0)} ms and core's \`compileConfig\` alone ${median(compileMs).toFixed(0)} ms. The previous config keeps serving until the new one is swapped in, but the work runs on the event loop. A \`patch\` changing one flag still recompiles the whole document (core compiles per version, not per flag), so with 10,000 flags every change costs about the compile time.`,
  );
  L.push('');

  fs.mkdirSync(options.resultsDir, { recursive: true });
  const file = path.join(options.resultsDir, 'sdk-node.md');
  fs.writeFileSync(file, L.join('\n'));
  log(`sdk-node: wrote ${file} in ${Math.round((Date.now() - started) / 1000)} s`);
  return {
    file,
    verdict,
    ns: Object.fromEntries([...samples.keys()].map((k) => [k, median(samples.get(k))])),
    memory: { core: withCore - base, client: withClient - base2 },
    applyMs: median(applyMs),
    compileMs: median(compileMs),
  };
}

// Run directly: `node --expose-gc src/sdk-node/index.mjs [--quick]` writes results/sdk-node.md
// without reassembling RESULTS.md (run-all.mjs does that).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  run({ resultsDir: path.resolve(here, '../../results'), quick }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
