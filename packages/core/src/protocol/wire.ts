import type { EvaluationDetail, ErrorCode, Reason } from '../reasons';
import type { ConfigDocument } from '../types';
import type { ConfigPatch } from '../patch';

/** The config document `GET /sdk/v1/config` returns and a stream's `put` carries. */
export type WireConfigDocument = ConfigDocument;

/** A stream's `patch` on a server-key stream: changed flags, segments and experiments; `null` = deleted. */
export type WireConfigPatch = ConfigPatch;

/**
 * An evaluation result as the SDK endpoints send it (snake_case, absent fields omitted).
 *
 * @example
 * ```ts
 * const w: WireDetail = { value: true, variant: 'on', reason: 'SPLIT', in_experiment: true, unit_id: 'acme' };
 * ```
 */
export interface WireDetail {
  value: unknown;
  variant: string | null;
  reason: Reason;
  rule_id?: string;
  error_code?: ErrorCode;
  in_experiment?: boolean;
  /** Set when a flag served this through an experiment: the key the exposure is recorded under. */
  experiment?: string;
  /** For an enrolled unit: its id under the experiment's `bucket_by`, so a remote client records the exposure under the right unit. */
  unit_id?: string;
}

/** `{version, flags}`: what `POST /sdk/v1/evaluate` returns and a client-key stream's `put`/`patch` carry (`null` = deleted, patches only). */
export interface WireEvaluation {
  version: number;
  flags: Record<string, WireDetail | null>;
}

/** Event types the server accepts. */
export const EventType = {
  EXPOSURE: 'exposure',
  TRACK: 'track',
} as const;

/** One of {@link EventType}. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/**
 * An event as `POST /sdk/v1/events` takes it.
 *
 * @example
 * ```ts
 * const e: WireEvent = { id: eventId(), type: 'track', key: 'purchase', unit_id: 'user-1', value: 42.5, timestamp: Date.now() };
 * ```
 */
export interface WireEvent {
  /** Made once by the SDK ({@link eventId}) and kept across retries, so the server counts it once. */
  id: string;
  type: EventType;
  /** Experiment key for an exposure, event key (metric) for a track. */
  key: string;
  /** A non-empty unit id (see {@link unitIdOf}). */
  unit_id: string;
  experiment?: string;
  variant?: string;
  value?: number;
  properties?: Record<string, unknown>;
  /** ISO 8601 string or epoch milliseconds. */
  timestamp: string | number;
}

/** A detail as an SDK holds it: core's detail plus the experiment unit a remote server named. */
export type DetailWithUnit<T = unknown> = EvaluationDetail<T> & { unitId?: string };

/**
 * Core's camelCase detail to its wire shape; `unitId` is added for an enrolled unit.
 *
 * @example
 * ```ts
 * toWire({ value: true, variant: 'on', reason: 'SPLIT', inExperiment: true }, 'acme');
 * // { value: true, variant: 'on', reason: 'SPLIT', in_experiment: true, unit_id: 'acme' }
 * ```
 */
export function toWire(d: EvaluationDetail, unitId?: string | null): WireDetail {
  const w: WireDetail = { value: d.value, variant: d.variant, reason: d.reason };
  if (d.ruleId !== undefined) w.rule_id = d.ruleId;
  if (d.errorCode !== undefined) w.error_code = d.errorCode;
  if (d.inExperiment !== undefined) w.in_experiment = d.inExperiment;
  if (d.experiment !== undefined) w.experiment = d.experiment;
  if (unitId !== undefined && unitId !== null && d.inExperiment === true) w.unit_id = unitId;
  return w;
}

/**
 * A wire detail back to the camelCase form the SDKs serve (`unit_id` becomes `unitId`).
 *
 * @example
 * ```ts
 * fromWire({ value: 'b', variant: 'b', reason: 'SPLIT', in_experiment: true, unit_id: 'u1' });
 * // { value: 'b', variant: 'b', reason: 'SPLIT', inExperiment: true, unitId: 'u1' }
 * ```
 */
export function fromWire(w: WireDetail): DetailWithUnit {
  const d: DetailWithUnit = { value: w.value, variant: w.variant, reason: w.reason };
  if (w.rule_id !== undefined) d.ruleId = w.rule_id;
  if (w.error_code !== undefined) d.errorCode = w.error_code;
  if (w.in_experiment !== undefined) d.inExperiment = w.in_experiment;
  if (typeof w.experiment === 'string') d.experiment = w.experiment;
  if (typeof w.unit_id === 'string' && w.unit_id !== '') d.unitId = w.unit_id;
  return d;
}
