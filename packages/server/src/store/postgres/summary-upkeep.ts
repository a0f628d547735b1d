import type { StoredEvent } from '../types';
import { num, scoped, type Row } from '../rows';
import { classifyExposure, experimentRun, summaryKey, type ExperimentRun } from '../run-attribution';
import type { Queryable } from './transaction';

const UNIT_CHUNK = 5000;

/**
 * A map key of an experiment and a unit, once per exposure: joined by U+0000, which no stored
 * text holds (PostgreSQL refuses it in text), so two pairs never share a key; cheaper than a
 * JSON array.
 */
const unitKey = (experiment: string, unitId: string): string => `${experiment}\u0000${unitId}`;

/**
 * Index probes for the slice's statements. Each joins a slice-sized list (the slice's tracks, its
 * exposed units, the units whose stored tracks to take in) against a table that grows with every
 * event (`experiment_units`, `events`), written as a LATERAL subquery per list entry (`OFFSET 0`
 * keeps the planner from turning it back into a join) on the table's key: `experiment_units` by
 * unit, `events_track` by unit. The slice's own events are read by `xid` alone, in a subquery
 * without the `type = 'track'` that lets the planner walk the whole partial `events_track`
 * instead. As plain joins, with statistics that lag ingestion (autovacuum analyzes now and then,
 * never during a burst), the planner hashed or looped over a whole table or index every slice: a
 * slice cost grew with the table instead of with the slice, and the aggregator cost PostgreSQL
 * more CPU per event than the append. Sequential scans are off for the rest of the slice's
 * transaction for the same reason (a table's page count may be stale too), and so is JIT
 * compilation: a probe per entry of a list of thousands looks costly to the planner, which then
 * spent a second or more compiling statements that run in tens of milliseconds.
 */
const SLICE_PLANS = `SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)`;

/**
 * The results' summaries on PostgreSQL, moved by one slice of stored events (see aggregator.ts):
 * `unit_metrics` for the slice's tracks, then `experiment_units`, `experiment_unit_counts`,
 * `unit_metrics` and `experiment_exclusions` for its exposures, a few set-based statements.
 *
 * Tracks go first, against the units exposed in earlier slices; the exposures then take in
 * every stored track that is summarized by the end of this slice (`after`: earlier slices and
 * this one) from their first exposure on. A track the cursor leaves out is left to the slice
 * that summarizes it, which finds the unit then: each track counts once.
 *
 * The tracks are summarized where they are stored (`slice` selects the slice's events by a
 * condition on `events` and its parameters): most events are tracks, and none of them needs
 * anything only Node knows, so their rows never travel to the server and back as arrays.
 * Exposures are attributed to runs here (run-attribution.ts), so they come as read.
 *
 * @example
 * ```ts
 * const slice = { where: 'xid >= $1::xid8 AND xid < $2::xid8', params: ['1200', '1234'] };
 * await applySummaries(c, slice, exposures, { xmax: '1234', xip: ['1201'] });
 * ```
 */
export async function applySummaries(c: Queryable, slice: EventSlice, exposures: SummaryExposure[], after: SummaryCursor): Promise<void> {
  await c.query(SLICE_PLANS);
  await addTracks(c, slice);
  await applyExposures(c, exposures, after);
}

/** The events of one slice: a condition on `events` (its columns unqualified) and the parameters it names. */
export interface EventSlice {
  where: string;
  params: unknown[];
}

/** What the summaries use of an exposure (as the aggregator reads it back). */
export type SummaryExposure = Pick<StoredEvent, 'environment' | 'experiment' | 'variant' | 'unitId' | 'timestamp' | 'sentBy'>;

/** The aggregator's cursor: the summaries count the events with `xid` below `xmax` and not in `xip`. */
export interface SummaryCursor {
  xmax: string;
  xip: string[];
}

/**
 * Each new track of the slice adds its value (1 without one) to its unit's row of every
 * experiment it was exposed in by then. The unit is named as the summaries name it (scoped():
 * `<environment>:<unit_id>`).
 */
