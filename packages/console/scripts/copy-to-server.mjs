// Copies the built console into the server's dist/console, so the server package carries the
// console it serves (the server also finds this package's dist/ directly in the workspace).
import { cpSync, existsSync, rmSync } from 'node:fs';

const from = new URL('../dist/', import.meta.url);
const serverDist = new URL('../../server/dist/', import.meta.url);
if (!existsSync(serverDist)) {
  console.log('console: the server is not built; it will serve packages/console/dist directly');
} else {
  const to = new URL('console/', serverDist);
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  console.log('console: copied into packages/server/dist/console');
}
