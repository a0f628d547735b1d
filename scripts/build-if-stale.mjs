#!/usr/bin/env node
// `pnpm start` runs this first: it rebuilds the packages only when a build input is newer than
// the package's oldest build output (or an output is missing), so an unchanged tree starts at
// once instead of spending a minute in tsup.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INPUTS = ['src', 'scripts', 'package.json', 'tsconfig.json', 'tsup.config.ts'];

/** Newest (or oldest) mtime of the files under `path`; `null` when there are none. */
function mtime(path, pick) {
  if (!existsSync(path)) return null;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let out = null;
  for (const entry of readdirSync(path)) {
    const t = mtime(join(path, entry), pick);
    if (t !== null) out = out === null ? t : pick(out, t);
  }
  return out;
}

/**
 * The packages under `root/packages` whose `dist` is missing or older than an input
 * (their own sources and config, or the shared `tsconfig.base.json`).
 */
export function stalePackages(root) {
  const shared = mtime(join(root, 'tsconfig.base.json'), Math.max) ?? 0;
  const stale = [];
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const newestInput = Math.max(shared, ...INPUTS.map((i) => mtime(join(dir, i), Math.max) ?? 0));
    const oldestOutput = mtime(join(dir, 'dist'), Math.min);
    if (oldestOutput === null || newestInput > oldestOutput) stale.push(name);
  }
  return stale;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
  const stale = stalePackages(root);
  if (stale.length === 0) {
    console.log('build outputs are current; skipping the build');
  } else {
    console.log(`rebuilding (changed: ${stale.join(', ')})`);
    // The whole build, in dependency order: a package's dist can depend on another's.
    execFileSync('npx', ['-y', 'pnpm@12.4.2', 'run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}