async function addTracks(c: Queryable, slice: EventSlice): Promise<void> {
  // GROUP BY: one INSERT ... ON CONFLICT DO UPDATE may not touch a row twice.
  await c.query(
    `INSERT INTO unit_metrics AS m (experiment, metric, variant, unit_id, value)
    SELECT a.experiment, t.key, a.variant, a.unit_id, SUM(COALESCE(t.value, 1))
    FROM (SELECT key, environment || ':' || unit_id AS unit_id, timestamp, value
      FROM (SELECT type, key, environment, unit_id, timestamp, value FROM events WHERE ${slice.where} OFFSET 0) AS e WHERE type = 'track') AS t
    CROSS JOIN LATERAL (SELECT experiment, variant, unit_id FROM experiment_units
      WHERE unit_id = t.unit_id AND conflicted = 0 AND first_ts <= t.timestamp OFFSET 0) a
    GROUP BY a.experiment, t.key, a.variant, a.unit_id
    ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = m.value + EXCLUDED.value`,
    slice.params,
  );
}

/**
 * Each exposure's run (the experiment of its key that exists now, see run-attribution.ts): the
 * exposures that count, with the name the summaries give their run; the others are added to
 * `experiment_exclusions` per run, reason and sender.
 */
async function attribute(c: Queryable, exposures: SummaryExposure[]): Promise<{ event: SummaryExposure; experiment: string }[]> {
  const keys = new Map<string, { environment: string; key: string }>();
  for (const e of exposures) keys.set(scoped(e.environment, e.experiment!), { environment: e.environment, key: e.experiment! });
  const found = [...keys.values()];
  const { rows } = await c.query(
    `SELECT r.id, r.environment, r.key, r.data FROM unnest($1::text[], $2::text[]) AS k(environment, key)
    JOIN resources r ON r.kind = 'experiment' AND r.environment = k.environment AND r.key = k.key`,
    [found.map((k) => k.environment), found.map((k) => k.key)],
  );
  const runs = new Map<string, ExperimentRun>();
  for (const r of rows as Row[])
    runs.set(
      scoped(r.environment as string, r.key as string),
      experimentRun(r.id as string, JSON.parse(r.data as string) as Record<string, unknown>),
    );
  const counted: { event: SummaryExposure; experiment: string }[] = [];
  const excluded = new Map<string, { experiment: string; reason: string; sentBy: string; events: number }>();
  for (const e of exposures) {
    const run = runs.get(scoped(e.environment, e.experiment!)) ?? null;
    const reason = run === null ? null : classifyExposure(run, e.variant!, e.timestamp, e.unitId);
    if (reason === null) {
      counted.push({ event: e, experiment: summaryKey(run, e.environment, e.experiment!) });
      continue;
    }
    const k = JSON.stringify([run!.id, reason, e.sentBy ?? '']);
    const x = excluded.get(k);
    if (x === undefined) excluded.set(k, { experiment: run!.id, reason, sentBy: e.sentBy ?? '', events: 1 });
    else x.events++;
  }
  if (excluded.size > 0) {
    // Sorted: concurrent transactions take the rows' locks in one order.
    const xs = [...excluded.values()].sort((a, b) =>
      a.experiment !== b.experiment
        ? a.experiment < b.experiment
          ? -1
          : 1
        : a.reason !== b.reason
          ? a.reason < b.reason
            ? -1
            : 1
          : a.sentBy < b.sentBy
            ? -1
            : a.sentBy > b.sentBy
              ? 1
              : 0,
    );
    await c.query(
      `INSERT INTO experiment_exclusions AS x (experiment, reason, sent_by, events)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
      ON CONFLICT (experiment, reason, sent_by) DO UPDATE SET events = x.events + EXCLUDED.events`,
      [xs.map((x) => x.experiment), xs.map((x) => x.reason), xs.map((x) => x.sentBy), xs.map((x) => x.events)],
    );
  }
  return counted;
}

/**
 * The same end state as SQLite's per-event upkeep. The group's exposures are folded per
 * (experiment, unit) (first variant, earliest time, conflicted on a second variant) and
 * compared with the unit's state before this group: a new unit is inserted and counted and
 * takes in its stored tracks from its first exposure on; an earlier first exposure takes in
 * the tracks between the new and the old time; a unit that turns conflicted moves to the
 * excluded count and loses its `unit_metrics` rows; anything else (a repeat) writes nothing.
 */
