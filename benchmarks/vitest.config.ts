import { defineConfig } from 'vitest/config';

// Correctness of the benchmark adapters only (no timing): `npx vitest run --project benchmarks`.
// The adapters import the built @switchyard/core, so build it first (`pnpm test` does).
export default defineConfig({
  test: {
    name: 'benchmarks',
    include: ['src/**/*.test.{ts,mjs}'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
