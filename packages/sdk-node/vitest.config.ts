import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'sdk-node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30000,
    // Hooks start real servers: on a loaded machine that takes longer than the default 10 s.
    hookTimeout: 60000,
    // Fails any test during which a promise rejection went unhandled (see the file for why).
    setupFiles: ['./test/setup/no-unhandled-rejections.ts'],
  },
});
