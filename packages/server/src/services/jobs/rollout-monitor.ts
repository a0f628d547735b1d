import { RolloutAction } from '@switchyard/stats';
import { isStaleWrite } from '../../store/store-errors';
import { isVersionConflict, type ResourceRow } from '../../store/types';
import { systemOrigin, type RequestOrigin, type ServerContext } from '../context';
import type { JobRunner } from './job-runner';
import type { ResultsService } from '../results/results';
import { flagEnabledIn, flagServes, rolloutFigures, type RolloutData } from '../domain/rollout-state';
import { advanceRollout, endRollout, pauseRollout } from '../domain/rollout-transitions';

/** What one pass did to one rollout. */
export type RolloutOutcome = 'held' | 'advanced' | 'completed' | 'rolled_back' | 'paused' | 'stopped';

const originIn = (environment: string): RequestOrigin => ({ ...systemOrigin(environment), userAgent: 'switchyard-rollout-monitor' });

/**
 * Moves guarded rollouts through their stages on an interval (a job of the leader, so one instance
 * acts when several share PostgreSQL). Each pass, for every running rollout: a guardrail regression
 * (`decideRolloutStep`, the safety monitor's sequential checks) rolls it back or pauses it at once;
 * otherwise, once the stage's hold measured from the stored stage start has elapsed and every check
 * could run, it advances — or, after the last (100 %) stage, ships. All state is in the store, so a
 * restarted or new leader carries on from the stored stage. Every transition is a compare-and-set:
 * an instance that lost a race finds the row changed and leaves it.
 *
 * A rollout whose flag was deleted, whose environment no longer serves its experiment (a person
 * edited `default_serve`), or whose experiment a person paused or completed is stopped, leaving
 * the flag as the person set it. While the flag is disabled in the environment the stage holds.
 */
export class RolloutMonitor {
  private checking: Promise<Map<string, RolloutOutcome>> | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly results: ResultsService,
    private readonly intervalMs: number,
  ) {}

  /** Registers the monitor with the job runner. */
  start(jobs: JobRunner): void {
    jobs.register({
      name: 'rollout-monitor',
      intervalMs: this.intervalMs,
      run: async () => {
        await this.check();
      },
    });
  }

  /** One pass over running rollouts; returns what it did to each (by rollout id). */
  async check(): Promise<Map<string, RolloutOutcome>> {
    // Passes never overlap: a slow one is not joined by the next tick.
    if (this.checking !== null) return this.checking;
    this.checking = this.pass().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async pass(): Promise<Map<string, RolloutOutcome>> {
    const out = new Map<string, RolloutOutcome>();
    const running = (await this.ctx.store.allResources('rollout')).filter((r) => r.status === 'running');
    for (const row of running) {
      try {
        out.set(row.id, await this.step(row));
      } catch (err) {
        const transitions = this.ctx.metrics.operations.jobTransitions;
        if (isStaleWrite(err) || isVersionConflict(err)) {
          // Someone else (a person, or another instance) changed it meanwhile: the next pass sees the new state.
          transitions.inc({ job: 'rollout-monitor', outcome: 'superseded' });
          continue;
        }
        // One rollout that cannot be judged must not stop the others.
        transitions.inc({ job: 'rollout-monitor', outcome: 'failed' });
        this.ctx.logger.error({ err, rollout: row.id, flag: row.data.flag }, 'rollout monitor could not check a rollout');
      }
    }
    return out;
  }

  private async step(row: ResourceRow): Promise<RolloutOutcome> {
    const data = row.data as unknown as RolloutData;
    const origin = originIn(data.environment);
    const flag = await this.ctx.store.getResource('flag', data.flag);
    const experiment = await this.ctx.store.getResource('experiment', data.experiment, data.environment);
    const reason =
      flag === null
        ? 'the feature flag was deleted'
        : !flagServes(flag, data.environment, data.experiment)
          ? "a person changed the flag's default_serve in this environment"
          : experiment === null || experiment.status !== 'RUNNING'
            ? "a person changed the rollout's experiment"
            : null;
    if (reason !== null) {
      await endRollout(this.ctx, origin, row, 'stopped', { by: 'rollout-monitor', reason });
      return this.applied('stopped');
    }
    const stage = data.stages[data.stage - 1]!;
    const elapsed = this.ctx.now() - Date.parse(data.stage_started_at) >= stage.hold_minutes * 60_000;
    // The figures accumulate over the whole rollout (one experiment), and the always-valid checks
    // keep the false-alarm rate at alpha however many passes look at them.
    const figures = await rolloutFigures(this.results, experiment!, data, elapsed && flagEnabledIn(flag!, data.environment));
    const cause = { by: 'rollout-monitor' as const, checks: figures.guardrails };
    if (figures.step.action === RolloutAction.REGRESSED) {
      const breached = figures.step.breaches.map((b) => `${b.metric} (${b.rule ?? 'breach'})`).join(', ');
      const why = { ...cause, reason: `guardrail regressed: ${breached}` };
      this.ctx.logger.warn({ rollout: row.id, flag: data.flag, environment: data.environment, breached }, 'guarded rollout regressed');
      if (data.on_regression === 'pause') {
        await pauseRollout(this.ctx, origin, row, why);
        return this.applied('paused');
      }
      await endRollout(this.ctx, origin, row, 'rolled_back', why);
      return this.applied('rolled_back');
    }
    // At 100 % every returning unit moves to the new arm and, exposed to both, leaves the
    // comparison: once no control unit is left there is nothing to compare, and the earlier stages
    // were the evidence. The last stage then ships after its hold.
    const nothingLeftToCompare = stage.percent === 100 && elapsed && figures.units.control === 0 && figures.units.variant > 0;
    // No evidence is not evidence of safety: a stage no unit of the new arm was exposed in holds.
    if (!nothingLeftToCompare && (figures.step.action !== RolloutAction.ADVANCE || figures.units.variant === 0)) return 'held';
    if (data.stage >= data.stages.length) {
      await endRollout(this.ctx, origin, row, 'completed', { ...cause, reason: 'every stage held without a regression' });
      return this.applied('completed');
    }
    await advanceRollout(this.ctx, origin, row, experiment!, cause);
    return this.applied('advanced');
  }

  private applied(outcome: RolloutOutcome): RolloutOutcome {
    this.ctx.metrics.operations.jobTransitions.inc({ job: 'rollout-monitor', outcome: 'applied' });
    return outcome;
  }
}
