import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import { ifMatch, refetchWhenStale } from '../../../lib/api/if-match';

/** A guarded rollout of a flag variant in one environment. */
export type Rollout = Schemas['Rollout'];
/** One guardrail as a rollout stores it. */
export type RolloutGuardrail = Rollout['attributes']['guardrails'][number];
/** What a guardrail looks like now, or at a decision of the rollout monitor. */
export type RolloutCheck = Schemas['RolloutGuardrailCheck'];
/** The body that starts a rollout. */
export type RolloutInput = Schemas['RolloutInput'];

/** Whether a rollout still runs (or waits, paused) and can be stopped. */
export const isActive = (r: Rollout) => r.attributes.status === 'running' || r.attributes.status === 'paused';

/** Query keys of rollouts; a flag's rollouts in one environment. */
export const rolloutKeys = {
  list: (flag: string, env: string) => ['rollouts', flag, env] as const,
};

/**
 * A flag's rollouts in one environment, newest first. Refetched live (as every query), so the
 * rollout monitor's stage changes and rollbacks show without a reload.
 */
export function useRollouts(flag: string, env: string) {
  return useQuery({
    queryKey: rolloutKeys.list(flag, env),
    queryFn: async () =>
      (
        await unwrap<Rollout[]>(
          api.GET('/api/v1/feature-flags/{key}/environments/{env}/rollouts', { params: { path: { key: flag, env } } }),
        )
      ).data,
  });
}

/** Starts a guarded rollout; a body the server refuses comes back with each field's message. */
export function useStartRollout(flag: string, env: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: RolloutInput) =>
      (
        await unwrap<Rollout>(
          api.POST('/api/v1/feature-flags/{key}/environments/{env}/rollouts', { params: { path: { key: flag, env } }, body }),
        )
      ).data,
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: ['rollouts'] }), client.invalidateQueries({ queryKey: ['flags'] })]),
  });
}

/**
 * Stops an active rollout (the environment serves the control again), only if it is still at the
 * version shown: a stage the monitor advanced meanwhile comes back as a 412 and the latest is shown.
 */
export function useStopRollout(flag: string, env: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (r: Rollout) =>
      (
        await unwrap<Rollout>(
          api.POST('/api/v1/feature-flags/{key}/environments/{env}/rollouts/{id}/stop', {
            params: { path: { key: flag, env, id: r.id } },
            headers: ifMatch(r.attributes.version),
          }),
        )
      ).data,
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: ['rollouts'] }), client.invalidateQueries({ queryKey: ['flags'] })]),
    onError: refetchWhenStale(client, ['rollouts']),
  });
}
