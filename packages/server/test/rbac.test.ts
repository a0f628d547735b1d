import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers';
import { ACTORS, cells, setupMatrix, type MatrixEnv } from './rbac-matrix';
import { expectError } from './support';

const CODE_OF: Record<number, 'AUTHENTICATION_REQUIRED' | 'PERMISSION_DENIED' | 'RESOURCE_NOT_FOUND'> = {
  401: 'AUTHENTICATION_REQUIRED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_NOT_FOUND',
};

// Cells are independent (each makes its own fixtures), so they run concurrently.
describe.concurrent('RBAC matrix (real HTTP): actor × resource × action', () => {
  let t: TestServer;
  let env: MatrixEnv;
  beforeAll(async () => {
    t = await startTestServer();
    env = await setupMatrix(t);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('covers every actor kind', () => {
    expect(ACTORS).toHaveLength(11);
    expect(cells().length).toBeGreaterThan(400);
  });

  it.each(cells().map((c) => [c.label, c] as const))('%s', async (_label, cell) => {
    const actor = env.actors[cell.actor];
    const req = await cell.row.prepare(env, actor);
    const r = await t.request(req.method, req.path, { ...actor.auth, ...(req.body === undefined ? {} : { body: req.body }) });
    expect(r.status, `${cell.label}: ${JSON.stringify(r.body)}`).toBe(cell.status);
    const code = CODE_OF[cell.status];
    if (code !== undefined) expectError(r, code);
    else if (cell.status !== 204) expect(r.body).toHaveProperty('data');
    await req.check?.(r.status, r.body);
  });
});
