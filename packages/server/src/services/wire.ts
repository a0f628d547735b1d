import type { EvaluationDetail } from '@switchyard/core';

/** An evaluation result as SDK endpoints send it (snake_case, absent fields omitted). */
export interface WireDetail {
  value: unknown;
  variant: string | null;
  reason: string;
  rule_id?: string;
  error_code?: string;
  in_experiment?: boolean;
  /** For an enrolled unit: its id under the experiment's `bucket_by`, so a remote client records the exposure under the right unit. */
  unit_id?: string;
}

/** Converts core's camelCase detail to the JSON wire shape. */
export function toWire(d: EvaluationDetail): WireDetail {
  const w: WireDetail = { value: d.value, variant: d.variant, reason: d.reason };
  if (d.ruleId !== undefined) w.rule_id = d.ruleId;
  if (d.errorCode !== undefined) w.error_code = d.errorCode;
  if (d.inExperiment !== undefined) w.in_experiment = d.inExperiment;
  return w;
}

/** One SSE frame. `data` is JSON on one line, so no line splitting is needed. */
export function sseFrame(event: string, id: number | null, data: unknown): string {
  return `${id === null ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
