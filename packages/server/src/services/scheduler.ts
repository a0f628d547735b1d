import type { ResourceRow } from '../store/types';
import { SYSTEM_ORIGIN, type RequestOrigin, type ServerContext } from './context';
import type { ExperimentService } from './experiments';

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

/**
 * Starts and completes experiments at their `schedule.start_at` / `end_at`. One timer aimed at
 * the next due time (no polling), re-planned from the store whenever an experiment changes, so
 * it survives restarts: what came due while the server was down runs at start. Every
 * transition is audited as the system.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private plan: Due[] = [];
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Transitions that failed, by {@link attemptOf}: not retried until the experiment changes (else the timer would fire again at once, forever). */
  private failed = new Set<string>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly experiments: ExperimentService,
  ) {}

  async start(): Promise<void> {
    this.ctx.onExperimentChanged = () => void this.replan();
    await this.replan();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Reloads schedules from the store and aims the timer at the next one. */
  async replan(): Promise<void> {
    if (this.stopped) return;
    const rows = await this.ctx.store.allResources('experiment');
    const now = this.ctx.now();
    const due = rows.map((r) => dueAction(r, now)).filter((d): d is Due => d !== null && !Number.isNaN(d.at));
    this.failed = new Set(due.map(attemptOf).filter((k) => this.failed.has(k)));
    this.plan = due.filter((d) => !this.failed.has(attemptOf(d))).sort((a, b) => a.at - b.at);
    this.arm();
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = this.plan[0];
    if (next === undefined || this.stopped) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, next.at - this.ctx.now()));
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  /** Runs everything due at the clock's current time (tests call this with an injected clock). */
  tick(): Promise<void> {
    this.running = this.running.then(async () => {
      const now = this.ctx.now();
      const due = this.plan.filter((d) => d.at <= now);
      for (const d of due) {
        const fresh = await this.ctx.store.getResource('experiment', d.row.id);
        const current = fresh === null ? null : dueAction(fresh, now);
        if (fresh === null || current === null || current.action !== d.action || current.at > now) continue;
        try {
          const origin = { ...SCHEDULER_ORIGIN, environment: fresh.environment ?? SCHEDULER_ORIGIN.environment };
          await this.experiments.transitionRow(origin, fresh, d.action, {}, `experiment.scheduled_${d.action}`);
          this.ctx.logger.info({ experiment: fresh.key, action: d.action }, 'scheduled transition');
        } catch (err) {
          this.failed.add(attemptOf(current));
          this.ctx.logger.error({ err, experiment: fresh.key, action: d.action }, 'scheduled transition failed');
        }
      }
      await this.replan();
    });
    return this.running;
  }
}