async function applyExposures(c: Queryable, all: SummaryExposure[], after: SummaryCursor): Promise<void> {
  if (all.length === 0) return;
  const exposures = await attribute(c, all);
  // Experiments and units as the summaries name them (see scoped()); the raw unit and its
  // environment find the unit's stored tracks.
  const units = new Map<
    string,
    { experiment: string; unitId: string; raw: string; environment: string; variant: string; firstTs: number; conflicted: number }
  >();
  for (const { event: e, experiment } of exposures) {
    const unitId = scoped(e.environment, e.unitId);
    const k = unitKey(experiment, unitId);
    const u = units.get(k);
    if (u === undefined)
      units.set(k, {
        experiment,
        unitId,
        raw: e.unitId,
        environment: e.environment,
        variant: e.variant!,
        firstTs: e.timestamp,
        conflicted: 0,
      });
    else {
      if (u.variant !== e.variant) u.conflicted = 1;
      u.firstTs = Math.min(u.firstTs, e.timestamp);
    }
  }
  const rows = [...units.values()].sort((a, b) =>
    a.experiment < b.experiment ? -1 : a.experiment > b.experiment ? 1 : a.unitId < b.unitId ? -1 : a.unitId > b.unitId ? 1 : 0,
  );
  const before = new Map<string, { variant: string; firstTs: number; conflicted: number }>();
  const { rows: old } = await c.query(
    `SELECT a.experiment, a.unit_id, a.variant, a.first_ts, a.conflicted
    FROM unnest($1::text[], $2::text[]) AS k(unit_id, experiment)
    CROSS JOIN LATERAL (SELECT * FROM experiment_units WHERE unit_id = k.unit_id AND experiment = k.experiment OFFSET 0) a`,
    [rows.map((u) => u.unitId), rows.map((u) => u.experiment)],
  );
  for (const r of old as Row[]) {
    before.set(unitKey(r.experiment as string, r.unit_id as string), {
      variant: r.variant as string,
      firstTs: num(r.first_ts),
      conflicted: num(r.conflicted),
    });
  }
  // Tracks of [lo, hi) to add per unit, per experiment the units whose rows go, and the unit count deltas.
  const ranges = {
    experiment: [] as string[],
    unitId: [] as string[],
    raw: [] as string[],
    environment: [] as string[],
    variant: [] as string[],
    lo: [] as number[],
    hi: [] as number[],
  };
  const addRange = (
    u: { experiment: string; unitId: string; raw: string; environment: string },
    variant: string,
    lo: number,
    hi: number,
  ) => {
    ranges.experiment.push(u.experiment);
    ranges.unitId.push(u.unitId);
    ranges.raw.push(u.raw);
    ranges.environment.push(u.environment);
    ranges.variant.push(variant);
    ranges.lo.push(lo);
    ranges.hi.push(hi);
  };
  const drops = new Map<string, { unitId: string[]; variant: string[] }>();
  const counts = new Map<string, { experiment: string; conflicted: number; variant: string; units: number }>();
  const count = (experiment: string, conflicted: number, variant: string, units: number) => {
    const k = JSON.stringify([experiment, conflicted, variant]);
    const c0 = counts.get(k);
    if (c0 === undefined) counts.set(k, { experiment, conflicted, variant, units });
    else c0.units += units;
  };
  // Rows that change, written after the decisions (a repeat exposure writes nothing).
  const changed: typeof rows = [];
  for (const u of rows) {
    const o = before.get(unitKey(u.experiment, u.unitId));
    if (o === undefined) {
      changed.push(u);
      count(u.experiment, u.conflicted, u.variant, 1);
      if (u.conflicted === 0) addRange(u, u.variant, u.firstTs, Number.MAX_SAFE_INTEGER);
      continue;
    }
    const conflicted = o.conflicted !== 0 || u.conflicted !== 0 || u.variant !== o.variant ? 1 : 0;
    if (conflicted === o.conflicted && u.firstTs >= o.firstTs) continue;
    changed.push({ ...u, variant: o.variant, conflicted, firstTs: Math.min(u.firstTs, o.firstTs) });
    if (o.conflicted !== 0) continue;
    if (conflicted !== 0) {
      count(u.experiment, 0, o.variant, -1);
      count(u.experiment, 1, o.variant, 1);
      const d = drops.get(u.experiment) ?? { unitId: [], variant: [] };
      d.unitId.push(u.unitId);
      d.variant.push(o.variant);
      drops.set(u.experiment, d);
    } else {
      addRange(u, o.variant, u.firstTs, o.firstTs);
    }
  }
  for (let i = 0; i < changed.length; i += UNIT_CHUNK) {
    const chunk = changed.slice(i, i + UNIT_CHUNK);
    // The values are the unit's new state, computed above.
    await c.query(
      `INSERT INTO experiment_units AS a (experiment, unit_id, variant, first_ts, conflicted)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::smallint[])
      ON CONFLICT (unit_id, experiment) DO UPDATE SET conflicted = EXCLUDED.conflicted, first_ts = EXCLUDED.first_ts`,
      [
        chunk.map((u) => u.experiment),
        chunk.map((u) => u.unitId),
        chunk.map((u) => u.variant),
        chunk.map((u) => u.firstTs),
        chunk.map((u) => u.conflicted),
      ],
    );
  }
  const deltas = [...counts.values()].filter((d) => d.units !== 0);
  if (deltas.length > 0) {
    deltas.sort((a, b) =>
      a.experiment < b.experiment
        ? -1
        : a.experiment > b.experiment
          ? 1
          : a.conflicted - b.conflicted || (a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : 0),
    );
    await c.query(
      `INSERT INTO experiment_unit_counts AS n (experiment, conflicted, variant, units)
      SELECT * FROM unnest($1::text[], $2::smallint[], $3::text[], $4::bigint[])
      ON CONFLICT (experiment, conflicted, variant) DO UPDATE SET units = n.units + EXCLUDED.units`,
      [deltas.map((d) => d.experiment), deltas.map((d) => d.conflicted), deltas.map((d) => d.variant), deltas.map((d) => d.units)],
    );
  }
  if (ranges.unitId.length > 0) {
    await c.query(
      `INSERT INTO unit_metrics AS m (experiment, metric, variant, unit_id, value)
      SELECT r.experiment, e.key, r.variant, r.unit_id, SUM(COALESCE(e.value, 1))
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
        AS r(experiment, unit_id, variant, lo, hi, raw, environment)
      CROSS JOIN LATERAL (SELECT key, value FROM events
        WHERE type = 'track' AND unit_id = r.raw AND environment = r.environment AND timestamp >= r.lo AND timestamp < r.hi
          AND xid < $8::xid8 AND xid <> ALL($9::xid8[]) OFFSET 0) e
      GROUP BY r.experiment, e.key, r.variant, r.unit_id
      ON CONFLICT (experiment, metric, variant, unit_id) DO UPDATE SET value = m.value + EXCLUDED.value`,
      [ranges.experiment, ranges.unitId, ranges.variant, ranges.lo, ranges.hi, ranges.raw, ranges.environment, after.xmax, after.xip],
    );
  }
  for (const [experiment, d] of drops) {
    // The experiment's metric keys by a loose index scan (one seek per key), then one delete per key and unit.
    await c.query(
      `WITH RECURSIVE k(metric) AS (
        (SELECT metric FROM unit_metrics WHERE experiment = $1 ORDER BY metric LIMIT 1)
        UNION ALL
        SELECT (SELECT n.metric FROM unit_metrics n WHERE n.experiment = $1 AND n.metric > k.metric ORDER BY n.metric LIMIT 1)
        FROM k WHERE k.metric IS NOT NULL)
      DELETE FROM unit_metrics m USING k, unnest($2::text[], $3::text[]) AS d(unit_id, variant)
      WHERE m.experiment = $1 AND m.metric = k.metric AND m.variant = d.variant AND m.unit_id = d.unit_id`,
      [experiment, d.unitId, d.variant],
    );
  }
}
