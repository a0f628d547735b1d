import { readFileSync } from 'node:fs';
import type { EvaluationVectors } from '@switchyard/core';
import { admin, type TestServer } from '@switchyard/test-support/server';

/** The published evaluation vectors every SDK runs. */
export const evaluationSpec: EvaluationVectors = JSON.parse(
  readFileSync(new URL('../../../../spec/evaluation.json', import.meta.url), 'utf8'),
);

/** The configs the management API accepts. */
export const validConfigNames = Object.keys(evaluationSpec.configs).filter((n) => evaluationSpec.configs[n]!.valid !== false);

const LIFECYCLE: Record<string, string[]> = {
  DRAFT: [],
  RUNNING: ['start'],
  PAUSED: ['start', 'pause'],
  COMPLETED: ['start', 'complete'],
  ARCHIVED: ['archive'],
};

/**
 * Recreates every valid spec config on a real server through the management API: segments,
 * then flags with their prerequisites first, then experiments walked to their status. Keys do
 * not collide between the spec's configs, so they all live in one server.
 */
export async function loadSpecIntoServer(t: TestServer): Promise<void> {
  for (const name of validConfigNames) {
    const c = evaluationSpec.configs[name]!;
    for (const s of Object.values(c.segments)) await admin(t, 'POST', '/api/v1/segments', s);
    const created = new Set<string>();
    const createFlag = async (key: string): Promise<void> => {
      if (created.has(key)) return;
      created.add(key);
      const f = c.flags[key]!;
      for (const p of f.prerequisites ?? []) if (p.flag in c.flags) await createFlag(p.flag);
      await admin(t, 'POST', '/api/v1/feature-flags', f);
    };
    // Experiments exist before the flags that serve them; they are started once the flags are saved.
    for (const e of Object.values(c.experiments)) {
      const { status: _status, ...body } = e;
      await admin(t, 'POST', '/api/v1/experiments', body);
    }
    for (const key of Object.keys(c.flags)) await createFlag(key);
    for (const e of Object.values(c.experiments))
      for (const action of LIFECYCLE[e.status]!) await admin(t, 'POST', `/api/v1/experiments/${e.key}/${action}`);
  }
}
