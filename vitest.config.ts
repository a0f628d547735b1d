import { defineConfig } from 'vitest/config';

// One run over every workspace project, so `pnpm test` prints a single summary.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'examples/*/vitest.config.ts', 'benchmarks/vitest.config.*', 'test/vitest.config.ts'],
  },
});
