import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each package the browser tests run built, and the output every build of it rewrites. */
const BUILT: Record<string, string> = {
  console: 'dist/index.html',
  core: 'dist/index.js',
  'sdk-node': 'dist/index.js',
  server: 'dist/index.js',
};

/** The newest modification time of the files under `path`. */
function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e))));
}

/**
 * The browser tests drive the built console as the server serves it. The root `pnpm test` builds
 * every package first; a run of this project alone needs `pnpm build` (or this package's build).
 * A build older than its sources is refused too: the tests would pass or fail on the old code
 * (an edit not yet built looks like a console that ignores it).
 */
export default function setup(): void {
  const packages = fileURLToPath(new URL('../..', import.meta.url));
  const stale: string[] = [];
  for (const [name, output] of Object.entries(BUILT)) {
    const built = join(packages, name, output);
    if (!existsSync(built)) throw new Error(`${name}/${output} is missing: run \`pnpm build\` at the repository root first`);
    if (newest(join(packages, name, 'src')) > statSync(built).mtimeMs) stale.push(name);
  }
  if (stale.length > 0)
    throw new Error(`the build of ${stale.join(', ')} is older than its sources: run \`pnpm build\` at the repository root first`);
}
