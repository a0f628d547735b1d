/**
 * Config at scale: what a one-flag change costs on a 10,000-flag config, and how fast 10,000
 * flags get in.
 *
 * 1. Core, in process: a one-flag change applied to a compiled 10,000-flag config, the way every
 *    SDK and the server did it before (`compileConfig(applyPatch(doc, patch))`: the whole config
 *    recompiled) and incrementally (`patchCompiledConfig`), alternating, in the same run. Also a
 *    change of a segment 100 of the flags target. Each figure is the median of ROUNDS.
 * 2. Server (SQLite, in process, from the built dist): two servers, one with 300 flags created one
 *    `POST` at a time (that rate is the import's baseline) and one with 10,000 flags brought in by
 *    one `POST /api/v1/import`; then the median time of a management `PATCH` of one flag on each,
 *    the two servers alternating round by round so that both sizes meet the same machine load.
 */
import { pathToFileURL } from 'node:url';
import * as core from '@switchyard/core';
import path from 'node:path';
import { SERVER_DIST, assertBuilt, fmt, load1, loadNote, median, nowNs, tempDir, writeSection } from './lib.mjs';
import { machineLine } from '../lib/machine.mjs';

export const NAME = 'config-scale';
const FLAGS = 10_000;
const ADMIN_PASSWORD = 'bench-admin-password-1';

/** A flag like the ones real configs hold: a couple of targeting rules, a rollout. */
function flag(i, extra = {}) {
  return {
    key: `flag-${i}`,
    type: 'boolean',
    enabled: true,
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    off_variant: 'off',
    rules: [
      { id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } },
      { id: 'country', when: { attr: 'country', op: 'in', values: ['US', 'CA', 'GB', 'DE', 'FR'] }, serve: { variant: 'on' } },
      ...(i % 100 === 0 ? [{ id: 'beta', when: { segment: 'beta' }, serve: { variant: 'on' } }] : []),
    ],
    default_serve: {
      split: [
        { variant: 'on', weight: 20 },
        { variant: 'off', weight: 80 },
      ],
    },
    ...extra,
  };
}

function coreBench(core, rounds) {
  const { compileConfig, patchCompiledConfig, applyPatch } = core;
  const flags = {};
  for (let i = 0; i < FLAGS; i++) flags[`flag-${i}`] = flag(i);
  const doc = { schema_version: 1, version: 1, flags, segments: { beta: { key: 'beta', included: ['u1'] } }, experiments: {} };
  let fullDoc = doc;
  const compiled = compileConfig(doc);
  const t = { fullFlag: [], incFlag: [], fullSegment: [], incSegment: [] };
  let version = 1;
  const time = (fn) => {
    const s = nowNs();
    fn();
    return (nowNs() - s) / 1e6;
  };
  for (let r = 0; r < rounds; r++) {
    const k = `flag-${(r * 37) % FLAGS}`;
    const flagPatch = { version: ++version, flags: { [k]: flag((r * 37) % FLAGS, { enabled: r % 2 === 0 }) } };
    t.fullFlag.push(time(() => compileConfig((fullDoc = applyPatch(fullDoc, flagPatch)))));
    t.incFlag.push(time(() => patchCompiledConfig(compiled, flagPatch)));
    const segPatch = { version: ++version, segments: { beta: { key: 'beta', included: [`u${r}`] } } };
    t.fullSegment.push(time(() => compileConfig((fullDoc = applyPatch(fullDoc, segPatch)))));
    t.incSegment.push(time(() => patchCompiledConfig(compiled, segPatch)));
  }
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
}

