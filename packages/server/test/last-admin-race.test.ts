import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { startPostgres, type TestPostgres } from './services';

const ROUNDS = 20;

/**
 * Two ADMINs, the only ones, demote each other at the same moment: exactly one demotion may
 * win, on either store, whatever the interleaving (the check runs inside the transaction).
 */
async function raceRounds(t: TestServer): Promise<void> {
  // Start from exactly one ADMIN: a fresh ADMIN demotes the bootstrap one.
  let current = await t.user('ADMIN');
  const boot = (await t.request('GET', '/api/v1/auth/me', { token: t.adminToken })).body.data.id as string;
  expect((await t.request('PATCH', `/api/v1/users/${boot}`, { token: current.token, body: { role: 'VIEWER' } })).status).toBe(200);
  for (let round = 0; round < ROUNDS; round++) {
    const email = `race-${round}-${Date.now()}@test.local`;
    const created = await t.request('POST', '/api/v1/users', {
      token: current.token,
      body: { email, role: 'ADMIN', password: 'race-password-1' },
    });
    expect(created.status).toBe(201);
    const other = { id: created.body.data.id as string, token: await t.login(email, 'race-password-1') };
    const [a, b] = await Promise.all([
      t.request('PATCH', `/api/v1/users/${other.id}`, { token: current.token, body: { role: 'VIEWER' } }),
      t.request('PATCH', `/api/v1/users/${current.id}`, { token: other.token, body: { role: 'VIEWER' } }),
    ]);
    const wins = [a, b].filter((r) => r.status === 200);
    expect(wins, `round ${round}: ${a.status} ${JSON.stringify(a.body)} / ${b.status} ${JSON.stringify(b.body)}`).toHaveLength(1);
    // The loser was refused as the last-ADMIN conflict, or its session had already ended.
    for (const r of [a, b].filter((x) => x.status !== 200)) expect([409, 401]).toContain(r.status);
    const users = await t.request('GET', '/api/v1/users?limit=200', { token: a.status === 200 ? current.token : other.token });
    const admins = (users.body.data as { id: string; attributes: { role: string } }[]).filter((u) => u.attributes.role === 'ADMIN');
    expect(admins).toHaveLength(1);
    current = a.status === 200 ? { ...current } : { ...current, id: other.id, token: other.token };
  }
}

describe('the last ADMIN survives two ADMINs demoting each other at once', () => {
  it(`on SQLite, ${ROUNDS} rounds`, async () => {
    const t = await startTestServer({ loginRatePerMinute: 100_000 });
    try {
      await raceRounds(t);
    } finally {
      await t.stop();
    }
  }, 120_000);

  describe('on PostgreSQL', () => {
    let postgres: TestPostgres;
    beforeAll(async () => {
      postgres = await startPostgres();
    });
    afterAll(async () => {
      await postgres?.stop();
    });

    it(`${ROUNDS} rounds`, async () => {
      const t = await startTestServer({ databaseUrl: await postgres.createDatabase(), loginRatePerMinute: 100_000 });
      try {
        await raceRounds(t);
      } finally {
        await t.stop();
      }
    }, 120_000);
  });
});
