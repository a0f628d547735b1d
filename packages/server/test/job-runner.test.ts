import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { JobRunner } from '../src/services/jobs/job-runner';
import { soleLeadership, type ClusterSignal, type Leadership } from '../src/services/jobs/leadership';

/** A leadership the test hands out and takes back. */
function switchable(): Leadership & { set(leader: boolean): void } {
  const listeners: ((l: boolean) => void)[] = [];
  let leader = false;
  return {
    get isLeader() {
      return leader;
    },
    set(value: boolean) {
      leader = value;
      for (const l of listeners) l(value);
    },
    onChange: (l) => void listeners.push(l),
    publish: (_s: ClusterSignal) => undefined,
    onSignal: () => undefined,
    onResync: () => undefined,
    start: () => undefined,
    close: async () => undefined,
  };
}

const silent = pino({ level: 'silent' });

describe('job runner', () => {
  it('a job that throws (synchronously or not) is logged, counted and retried with backoff; the process carries on', async () => {
    const leadership = soleLeadership();
    const outcomes: string[] = [];
    const runner = new JobRunner(leadership, silent, { run: (_job, outcome) => outcomes.push(outcome) });
    let calls = 0;
    runner.register({
      name: 'flaky',
      intervalMs: 3_600_000,
      run: () => {
        calls++;
        if (calls === 1) throw new Error('synchronous failure');
        if (calls === 2) return Promise.reject(new Error('database unavailable'));
        return Promise.resolve();
      },
    });
    leadership.start();
    await vi.waitFor(() => expect(outcomes).toEqual(['error', 'error', 'ok']), { timeout: 10_000, interval: 20 });
    expect(calls).toBe(3);
    await runner.stop();
    await leadership.close();
  });

  it('runs jobs only while leading: they start when leadership is gained and their timers stop when it is lost', async () => {
    const leadership = switchable();
    const runner = new JobRunner(leadership, silent);
    let runs = 0;
    const job = runner.register({
      name: 'leader-only',
      intervalMs: 3_600_000,
      run: async () => {
        runs++;
      },
    });
    job.trigger();
    expect(runner.isLeader).toBe(false);
    leadership.set(true);
    await vi.waitFor(() => expect(runs).toBe(1), { timeout: 5000, interval: 10 });
    job.trigger();
    await vi.waitFor(() => expect(runs).toBe(2), { timeout: 5000, interval: 10 });
    leadership.set(false);
    job.trigger();
    // A trigger on a follower schedules nothing: no timer is left that could run it later.
    expect((runner as unknown as { jobs: Map<string, { timer: unknown }> }).jobs.get('leader-only')!.timer).toBeNull();
    expect(runs).toBe(2);
    await runner.stop();
  });

  it('never runs a job twice at once: triggers during a run are coalesced into one more run', async () => {
    const leadership = soleLeadership();
    const runner = new JobRunner(leadership, silent);
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const job = runner.register({
      name: 'slow',
      intervalMs: 3_600_000,
      run: async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        if (runs === 1) await new Promise<void>((r) => (release = r));
        active--;
      },
    });
    leadership.start();
    await vi.waitFor(() => expect(runs).toBe(1), { timeout: 5000, interval: 10 });
    for (let i = 0; i < 5; i++) job.trigger();
    release();
    await vi.waitFor(() => expect(runs).toBe(2), { timeout: 5000, interval: 10 });
    expect(maxActive).toBe(1);
    await runner.stop();
    expect(runs).toBe(2);
    await leadership.close();
  });

  it('stop() tells a run in progress to stop, and waits for it to end', async () => {
    const leadership = soleLeadership();
    const runner = new JobRunner(leadership, silent);
    let steps = 0;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let sawAbort = false;
    runner.register({
      name: 'long',
      intervalMs: 3_600_000,
      // A long pass in steps (as retention's), checking between two whether to stop.
      run: async (stopping) => {
        started();
        while (!stopping.aborted) {
          steps++;
          await new Promise((resolve) => setImmediate(resolve));
        }
        sawAbort = true;
      },
    });
    leadership.start();
    await running;
    await runner.stop();
    expect(sawAbort).toBe(true);
    expect(steps).toBeGreaterThan(0);
    await leadership.close();
  });

  it('refuses two jobs with one name', () => {
    const runner = new JobRunner(soleLeadership(), silent);
    runner.register({ name: 'once', intervalMs: 1000, run: async () => undefined });
    expect(() => runner.register({ name: 'once', intervalMs: 1000, run: async () => undefined })).toThrow(/already registered/);
  });
});
