import { describe, expect, it } from 'vitest';
import { retryDelay } from '../src/services/webhooks/webhook-worker';
import { emit, eventsFromAudit, toOutbox } from '../src/services/webhooks/webhook-events';

describe('webhook retry schedule', () => {
  const o = { retryBaseMs: 5000, retryMaxDelayMs: 3_600_000 };

  it('doubles per attempt, with the jitter confined to the upper half', () => {
    for (let attempts = 1; attempts <= 8; attempts++) {
      const exp = 5000 * 2 ** (attempts - 1);
      expect(retryDelay(attempts, o, () => 0)).toBe(exp / 2);
      expect(retryDelay(attempts, o, () => 1)).toBe(exp);
    }
  });

  it('is capped, and keeps a failing delivery retried for more than a day with the defaults', () => {
    expect(retryDelay(60, o, () => 1)).toBe(3_600_000);
    // Even with the shortest jitter every time, the attempts the default 24 h window allows stay spaced out.
    let t = 0;
    let attempts = 0;
    while (t < 24 * 3_600_000) t += retryDelay(++attempts, o, () => 0);
    expect(attempts).toBeGreaterThan(20);
    expect(attempts).toBeLessThan(60);
  });
});

describe('webhook events', () => {
  const actor = { actorType: 'user' as const, actorId: 'u1', actorLabel: 'ada@example.com' };

  it('maps flag audit records to flag.* events with their environment', () => {
    const base = { ...actor, resourceType: 'feature-flag', resourceId: 'f1', resourceKey: 'checkout', environment: 'staging' };
    expect(
      eventsFromAudit({ ...base, action: 'feature-flag.create', before: null, after: { key: 'checkout' } }, ['staging']).map((e) => e.type),
    ).toEqual(['flag.created']);
    const [promote] = eventsFromAudit({ ...base, action: 'feature-flag.promote', before: { enabled: false }, after: { enabled: true } }, [
      'staging',
    ]);
    expect(promote).toMatchObject({
      type: 'flag.updated',
      data: { environment: 'staging', environments: ['staging'], action: 'feature-flag.promote' },
    });
    expect(eventsFromAudit({ ...base, action: 'feature-flag.delete', before: {}, after: null }, []).map((e) => e.type)).toEqual([
      'flag.deleted',
    ]);
    expect(eventsFromAudit({ ...base, resourceType: 'segment', action: 'segment.create', before: null, after: {} }, [])).toEqual([]);
  });

  it('maps experiment transitions, and a guardrail auto-pause without SRM', () => {
    const base = { ...actor, resourceType: 'experiment', resourceId: 'e1', resourceKey: 'exp', environment: 'production' };
    const pause = eventsFromAudit(
      {
        ...base,
        action: 'experiment.auto_pause',
        before: { status: 'RUNNING' },
        after: { status: 'PAUSED', pause_reason: { rule: 'rate_increase' } },
      },
      [],
    );
    expect(pause.map((e) => e.type)).toEqual(['experiment.status_changed', 'experiment.auto_paused']);
    expect(eventsFromAudit({ ...base, action: 'experiment.update', before: { status: 'DRAFT' }, after: { status: 'DRAFT' } }, [])).toEqual(
      [],
    );
    const warn = eventsFromAudit({ ...base, action: 'experiment.srm_warning', before: null, after: { rule: 'srm' } }, []);
    expect(warn).toMatchObject([{ type: 'experiment.srm_detected', data: { srm_action: 'warn', environment: 'production' } }]);
  });

  it('gives every event its own webhook-id and the body {type, timestamp, data}', () => {
    const e = emit('rollout.stage_changed', { environment: 'production', flag: 'checkout', percent: 25 });
    const a = toOutbox(e, Date.UTC(2026, 11, 4));
    const b = toOutbox(e, Date.UTC(2026, 11, 4));
    expect(a.id).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
    expect(a.id).not.toBe(b.id);
    expect(JSON.parse(a.payload)).toEqual({ type: 'rollout.stage_changed', timestamp: '2026-12-04T00:00:00.000Z', data: e.data });
  });
});
