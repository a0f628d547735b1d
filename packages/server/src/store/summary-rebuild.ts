import { scoped } from './rows';
import { classifyExposure, type ExclusionReason, type ExperimentRun } from './run-attribution';

/** A stored event as a rebuild reads it, in the order it was stored (`seq`). */
export interface RebuildEvent {
  type: 'exposure' | 'track';
  key: string;
  /** As sent (not scoped by environment). */
  unitId: string;
  variant: string | null;
  value: number | null;
  timestamp: number;
  sentBy: string | null;
}

/** The summary rows of one experiment run, as ingestion would have left them. */
export interface RebuiltSummaries {
  units: { unitId: string; variant: string; firstTs: number; conflicted: 0 | 1 }[];
  counts: { conflicted: 0 | 1; variant: string; units: number }[];
  metrics: { metric: string; variant: string; unitId: string; value: number }[];
  exclusions: { reason: ExclusionReason; sentBy: string; events: number }[];
  /** Track events left out because their value is not a finite number within the bound. */
  skippedValues: number;
}

/**
 * Recomputes an experiment run's summaries from its events with the rules ingestion applies one
 * event at a time: exposures in stored order (the first variant stays, a second one makes the unit
 * conflicted, the earliest timestamp is its first exposure; exposures outside the run or
 * contradicting the assignment are excluded per reason and sender), then every track of a counted
 * unit at or after its first exposure added to its metric sum. A track whose value is not finite
 * or exceeds `maxValue` is skipped, so summaries poisoned before values were bounded come out clean.
 *
 * @example
 * ```ts
 * const rows = rebuildRunSummaries(run, 'production', exposures, tracks, 1e9);
 * ```
 */
export function rebuildRunSummaries(
  run: ExperimentRun,
  environment: string,
  exposures: Iterable<RebuildEvent>,
  tracks: Iterable<RebuildEvent>,
  maxValue: number,
): RebuiltSummaries {
  const units = new Map<string, { variant: string; firstTs: number; conflicted: boolean }>();
  const excluded = new Map<string, { reason: ExclusionReason; sentBy: string; events: number }>();
  for (const e of exposures) {
    if (e.variant === null) continue;
    const reason = classifyExposure(run, e.variant, e.timestamp, e.unitId);
    if (reason !== null) {
      const k = JSON.stringify([reason, e.sentBy ?? '']);
      const x = excluded.get(k);
      if (x === undefined) excluded.set(k, { reason, sentBy: e.sentBy ?? '', events: 1 });
      else x.events++;
      continue;
    }
    const unitId = scoped(environment, e.unitId);
    const u = units.get(unitId);
    if (u === undefined) units.set(unitId, { variant: e.variant, firstTs: e.timestamp, conflicted: false });
    else {
      u.conflicted ||= u.variant !== e.variant;
      u.firstTs = Math.min(u.firstTs, e.timestamp);
    }
  }
  const counts = new Map<string, { conflicted: 0 | 1; variant: string; units: number }>();
  for (const u of units.values()) {
    const conflicted = u.conflicted ? 1 : 0;
    const k = JSON.stringify([conflicted, u.variant]);
    const c = counts.get(k);
    if (c === undefined) counts.set(k, { conflicted, variant: u.variant, units: 1 });
    else c.units++;
  }
  const sums = new Map<string, { metric: string; variant: string; unitId: string; value: number }>();
  let skippedValues = 0;
  for (const t of tracks) {
    const unitId = scoped(environment, t.unitId);
    const u = units.get(unitId);
    // As results count them: at or after the unit's first exposure, before the run completed.
    if (u === undefined || u.conflicted || t.timestamp < u.firstTs) continue;
    if (run.completedAt !== null && t.timestamp >= run.completedAt) continue;
    const value = t.value ?? 1;
    if (!Number.isFinite(value) || Math.abs(value) > maxValue) {
      skippedValues++;
      continue;
    }
    const k = JSON.stringify([unitId, t.key]);
    const m = sums.get(k);
    if (m === undefined) sums.set(k, { metric: t.key, variant: u.variant, unitId, value });
    else m.value += value;
  }
  return {
    units: [...units].map(([unitId, u]) => ({ unitId, variant: u.variant, firstTs: u.firstTs, conflicted: u.conflicted ? 1 : 0 })),
    counts: [...counts.values()],
    metrics: [...sums.values()],
    exclusions: [...excluded.values()],
    skippedValues,
  };
}
