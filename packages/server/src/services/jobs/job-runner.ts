import type { Logger } from 'pino';
import type { Leadership } from './leadership';

/** A background job: what runs, and how often. */
export interface JobDefinition {
  /** Names it in logs and in the `job` label of its metrics, e.g. `scheduler`. */
  name: string;
  /** Wait after a successful run before the next one. */
  intervalMs: number;
  /**
   * One run; `stopping` is aborted when the server closes, so that a long run (a retention pass)
   * can end early between two steps instead of holding the shutdown. It may resolve to the number of milliseconds after which it wants to run again,
   * when that is sooner than `intervalMs` (the scheduler aims at the next due time). A rejection
   * is logged, counted and retried with exponential backoff; it never reaches the process.
   */
  run(stopping: AbortSignal): Promise<number | void>;
}

/** A registered job. */
export interface JobHandle {
  readonly name: string;
  /** Runs the job as soon as possible on the leader (coalesced with a run pending or running; nothing elsewhere). */
  trigger(): void;
}

/** Where the runner reports each run (`ok` or `error`) and the leadership. */
export interface JobObserver {
  run(job: string, outcome: 'ok' | 'error'): void;
}

/** Backoff of failed runs: 1 s, 2 s, 4 s, ... up to the job's interval, at most 60 s. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;

interface JobState {
  def: JobDefinition;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  /** Triggered while running: run again right after. */
  again: boolean;
  failures: number;
}

/**
 * Runs the background jobs of an instance — only while it is the leader, so that with several
 * instances on one database each job runs on exactly one of them. Each job runs on its own
 * timer, never overlapping itself; on becoming the leader every job runs at once, and on losing
 * it every timer stops (a run in progress finishes: jobs make their changes with
 * compare-and-set writes, so an old leader finishing a run cannot act twice).
 *
 * Other parts register their jobs here; nothing else is needed to run once per cluster:
 *
 * @example
 * ```ts
 * const deliveries = ctx.jobs.register({
 *   name: 'webhook-deliveries',
 *   intervalMs: 5000,
 *   run: async () => {
 *     await deliverDue(ctx);
 *   },
 * });
 * deliveries.trigger(); // after queueing a delivery: run now instead of in 5 s
 * ```
 */
export class JobRunner {
  private readonly jobs = new Map<string, JobState>();
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(
    private readonly leadership: Leadership,
    private readonly logger: Logger,
    private readonly observer: JobObserver = { run: () => undefined },
  ) {
    leadership.onChange((isLeader) => {
      for (const job of this.jobs.values()) {
        if (isLeader) this.schedule(job, 0);
        else this.clear(job);
      }
    });
  }

  /** This instance runs the jobs now. */
  get isLeader(): boolean {
    return this.leadership.isLeader;
  }

  /** Adds a job; it first runs at once if this instance is the leader, else when it becomes one. */
  register(def: JobDefinition): JobHandle {
    if (this.jobs.has(def.name)) throw new Error(`a background job named '${def.name}' is already registered`);
    const job: JobState = { def, timer: null, running: null, again: false, failures: 0 };
    this.jobs.set(def.name, job);
    if (this.leadership.isLeader) this.schedule(job, 0);
    return { name: def.name, trigger: () => this.trigger(job) };
  }

  /** Stops every timer, tells runs in progress to stop (see {@link JobDefinition.run}) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    for (const job of this.jobs.values()) this.clear(job);
    await Promise.all([...this.jobs.values()].map((j) => j.running ?? Promise.resolve()));
  }

  private trigger(job: JobState): void {
    if (this.stopped || !this.leadership.isLeader) return;
    if (job.running !== null) job.again = true;
    else this.schedule(job, 0);
  }

  private clear(job: JobState): void {
    if (job.timer !== null) clearTimeout(job.timer);
    job.timer = null;
  }

  private schedule(job: JobState, delayMs: number): void {
    this.clear(job);
    if (this.stopped || !this.leadership.isLeader) return;
    job.timer = setTimeout(() => this.execute(job), Math.max(0, delayMs));
    job.timer.unref();
  }

  /** One run; never rejects. */
  private execute(job: JobState): void {
    job.timer = null;
    if (job.running !== null) {
      job.again = true;
      return;
    }
    job.running = (async () => {
      let next: number;
      try {
        // Through a promise: a job that throws synchronously fails like one that rejects, and this
        // never completes before `job.running` is assigned below.
        const wanted = await Promise.resolve().then(() => job.def.run(this.stopping.signal));
        job.failures = 0;
        this.observer.run(job.def.name, 'ok');
        next = typeof wanted === 'number' && Number.isFinite(wanted) ? Math.min(wanted, job.def.intervalMs) : job.def.intervalMs;
      } catch (err) {
        job.failures++;
        next = Math.min(FIRST_RETRY_MS * 2 ** (job.failures - 1), Math.max(FIRST_RETRY_MS, job.def.intervalMs), MAX_RETRY_MS);
        this.observer.run(job.def.name, 'error');
        this.logger.error({ err, job: job.def.name, failures: job.failures, retry_in_ms: next }, 'background job failed; retrying');
      }
      job.running = null;
      if (job.again) {
        job.again = false;
        // A trigger after a failure still waits for the backoff: the cause is likely still there.
        if (job.failures === 0) next = 0;
      }
      this.schedule(job, next);
    })();
  }
}
