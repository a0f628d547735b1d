// Fails the build when the JavaScript a first visit loads (sign-in plus the flags list: the
// entry chunk and every chunk it imports statically) is over budget, gzip level 9, 1 kB = 1000 B.
// Other screens are loaded on demand and are reported, not budgeted.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET = 250_000;
const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('.vite/manifest.json', dist), 'utf8'));
const gz = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;

const entry = Object.values(manifest).find((c) => c.isEntry);
if (entry === undefined) throw new Error('no entry chunk in the manifest');
const initial = new Set();
const visit = (name) => {
  const chunk = manifest[name];
  if (chunk === undefined || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const i of chunk.imports ?? []) visit(i);
};
visit(Object.keys(manifest).find((k) => manifest[k] === entry));

const total = [...initial].reduce((s, f) => s + gz(f), 0);
const lazy = Object.values(manifest)
  .filter((c) => c.isDynamicEntry)
  .map((c) => `${c.name} ${(gz(c.file) / 1000).toFixed(1)} kB`);
console.log(
  `console: initial JS (sign-in + flags) ${(total / 1000).toFixed(1)} kB gzip of ${BUDGET / 1000} kB budget; on demand: ${lazy.join(', ') || 'none'}`,
);
if (total > BUDGET) {
  console.error(`console: initial JS is over budget by ${((total - BUDGET) / 1000).toFixed(1)} kB`);
  process.exit(1);
}
