import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const root = join(pkg, '../..');

const newest = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );

const stale = () => {
  const built = join(pkg, 'dist/switchyard.min.js');
  const sources = Math.max(
    newest(join(pkg, 'src')),
    statSync(join(pkg, 'tsup.config.ts')).mtimeMs,
    statSync(join(root, 'packages/core/dist/index.js')).mtimeMs,
  );
  return !existsSync(built) || statSync(built).mtimeMs < sources;
};

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The browser tests run the built bundles. When `dist` is missing or older than `src` (or the
 * build config, or core's build), run this package's `build` script first, size check
 * included; the server and core must have been built (`pnpm build` at the root does both).
 * Projects that share this setup (examples/browser-app) take turns through a lock directory.
 */
export default function setup(): void {
  for (const dep of ['packages/server/dist/index.js', 'packages/core/dist/index.js']) {
    if (!existsSync(join(root, dep))) throw new Error(`${dep} is missing: run \`pnpm build\` at the repository root first`);
  }
  if (!stale()) return;
  const lock = join(pkg, '.build-lock');
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 180_000) rmSync(lock, { recursive: true, force: true }); // left by a killed run
      sleep(200);
    }
  }
  try {
    if (!stale()) return;
    const script = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).scripts.build as string;
    execSync(script, {
      cwd: pkg,
      stdio: 'inherit',
      env: { ...process.env, PATH: `${join(pkg, 'node_modules/.bin')}:${join(root, 'node_modules/.bin')}:${process.env.PATH}` },
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
