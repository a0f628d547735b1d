import type { ResourceRow } from '../../store/types';
import { SYSTEM_ORIGIN, type RequestOrigin, type ServerContext } from '../context';
import type { ExperimentService } from '../domain/experiments';
import type { JobHandle, JobRunner } from './job-runner';
import { isStaleWrite, isStoreUnavailable } from '../../store/store-errors';

/** setTimeout's ceiling; a later due time is re-planned when this fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const SCHEDULER_ORIGIN: RequestOrigin = { ...SYSTEM_ORIGIN, actor: null, userAgent: 'switchyard-scheduler' };

interface Due {
  at: number;
  row: ResourceRow;
  action: 'start' | 'complete';
}

/** What is due for one experiment, if anything. */
export function dueAction(row: ResourceRow, now: number): Due | null {
  const schedule = row.data.schedule as { start_at?: string; end_at?: string } | undefined;
  if (schedule === undefined) return null;
  const status = row.data.status;
  const end = schedule.end_at === undefined ? null : Date.parse(schedule.end_at);
  if (status === 'DRAFT' && schedule.start_at !== undefined) {
    // A window that closed while the server was down is not opened after the fact: starting
    // it would make it live (and expose units) for a moment before completing it.
    if (end !== null && end <= now) return null;
    return { at: Date.parse(schedule.start_at), row, action: 'start' };
  }
  if ((status === 'RUNNING' || status === 'PAUSED') && end !== null) return { at: end, row, action: 'complete' };
  return null;
}

/** One transition of one version of an experiment. */
const attemptOf = (d: Due) => `${d.row.id}|${d.row.updatedAt}|${d.action}`;

/** Re-plans from the store this often even without a change signal (one missed is not fatal). */
const REPLAN_MS = 60_000;

/**
 * Starts and completes experiments at their `schedule.start_at` / `end_at`. A background job
 * (see {@link JobRunner}: it runs on the leader only) aimed at the next due time, no polling,
 * re-planned from the store whenever an experiment changes on any instance, so it survives
 * restarts and takeovers: what came due while no instance was leading runs at once. Every
 * transition is a compare-and-set on the status read (two leaders overlapping for a moment act
 * once) and audited as the system. A run that meets an unavailable store fails and is retried
 * with backoff by the runner; a transition refused for another reason is not retried until the
 * experiment changes.
 */
export class Scheduler {
  private plan: Due[] = [];
  private running: Promise<unknown> = Promise.resolve();
  private handle: JobHandle | null = null;
  /** Transitions that failed, by {@link attemptOf}: not retried until the experiment changes (else the timer would fire again at once, forever). */
  private failed = new Set<string>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly experiments: ExperimentService,
  ) {}

  /** Registers the scheduler with the job runner (it first runs once this instance leads). */
  start(jobs: JobRunner): void {
    this.handle = jobs.register({ name: 'scheduler', intervalMs: REPLAN_MS, run: () => this.runDue() });
  }

  /** Re-plans as soon as possible (an experiment changed here or on another instance). */
  trigger(): void {
    this.handle?.trigger();
  }

  /** Reloads schedules from the store. */
  async replan(): Promise<void> {
    const rows = await this.ctx.store.allResources('experiment');
    const now = this.ctx.now();
    const due = rows.map((r) => dueAction(r, now)).filter((d): d is Due => d !== null && !Number.isNaN(d.at));
    this.failed = new Set(due.map(attemptOf).filter((k) => this.failed.has(k)));
    this.plan = due.filter((d) => !this.failed.has(attemptOf(d))).sort((a, b) => a.at - b.at);
  }

  /**
   * Runs everything due at the clock's current time, on this instance whether it leads or not
   * (tests call this with an injected clock; the compare-and-set keeps it safe anywhere).
   * Rejects when the store is unavailable.
   */
  async tick(): Promise<void> {
    await this.runDue();
  }

  /** One run: plan, act on what is due, and say when the next is due. Runs never overlap. */
  private runDue(): Promise<number | undefined> {
    const run = this.running
      .catch(() => undefined)
      .then(async () => {
        await this.replan();
        const now = this.ctx.now();
        const due = this.plan.filter((p) => p.at <= now);
        for (const d of due) await this.act(d, now);
        // Acting changed what is planned; with nothing due, the plan just read still stands.
        if (due.length > 0) await this.replan();
        const next = this.plan[0];
        return next === undefined ? undefined : Math.min(MAX_DELAY_MS, Math.max(0, next.at - this.ctx.now()));
      });
    this.running = run;
    return run;
  }

  private async act(d: Due, now: number): Promise<void> {
    const transitions = this.ctx.metrics.operations.jobTransitions;
    const fresh = await this.ctx.store.getResource('experiment', d.row.id);
    const current = fresh === null ? null : dueAction(fresh, now);
    if (fresh === null || current === null || current.action !== d.action || current.at > now) return;
    try {
      const origin = { ...SCHEDULER_ORIGIN, environment: fresh.environment ?? SCHEDULER_ORIGIN.environment };
      await this.experiments.transitionRow(origin, fresh, d.action, {}, `experiment.scheduled_${d.action}`);
      transitions.inc({ job: 'scheduler', outcome: 'applied' });
      this.ctx.logger.info({ experiment: fresh.key, action: d.action }, 'scheduled transition');
    } catch (err) {
      if (isStaleWrite(err)) {
        // Another instance (or a person) changed it between the read and the write: nothing to do.
        transitions.inc({ job: 'scheduler', outcome: 'superseded' });
        return;
      }
      transitions.inc({ job: 'scheduler', outcome: 'failed' });
      // The database being away is worth retrying (the job runner backs off); anything else is
      // a problem of this experiment that retrying will not fix.
      if (isStoreUnavailable(err)) throw err;
      this.failed.add(attemptOf(current));
      this.ctx.logger.error({ err, experiment: fresh.key, action: d.action }, 'scheduled transition failed');
    }
  }
}
