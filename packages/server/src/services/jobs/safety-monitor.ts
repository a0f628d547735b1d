import { evaluateSafety, type GuardrailDefinition, type SafetyDecision, type SafetyFailure, type SrmAction } from '@switchyard/stats';
import type { ResourceRow } from '../../store/types';
import { commitMutation, SYSTEM_ORIGIN, type RequestOrigin, type ServerContext } from '../context';
import type { ExperimentService } from '../domain/experiments';
import type { JobRunner } from './job-runner';
import { isStaleWrite } from '../../store/store-errors';
import { metricsOf, type ResultsService } from '../results/results';
import { emit } from '../webhooks/webhook-events';

const MONITOR_ORIGIN: RequestOrigin = { ...SYSTEM_ORIGIN, userAgent: 'switchyard-safety-monitor' };

/** Why the monitor paused an experiment: a guardrail rule, or a sustained sample ratio mismatch (`srm`). */
export interface Breach {
  experiment: string;
  rule: 'relative_increase' | 'rate_increase' | 'constant_control' | 'max_value' | 'srm';
  /** The guardrail's metric; `null` for `srm`. */
  guardrail: string | null;
  variant: string | null;
  threshold: number | null;
  control_mean: number | null;
  treatment_mean: number | null;
  relative_lift: number | null;
  sequential_ci: [number, number] | null;
  sequential_p_value: number | null;
  e_value: number | null;
  /** For `srm`: the chi-square p-value of this pass and the units per variant. */
  srm_p_value?: number | null;
  units?: Record<string, number>;
}

/** A decision and the units per variant it was made on. */
interface Decided {
  decision: SafetyDecision;
  units: Record<string, number>;
}

interface StoredGuardrail {
  metric: string;
  max_relative_increase?: number;
  max_value?: number;
}

/**
 * Checks every RUNNING experiment on an interval with `evaluateSafety` from `@switchyard/stats`
 * (the decision the A/A simulation validates): a guardrail breach — including a control that is
 * zero or constant, and the absolute ceiling `max_value` — pauses the experiment at once, and a
 * sample ratio mismatch seen on two passes in a row pauses it too, or only warns when the
 * experiment says `srm_action: "warn"`. Each is audited (`experiment.auto_pause`,
 * `experiment.srm_warning`) with the figures, and the pause reaches SDKs through the config
 * stream. A check that cannot run is never skipped quietly: it is logged, counted in
 * `switchyard_safety_check_failures_total` and audited (`experiment.safety_check_failed`) once
 * per distinct failure.
 *
 * The SRM streak lives in memory: after a restart, a mismatch needs two fresh passes again.
 */
