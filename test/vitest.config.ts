import { defineConfig } from 'vitest/config';

// Checks of the repository as a whole: scripts, deploy files, and the docs run as written.
export default defineConfig({
  test: {
    name: 'repo',
    include: ['test/**/*.test.ts'],
    root: new URL('..', import.meta.url).pathname,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
