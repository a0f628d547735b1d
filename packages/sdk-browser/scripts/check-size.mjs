// Fails the build when an entry is over its size budget (minified + gzip level 9, 1 kB = 1000 B)
// or pulls in what it must not: the remote entry never includes core's evaluator or zod, and no
// entry includes a Node built-in. Run after tsup: `node scripts/check-size.mjs [dist directory]`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = process.argv[2] ? pathToFileURL(resolve(process.argv[2]) + '/') : new URL('../dist/', import.meta.url);
const read = (name) => readFileSync(new URL(name, dist));
const meta = (name) => JSON.parse(read(name).toString());

const budgets = [
  {
    entry: 'remote (`@switchyard/sdk-browser`)',
    file: 'switchyard.min.js',
    budget: 6000,
    // Core's protocol (from source) is welcome; anything else of core is its evaluator.
    forbid: [/\/core\/(?!src\/protocol\/)/, /zod/, /murmurhash/],
  },
  {
    entry: 'local (`@switchyard/sdk-browser/local`)',
    file: 'switchyard-local.min.js',
    budget: 10000,
    // The RE2 engine is `switchyard-re2.min.js`, fetched when a config uses `matches`.
    forbid: [/zod/, /\/core\/dist\/schema/, /murmurhash3js-revisited/, /\/re2\/engine/],
  },
];
// Files without a metafile entry of their own: budget only.
const plain = [{ entry: 'RE2 engine (local, on demand)', file: 'switchyard-re2.min.js', budget: 1500 }];

const iife = meta('metafile-iife.json');
const esm = meta('metafile-esm.json');
const problems = [];
const rows = [];

for (const { entry, file, budget, forbid } of budgets) {
  const code = read(file);
  const gz = gzipSync(code, { level: 9 }).length;
  rows.push(`${entry.padEnd(42)} ${String(code.length).padStart(7)} B min  ${String(gz).padStart(6)} B min+gzip  (budget ${budget})`);
  if (gz > budget) problems.push(`${file}: ${gz} B min+gzip is over the ${budget} B budget`);
  const inputs = Object.keys(iife.outputs[`dist/${file}`]?.inputs ?? {});
  if (inputs.length === 0) problems.push(`${file}: not in the metafile`);
  for (const input of inputs) {
    for (const re of forbid) if (re.test(input)) problems.push(`${file} includes ${input}`);
    if (/^node:|^(fs|path|crypto|http|https|stream|zlib|os|url|util|events|buffer)$/.test(input))
      problems.push(`${file} includes the Node built-in ${input}`);
  }
  if (/require\(["']node:|from ?["']node:/.test(code.toString())) problems.push(`${file} references a node: module`);
}

for (const { entry, file, budget } of plain) {
  const code = read(file);
  const gz = gzipSync(code, { level: 9 }).length;
  rows.push(`${entry.padEnd(42)} ${String(code.length).padStart(7)} B min  ${String(gz).padStart(6)} B min+gzip  (budget ${budget})`);
  if (gz > budget) problems.push(`${file}: ${gz} B min+gzip is over the ${budget} B budget`);
}

// The ESM entries (what bundlers take) carry the same code: the remote one must not import core
// at run time, directly or through a chunk; the local one has core inlined (with the shim).
const externalsOf = (entry, out = entry, seen = new Set()) => {
  if (seen.has(out)) return [];
  seen.add(out);
  return (esm.outputs[out]?.imports ?? []).flatMap((imp) => (imp.external ? [imp.path] : externalsOf(entry, imp.path, seen)));
};
// The local entry reaches the RE2 engine only through a dynamic import (a chunk loaded on demand).
const staticInputs = (out, seen = new Set()) => {
  if (seen.has(out)) return [];
  seen.add(out);
  const o = esm.outputs[out];
  const nested = (o?.imports ?? []).filter((imp) => !imp.external && imp.kind !== 'dynamic-import');
  return [...Object.keys(o?.inputs ?? {}), ...nested.flatMap((imp) => staticInputs(imp.path, seen))];
};
for (const input of staticInputs('dist/local.js')) {
  if (/\/re2\/engine/.test(input)) problems.push(`dist/local.js loads ${input} up front`);
}
for (const entry of ['dist/index.js', 'dist/local.js', 'dist/openfeature.js']) {
  if (!(entry in esm.outputs)) problems.push(`${entry}: not in the metafile`);
  for (const path of externalsOf(entry)) {
    if (!path.startsWith('@openfeature/')) problems.push(`${entry} imports ${path} at run time`);
  }
}

console.log(rows.join('\n'));
if (problems.length > 0) {
  console.error(`\nsize check failed:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('size check passed');
