import { existsSync } from 'node:fs';
import { defineConfig } from 'tsup';

const entry: Record<string, string> = { index: 'src/index.ts' };
if (existsSync('src/openfeature/index.ts')) entry.openfeature = 'src/openfeature/index.ts';

export default defineConfig({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2020',
});
