import { afterEach, expect } from 'vitest';

/**
 * The SDK promises never to cause an unhandled rejection (in a service that runs with
 * `--unhandled-rejections=strict`, the default since Node 15, one would crash the process). Every
 * test file gets this listener; a rejection nobody handled during a test fails that test.
 */
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

afterEach(async () => {
  // Rejections are reported after a macrotask turn; give stragglers from the test a chance.
  await new Promise((r) => setTimeout(r, 5));
  const seen = unhandled.splice(0);
  expect(
    seen.map((r) => (r instanceof Error ? `${r.name}: ${r.message}` : String(r))),
    'unhandled promise rejections',
  ).toEqual([]);
});