/** A server (SQLite, in process) with an admin session; `call` throws on any status >= 300. */
async function openServer(startServer, name) {
  const tmp = tempDir(name);
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dbPath: path.join(tmp.dir, 'bench.db'),
    logLevel: 'silent',
    printCredentials: false,
    adminEmail: 'admin@bench.local',
    adminPassword: ADMIN_PASSWORD,
    jwtSecret: 'bench-secret-that-is-long-enough-for-hs256',
    apiRatePerSecond: 1e6,
    apiRateBurst: 1e6,
    env: {},
  });
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@bench.local', password: ADMIN_PASSWORD }),
  });
  const token = `Bearer ${(await login.json()).data.access_token}`;
  const call = async (method, p, body) => {
    const r = await fetch(`${server.url}${p}`, {
      method,
      headers: { authorization: token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text.slice(0, 300)}`);
    return text === '' ? null : JSON.parse(text);
  };
  await call('POST', '/api/v1/segments', { key: 'beta', included: ['u1'] });
  return {
    call,
    async close() {
      await server.close();
      tmp.remove();
    },
  };
}

async function serverBench(rounds, log) {
  const { startServer } = await import(pathToFileURL(SERVER_DIST).href);
  const small = await openServer(startServer, 'config-scale-small');
  const large = await openServer(startServer, 'config-scale-large');
  try {
    // The one-by-one baseline: the small server's 300 flags.
    const ONE_BY_ONE = 300;
    let s = nowNs();
    for (let i = 0; i < ONE_BY_ONE; i++) await small.call('POST', '/api/v1/feature-flags', flag(i));
    const oneByOneRate = ONE_BY_ONE / ((nowNs() - s) / 1e9);
    log(`config-scale: ${ONE_BY_ONE} flags one by one at ${fmt(oneByOneRate)}/s`);
    const all = [];
    for (let i = 0; i < FLAGS; i++) all.push(flag(i));
    s = nowNs();
    const imported = await large.call('POST', '/api/v1/import', { flags: all });
    const importMs = (nowNs() - s) / 1e6;
    if (imported.data.flags !== all.length) throw new Error('import did not store every flag');
    // PATCHes alternate between the two servers, so both sizes meet the same machine load.
    const at300 = [];
    const at10k = [];
    const patch = async (server, r, out) => {
      const t0 = nowNs();
      await server.call('PATCH', `/api/v1/feature-flags/flag-${r % 10}`, { enabled: r % 2 === 0 });
      out.push((nowNs() - t0) / 1e6);
    };
    // Warm-up: the first writes of each server pay for JIT and caches.
    for (let r = 0; r < 10; r++) {
      await patch(small, r, []);
      await patch(large, r, []);
    }
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        await patch(small, r, at300);
        await patch(large, r, at10k);
      } else {
        await patch(large, r, at10k);
        await patch(small, r, at300);
      }
    }
    const patchAt300 = median(at300);
    const patchAt10k = median(at10k);
    log(
      `config-scale: import of ${all.length} flags ${fmt(importMs)} ms; PATCH at ${ONE_BY_ONE} flags ${fmt(patchAt300)} ms, at ${FLAGS} flags ${fmt(patchAt10k)} ms`,
    );
    return { oneByOneRate, importMs, importCount: all.length, patchAt300, patchAt10k };
  } finally {
    await small.close();
    await large.close();
  }
}

/** @param {{ resultsDir: string, quick?: boolean, log?: (s: string) => void }} o */
export async function run({ resultsDir, quick = false, log = console.log }) {
  assertBuilt();
  const rounds = quick ? 5 : 25;
  const patchRounds = quick ? 20 : 200;
  const before = load1();
  const c = coreBench(core, rounds);
  log(`config-scale: core one-flag patch full ${fmt(c.fullFlag)} ms, incremental ${fmt(c.incFlag, 3)} ms`);
  const s = await serverBench(patchRounds, log);
  const after = load1();
  const ratio = (a, b) => fmt(a / b, 1);
  const md = `## Config at scale: one-flag changes on 10,000 flags, bulk import

${machineLine()}; ${loadNote(before, after)}.${quick ? ' **Quick mode** (fewer rounds).' : ''}
Source: \`benchmarks/src/server/config-scale.mjs\` (method in its header). Wall clock; core: medians of ${rounds} rounds; server \`PATCH\`: medians of ${patchRounds} rounds per size, the two sizes alternating.

### Applying a patch to a compiled 10,000-flag config (core; what the Node SDK, the browser's local mode and the server run per change)

| change | before: full recompile (\`compileConfig(applyPatch(...))\`) | after: \`patchCompiledConfig\` | speed-up |
|---|---:|---:|---:|
| one flag | ${fmt(c.fullFlag)} ms | ${fmt(c.incFlag, 3)} ms | ${ratio(c.fullFlag, c.incFlag)}x |
| a segment 100 flags target | ${fmt(c.fullSegment)} ms | ${fmt(c.incSegment, 3)} ms | ${ratio(c.fullSegment, c.incSegment)}x |

Both columns run alternately in the same process; the "before" column is today's \`compileConfig\`
over the patched document, which is what the SDKs and the server ran per change before. The Node
SDK's \`ConfigStore.patch\` and the browser's local mode call \`patchCompiledConfig\` directly
(plus, in Node, sorting the changed keys). With the machine this loaded, absolute times are
several times what an idle machine gives; compare within a row.

### Management writes and import (server, SQLite)

| measure | value |
|---|---:|
| \`PATCH\` of one flag with 300 flags stored (baseline) | ${fmt(s.patchAt300)} ms |
| \`PATCH\` of one flag with 10,000 flags stored | ${fmt(s.patchAt10k)} ms |
| ratio 10,000 / 300 (goal: close to 1) | ${fmt(s.patchAt10k / s.patchAt300, 2)} |
| creating flags one \`POST\` at a time (first 300; baseline) | ${fmt(s.oneByOneRate)} flags/s |
| \`POST /api/v1/import\` of ${fmt(s.importCount, 0)} flags into an empty server, one request | ${fmt(s.importMs)} ms (${fmt(s.importCount / (s.importMs / 1000))} flags/s, ${ratio(s.importCount / (s.importMs / 1000), s.oneByOneRate)}x the baseline) |

The two servers run in one process and their \`PATCH\`es alternate, so both sizes meet the same
machine load: read the ratio, not the absolute times, which grow with the load average above.
`;
  writeSection(resultsDir, NAME, md);
  return { core: c, server: s };
}
