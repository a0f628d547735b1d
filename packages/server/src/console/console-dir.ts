import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the built console is: `SWITCHYARD_CONSOLE_DIR` when set; else `console/` beside this
 * package's compiled files (the console's build copies itself there, so an installed server
 * carries it); else the sibling workspace package's `dist/`. `null` when none has an index.html.
 */
export function findConsoleDir(env: Record<string, string | undefined> = process.env): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    env.SWITCHYARD_CONSOLE_DIR,
    join(here, 'console'),
    // From src/console when running the sources under vitest.
    resolve(here, '../../dist/console'),
    resolve(here, '../../console/dist'),
    resolve(here, '../../../console/dist'),
  ];
  for (const dir of candidates) if (dir !== undefined && dir !== '' && existsSync(join(dir, 'index.html'))) return dir;
  return null;
}
