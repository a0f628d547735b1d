import type { ResourceRow } from '../store/types';
import { SYSTEM_ORIGIN, type RequestOrigin, type ServerContext } from './context';
import type { ExperimentService } from './experiments';
import type { ResultsService } from './results';

const MONITOR_ORIGIN: RequestOrigin = { ...SYSTEM_ORIGIN, userAgent: 'switchyard-safety-monitor' };

/** A guardrail breach: which treatment, on what, by how much. */
export interface Breach {
  experiment: string;
  guardrail: string;
  variant: string;
  threshold: number;
  relative_lift: number;
  sequential_ci: [number, number];
  sequential_p_value: number | null;
}

/**
 * Checks every RUNNING experiment with guardrails on an interval. A treatment whose guardrail
 * metric rose by more than `max_relative_increase` — judged by the lower bound of the
 * always-valid (sequential) confidence interval of the relative lift, so looking every minute
 * does not inflate false alarms — gets the experiment paused at once, with an audit record
 * (`experiment.auto_pause`) naming the guardrail and figures. The pause reaches SDKs through the
 * config stream like any other.
 */
export class SafetyMonitor {
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<Breach[]> | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly experiments: ExperimentService,
    private readonly results: ResultsService,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(
      () => void this.check().catch((err) => this.ctx.logger.error({ err }, 'safety monitor failed')),
      this.intervalMs,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over running experiments; returns the breaches that paused something. */
  async check(): Promise<Breach[]> {
    // Passes never overlap: a slow one (large experiments) is not joined by the next tick.
    if (this.checking !== null) return this.checking;
    this.checking = this.pass().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async pass(): Promise<Breach[]> {
    const found: Breach[] = [];
    for (const row of await this.ctx.store.allResources('experiment')) {
      try {
        const breach = await this.checkOne(row);
        if (breach !== null) found.push(breach);
      } catch (err) {
        // One experiment whose results fail must not switch off the guardrails of the others.
        this.ctx.logger.error({ err, experiment: row.key }, 'safety check failed');
      }
    }
    return found;
  }

  private async checkOne(row: ResourceRow): Promise<Breach | null> {
    const guardrails = (row.data.guardrails as { metric: string; max_relative_increase: number }[] | undefined) ?? [];
    if (row.data.status !== 'RUNNING' || guardrails.length === 0) return null;
    const r = await this.results.compute(row, { alpha: 0.05, sequential: true, sequentialTuning: 5000 });
    let breach: Breach | null = null;
    for (const g of guardrails) {
      for (const c of r.analysis.metrics[g.metric]?.comparisons ?? []) {
        const ci = c.sequential?.ci ?? null;
        if (c.error !== null || c.relativeLift === null || ci === null) continue;
        if (ci[0] > g.max_relative_increase) {
          breach = {
            experiment: row.key,
            guardrail: g.metric,
            variant: c.variant,
            threshold: g.max_relative_increase,
            relative_lift: c.relativeLift,
            sequential_ci: ci,
            sequential_p_value: c.sequential?.pValue ?? null,
          };
          break;
        }
      }
      if (breach !== null) break;
    }
    if (breach === null) return null;
    const fresh = await this.ctx.store.getResource('experiment', row.id);
    if (fresh === null || fresh.data.status !== 'RUNNING') return null;
    await this.experiments.transitionRow(
      MONITOR_ORIGIN,
      fresh,
      'pause',
      { pause_reason: { by: 'safety-monitor', ...breach } },
      'experiment.auto_pause',
    );
    this.ctx.logger.warn(breach, 'guardrail breached: experiment paused');
    return breach;
  }
}
