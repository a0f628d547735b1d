import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script of the repository, without type declarations.
import { stalePackages } from '../../../scripts/build-if-stale.mjs';

/** The packages whose build the browser tests run: the console's assets and the server that serves them. */
const BUILT = ['console', 'core', 'sdk-node', 'server'];

/**
 * The browser tests drive the built console as the server serves it. The root `pnpm test` builds
 * every package first; a run of this project alone needs `pnpm build` (or this package's build).
 * A build older than its sources is refused too: the tests would pass or fail on the old code
 * (an edit not yet built looks like a console that ignores it).
 */
export default function setup(): void {
  for (const file of ['../dist/index.html', '../../server/dist/index.js', '../../sdk-node/dist/index.js']) {
    if (!existsSync(fileURLToPath(new URL(file, import.meta.url))))
      throw new Error(`${file} is missing: run \`pnpm build\` at the repository root first`);
  }
  const root = fileURLToPath(new URL('../../..', import.meta.url));
  const stale = (stalePackages(root) as string[]).filter((p) => BUILT.includes(p));
  if (stale.length > 0)
    throw new Error(`the build of ${stale.join(', ')} is older than its sources: run \`pnpm build\` at the repository root first`);
}
