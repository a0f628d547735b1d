import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { stalePackages } from '../scripts/build-if-stale.mjs';

let root: string;
const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

function pkg(name: string, srcTime: number, distTime: number | null): void {
  const dir = join(root, 'packages', name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{}');
  writeFileSync(join(dir, 'src', 'index.ts'), '');
  at(join(dir, 'package.json'), 1000);
  at(join(dir, 'src', 'index.ts'), srcTime);
  if (distTime !== null) {
    mkdirSync(join(dir, 'dist'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'index.js'), '');
    writeFileSync(join(dir, 'dist', 'index.d.ts'), '');
    at(join(dir, 'dist', 'index.js'), distTime);
    at(join(dir, 'dist', 'index.d.ts'), distTime + 5);
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'switchyard-stale-'));
  writeFileSync(join(root, 'tsconfig.base.json'), '{}');
  at(join(root, 'tsconfig.base.json'), 1000);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('pnpm start: build only when outputs are stale', () => {
  it('nothing to build when every dist is newer than its sources', () => {
    pkg('core', 2000, 3000);
    pkg('server', 2000, 3000);
    expect(stalePackages(root)).toEqual([]);
  });

  it('a source newer than the oldest output, or a missing dist, is stale', () => {
    pkg('core', 3002, 3000); // newer than index.js, older than index.d.ts
    pkg('server', 2000, null);
    pkg('stats', 2000, 3000);
    expect(stalePackages(root)).toEqual(['core', 'server']);
  });

  it('a newer shared tsconfig.base.json makes every package stale', () => {
    pkg('core', 2000, 3000);
    at(join(root, 'tsconfig.base.json'), 4000);
    expect(stalePackages(root)).toEqual(['core']);
  });
});
