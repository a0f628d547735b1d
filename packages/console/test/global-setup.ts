import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The browser tests drive the built console as the server serves it. The root `pnpm test` builds
 * every package first; a run of this project alone needs `pnpm build` (or this package's build).
 */
export default function setup(): void {
  for (const file of ['../dist/index.html', '../../server/dist/index.js', '../../sdk-node/dist/index.js']) {
    if (!existsSync(fileURLToPath(new URL(file, import.meta.url))))
      throw new Error(`${file} is missing: run \`pnpm build\` at the repository root first`);
  }
}
