import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'console',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Real Chromium and a real server on a 2-core machine shared with others: generous limits.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One browser at a time keeps the shared machine usable.
    fileParallelism: false,
  },
});