export class SafetyMonitor {
  private checking: Promise<Breach[]> | null = null;
  /** Experiment id -> passes in a row with a sample ratio mismatch. */
  private readonly srmStreak = new Map<string, number>();
  /** Experiment id -> the failure last audited, so a failure that persists is audited once. */
  private readonly audited = new Map<string, string>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly experiments: ExperimentService,
    private readonly results: ResultsService,
    private readonly intervalMs: number,
  ) {}

  /** Registers the monitor with the job runner: a pass every interval on the leader, retried with backoff when it fails. */
  start(jobs: JobRunner): void {
    jobs.register({
      name: 'safety-monitor',
      intervalMs: this.intervalMs,
      run: async () => {
        await this.check();
      },
    });
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
    // A guarded rollout's internal experiment is judged by the rollout monitor, against the rollout's guardrails.
    const running = (await this.ctx.store.allResources('experiment')).filter(
      (r) => r.data.status === 'RUNNING' && r.data.rollout === undefined,
    );
    const live = new Set(running.map((r) => r.id));
    for (const memory of [this.srmStreak, this.audited]) for (const id of [...memory.keys()]) if (!live.has(id)) memory.delete(id);
    for (const row of running) {
      let decided: Decided;
      try {
        decided = await this.decide(row);
      } catch (err) {
        // One experiment whose statistics fail must not switch off the guardrails of the others.
        await this.failed(row, [
          { check: 'guardrail', metric: null, variant: null, reason: err instanceof Error ? err.message : String(err) },
        ]);
        continue;
      }
      if (decided.decision.failures.length > 0) await this.failed(row, decided.decision.failures);
      else this.audited.delete(row.id);
      const breach = await this.act(row, decided).catch((err: unknown) => {
        const transitions = this.ctx.metrics.operations.jobTransitions;
        if (isStaleWrite(err)) {
          // Another instance (or a person) changed it between the read and the write: it is no longer RUNNING.
          transitions.inc({ job: 'safety-monitor', outcome: 'superseded' });
          return null;
        }
        transitions.inc({ job: 'safety-monitor', outcome: 'failed' });
        this.ctx.logger.error({ err, experiment: row.key }, 'safety monitor could not act on a breach');
        return null;
      });
      if (breach !== null) found.push(breach);
    }
    return found;
  }

  private async decide(row: ResourceRow): Promise<Decided> {
    const { variants } = await this.results.sufficientStats(row);
    const types = new Map(metricsOf(row.data).map((m) => [m.key, m.type]));
    const guardrails: GuardrailDefinition[] = ((row.data.guardrails as StoredGuardrail[] | undefined) ?? []).map((g) => ({
      metric: g.metric,
      type: types.get(g.metric) ?? 'mean',
      ...(g.max_relative_increase === undefined ? {} : { maxRelativeIncrease: g.max_relative_increase }),
      ...(g.max_value === undefined ? {} : { maxValue: g.max_value }),
    }));
    const decision = evaluateSafety({
      variants,
      guardrails,
      srmAction: (row.data.srm_action as SrmAction | undefined) ?? 'pause',
      previousSrmStreak: this.srmStreak.get(row.id) ?? 0,
    });
    this.srmStreak.set(row.id, decision.srm.streak);
    return { decision, units: Object.fromEntries(variants.map((v) => [v.key, v.units])) };
  }

  private async act(row: ResourceRow, { decision, units }: Decided): Promise<Breach | null> {
    if (decision.action === 'none') return null;
    const srmFigures = { srm_p_value: decision.srm.pValue, passes_in_a_row: decision.srm.streak, units };
    if (decision.action === 'warn') {
      // Audited once per episode: on the pass that makes the mismatch sustained.
      if (decision.srm.streak === 2) {
        await commitMutation(this.ctx, MONITOR_ORIGIN, {
          writes: [],
          audit: {
            action: 'experiment.srm_warning',
            resourceType: 'experiment',
            resourceId: row.id,
            resourceKey: row.key,
            environment: row.environment,
            before: null,
            after: { by: 'safety-monitor', rule: 'srm', ...srmFigures },
          },
        });
        this.ctx.logger.warn({ experiment: row.key, ...srmFigures }, 'sustained sample ratio mismatch (srm_action: warn)');
      }
      return null;
    }
    const first = decision.breaches[0];
    const breach: Breach =
      first !== undefined
        ? {
            experiment: row.key,
            rule: first.rule!,
            guardrail: first.metric,
            variant: first.variant,
            threshold: first.threshold,
            control_mean: first.controlMean,
            treatment_mean: first.treatmentMean,
            relative_lift: first.relativeLift,
            sequential_ci: first.sequentialCi,
            sequential_p_value: first.sequentialPValue,
            e_value: first.eValue,
          }
        : {
            experiment: row.key,
            rule: 'srm',
            guardrail: null,
            variant: null,
            threshold: 0.001,
            control_mean: null,
            treatment_mean: null,
            relative_lift: null,
            sequential_ci: null,
            sequential_p_value: null,
            e_value: null,
            srm_p_value: decision.srm.pValue,
            units,
          };
    if (!(await this.pause(row, { by: 'safety-monitor', ...breach }))) return null;
    this.srmStreak.delete(row.id);
    this.ctx.logger.warn(
      breach,
      breach.rule === 'srm' ? 'sustained sample ratio mismatch: experiment paused' : 'guardrail breached: experiment paused',
    );
    return breach;
  }

  /** A check that could not run: a log line and a counter every pass, an audit record per distinct failure. */
  private async failed(row: ResourceRow, failures: SafetyFailure[]): Promise<void> {
    for (const f of failures) this.ctx.metrics.safetyCheckFailures.inc({ check: f.check });
    this.ctx.logger.error({ experiment: row.key, failures }, 'safety check could not run: this experiment is not protected');
    const signature = JSON.stringify(failures);
    if (this.audited.get(row.id) === signature) return;
    try {
      await commitMutation(this.ctx, MONITOR_ORIGIN, {
        writes: [],
        audit: {
          action: 'experiment.safety_check_failed',
          resourceType: 'experiment',
          resourceId: row.id,
          resourceKey: row.key,
          environment: row.environment,
          before: null,
          after: { by: 'safety-monitor', failures },
        },
        // Nobody reads logs at 3 a.m.: whoever is paged for auto-pauses hears that a check cannot run.
        events: [emit('experiment.safety_check_failed', { environment: row.environment, experiment: row.key, failures })],
      });
      this.audited.set(row.id, signature);
    } catch (err) {
      this.ctx.logger.error({ err, experiment: row.key }, 'could not audit a failed safety check');
    }
    if (row.data.on_safety_check_failure === 'pause') await this.pauseUnprotected(row, failures);
  }

  /**
   * Pauses the experiment as the monitor (audited as `experiment.auto_pause` with `pauseReason`)
   * if it is still RUNNING when re-read; `false` when it no longer is. A write that loses a race
   * throws the store's stale-write error for the caller to count.
   */
  private async pause(row: ResourceRow, pauseReason: Record<string, unknown>): Promise<boolean> {
    const fresh = await this.ctx.store.getResource('experiment', row.id);
    if (fresh === null || fresh.data.status !== 'RUNNING') return false;
    await this.experiments.transitionRow(
      { ...MONITOR_ORIGIN, environment: fresh.environment ?? MONITOR_ORIGIN.environment },
      fresh,
      'pause',
      { pause_reason: pauseReason },
      'experiment.auto_pause',
    );
    this.ctx.metrics.operations.jobTransitions.inc({ job: 'safety-monitor', outcome: 'applied' });
    return true;
  }

  /** `on_safety_check_failure: "pause"`: an experiment its guardrails cannot protect stops exposing units. */
  private async pauseUnprotected(row: ResourceRow, failures: SafetyFailure[]): Promise<void> {
    try {
      if (!(await this.pause(row, { by: 'safety-monitor', rule: 'safety_check_failed', failures }))) return;
      this.ctx.logger.warn(
        { experiment: row.key, failures },
        'safety check could not run: experiment paused (on_safety_check_failure: pause)',
      );
    } catch (err) {
      if (isStaleWrite(err)) {
        this.ctx.metrics.operations.jobTransitions.inc({ job: 'safety-monitor', outcome: 'superseded' });
        return;
      }
      this.ctx.logger.error({ err, experiment: row.key }, 'could not pause an experiment whose safety check failed');
    }
  }
}
