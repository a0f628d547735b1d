#!/usr/bin/env node
// `pnpm lint:packages`: what npm users get from each published package, checked as packed
// tarballs. publint checks package.json against the files (exports, types, files list);
// @arethetypeswrong/cli checks that TypeScript resolves the types under Node's ESM and CJS
// rules and under bundlers. Private packages (the console, examples) are not published.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

// node10 resolution (no `exports` support) is not a target: every package needs Node >= 20.
// The server is ESM only (a CLI and a server, started with `import`), so `require` of it is
// expected to fail. The browser SDK's `iife` entries are classic scripts for a <script> tag,
// not modules to import, so they have no types by design; `iife/re2` is the RE2 engine the local
// one fetches at run time.
const ATTW_EXTRA = {
  server: ['--ignore-rules', 'cjs-resolves-to-esm'],
  'sdk-browser': ['--exclude-entrypoints', './iife', './iife/local', './iife/re2'],
};

let failed = 0;
for (const name of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', name);
  if (!existsSync(join(dir, 'package.json'))) continue;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (pkg.private === true) continue;
  for (const [tool, args] of [
    ['publint', ['--pack', 'npm', '--strict', dir]],
    ['attw', ['--pack', dir, '--profile', 'node16', '--format', 'table-flipped', ...(ATTW_EXTRA[name] ?? [])]],
  ]) {
    process.stdout.write(`\n== ${tool} ${pkg.name}\n`);
    try {
      execFileSync(bin(tool), args, { cwd: root, stdio: 'inherit' });
    } catch {
      failed++;
      process.stdout.write(`!! ${tool} failed for ${pkg.name}\n`);
    }
  }
}
if (failed > 0) {
  process.stderr.write(`lint:packages: ${failed} check(s) failed\n`);
  process.exit(1);
}
process.stdout.write('\nlint:packages: every published package passes publint and attw\n');
