import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'example-browser-app',
    include: ['test/**/*.test.ts'],
    // Rebuilds packages/sdk-browser when its dist is older than its sources.
    globalSetup: ['../../packages/sdk-browser/test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
