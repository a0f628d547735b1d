import { startTestServer, type TestServer } from './helpers';
import { startPostgres } from './services';

/** The stores a suite runs against. */
export type StoreKind = 'sqlite' | 'postgres';

/**
 * A test server on a temporary SQLite file, or on a fresh database of a PostgreSQL server
 * started for it; its `stop()` stops that PostgreSQL server too. For suites run on both stores:
 *
 * @example
 * ```ts
 * describe.each(['sqlite', 'postgres'] as const)('results: %s', (kind) => {
 *   let t: TestServer;
 *   beforeAll(async () => { t = await startTestServerOn(kind, { apiRateBurst: 1e9 }); }, 60_000);
 *   afterAll(() => t?.stop());
 * });
 * ```
 */
export async function startTestServerOn(kind: StoreKind, options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  if (kind === 'sqlite') return startTestServer(options);
  const postgres = await startPostgres();
  try {
    const t = await startTestServer({ ...options, databaseUrl: await postgres.createDatabase() });
    const stopServer = t.stop.bind(t);
    t.stop = async () => {
      try {
        await stopServer();
      } finally {
        await postgres.stop();
      }
    };
    return t;
  } catch (err) {
    await postgres.stop();
    throw err;
  }
}
