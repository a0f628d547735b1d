import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ExperimentStatus } from '@switchyard/core';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import { fetchAll } from '../../../lib/api/fetch-all';
import { ifMatch, refetchWhenStale } from '../../../lib/api/if-match';
import type { Resource, Stored } from '../../../lib/api/resources';
import { useEnvironment } from '../../../lib/environment';

/** An experiment's attributes as the API returns them. */
export type ExperimentAttributes = Schemas['ExperimentInput'] &
  Stored & { status: ExperimentStatus; pause_reason?: Record<string, unknown>; environment?: string };

/** An experiment resource. */
export type Experiment = Resource<ExperimentAttributes>;

/** A lifecycle action and the states it may start from (the server's state machine). */
export const LIFECYCLE = {
  start: { from: ['DRAFT'], label: 'Start' },
  pause: { from: ['RUNNING'], label: 'Pause' },
  resume: { from: ['PAUSED'], label: 'Resume' },
  complete: { from: ['RUNNING', 'PAUSED'], label: 'Complete' },
  archive: { from: ['COMPLETED', 'DRAFT'], label: 'Archive' },
} as const satisfies Record<string, { from: readonly ExperimentStatus[]; label: string }>;

/** A lifecycle action name. */
export type LifecycleAction = keyof typeof LIFECYCLE;

/** Every experiment of the current environment. */
export function useExperiments() {
  const env = useEnvironment().current.key;
  return useQuery({
    queryKey: ['experiments', env],
    queryFn: () =>
      fetchAll<Experiment>((cursor) =>
        unwrap<Experiment[]>(api.GET('/api/v1/experiments', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
      ),
  });
}

/** One experiment by key. */
export function useExperiment(key: string) {
  const env = useEnvironment().current.key;
  return useQuery({
    queryKey: ['experiments', env, key],
    queryFn: async () => (await unwrap<Experiment>(api.GET('/api/v1/experiments/{id}', { params: { path: { id: key } } }))).data,
  });
}

/** Creates an experiment (DRAFT). */
export function useCreateExperiment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['ExperimentInput']) =>
      (await unwrap<Experiment>(api.POST('/api/v1/experiments', { body: body as never }))).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['experiments'] }),
  });
}

/**
 * Changes named fields of an experiment (`PATCH`), only if it is still at `version` (If-Match):
 * a change someone else saved meanwhile comes back as a 412, and the latest is refetched.
 */
export function useUpdateExperiment() {
  const client = useQueryClient();
  const env = useEnvironment().current.key;
  return useMutation({
    mutationFn: async (v: { key: string; body: Schemas['ExperimentUpdate']; version: number | undefined }) =>
      (
        await unwrap<Experiment>(
          api.PATCH('/api/v1/experiments/{id}', { params: { path: { id: v.key } }, body: v.body as never, headers: ifMatch(v.version) }),
        )
      ).data,
    onSuccess: (e, v) => {
      client.setQueryData(['experiments', env, v.key], e);
      return client.invalidateQueries({ queryKey: ['experiments'] });
    },
    onError: refetchWhenStale(client, ['experiments']),
  });
}

/** Runs a lifecycle action; the server rejects one the state machine does not allow (409). */
export function useLifecycle() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (v: { key: string; action: LifecycleAction; version?: number | undefined }) =>
      (
        await unwrap<Experiment>(
          api.POST(`/api/v1/experiments/{id}/${v.action}`, { params: { path: { id: v.key } }, headers: ifMatch(v.version) }),
        )
      ).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['experiments'] }),
    // Stale (412): show the experiment as it is now, so the person sees what changed.
    onError: refetchWhenStale(client, ['experiments']),
  });
}

/** One comparison of a treatment against control for one metric. */
export interface Comparison {
  variant: string;
  absolute_lift: number | null;
  relative_lift: number | null;
  error: string | null;
  relative: { se: number | null; ci: [number, number] | null; p_value: number | null } | null;
  chance_to_beat_control: number | null;
  sequential: { ci: [number, number] | null; p_value: number | null } | null;
}

/** One metric's results. */
export interface MetricResult {
  role: 'primary' | 'secondary' | 'guardrail';
  key: string;
  type: 'conversion' | 'mean';
  variants: { key: string; units: number; count: number; mean: number | null }[];
  comparisons: Comparison[];
}

/** The interval a comparison is judged by: the always-valid sequential one when there is one. */
export function intervalOf(c: Comparison): [number, number] | null {
  return c.sequential?.ci ?? c.relative?.ci ?? null;
}

/** The results document. */
export interface Results {
  experiment: { key: string; status: ExperimentStatus };
  computed_at: string;
  method: { alpha: number; sequential: { included: boolean } };
  variants: { key: string; weight: number; units: number }[];
  excluded_units?: number;
  srm: { p_value: number | null; mismatch: boolean; chi_square: number | null } | null;
  metrics: Record<string, MetricResult>;
  guardrails?: { metric: string; breached?: boolean; [k: string]: unknown }[];
}

/** An experiment's results (live while it runs, frozen once COMPLETED). */
export function useResults(key: string, enabled: boolean) {
  const env = useEnvironment().current.key;
  return useQuery({
    queryKey: ['experiments', env, key, 'results'],
    enabled,
    queryFn: async () =>
      (await unwrap<Results>(api.GET('/api/v1/experiments/{id}/results', { params: { path: { id: key }, query: {} as never } }))).data,
  });
}

/** An experiment's cumulative results at the end of each day since its first exposure. */
export interface DailyResults {
  days: string[];
  metrics: { key: string; type: 'conversion' | 'mean'; role: string }[];
  variants: { key: string; units: number[]; metrics: Record<string, { value: (number | null)[]; relative_lift: (number | null)[] }> }[];
}

/** The daily cumulative series of an experiment in the current environment. */
export function useDailyResults(key: string, enabled: boolean) {
  const env = useEnvironment().current.key;
  return useQuery({
    queryKey: ['experiments', env, key, 'results', 'daily'],
    enabled,
    queryFn: async () =>
      (await unwrap<DailyResults>(api.GET('/api/v1/experiments/{id}/results/timeseries', { params: { path: { id: key } } }))).data,
  });
}
