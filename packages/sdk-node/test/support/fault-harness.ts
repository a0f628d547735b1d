import { afterEach } from 'vitest';
import { createClient, type ClientOptions, type SwitchyardClient } from '../../src/index';
import { BASE, fakeSwitchyard, type FakeSwitchyard } from './fake-switchyard';

/** What {@link faultHarness} gives a test file. */
export interface FaultHarness {
  /** A fresh fake server for the test. */
  setup(): FakeSwitchyard;
  /** A client of the last fake with fast retries and reconnects; closed after the test. */
  client(o?: Partial<ClientOptions>): SwitchyardClient;
  /** The event ids of the fake's `n`th events request (from 1). */
  ids(n: number): string[];
}

/**
 * Clients against a fake server with timings short enough for failure tests; every client and
 * the fake are closed after each test.
 *
 * @example
 * ```ts
 * const h = faultHarness();
 * it('retries', async () => { const fake = h.setup(); const c = h.client(); ... });
 * ```
 */
export function faultHarness(): FaultHarness {
  let fake: FakeSwitchyard | undefined;
  const clients: SwitchyardClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    fake?.close();
  });
  return {
    setup() {
      fake = fakeSwitchyard();
      return fake;
    },
    client(o = {}) {
      const c = createClient({
        sdkKey: 'sy_server_test',
        baseUrl: BASE,
        fetch: fake!.fetch,
        reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
        events: { flushIntervalMs: 20, retry: { initialDelayMs: 20, maxDelayMs: 100 }, ...o.events },
        closeTimeoutMs: 200,
        ...o,
        ...(o.events === undefined ? {} : { events: { flushIntervalMs: 20, retry: { initialDelayMs: 20, maxDelayMs: 100 }, ...o.events } }),
      });
      clients.push(c);
      return c;
    },
    ids: (n) => fake!.requests.events[n - 1]!.body.events.map((e: { id: string }) => e.id) as string[],
  };
}
