import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import type { Resource } from '../../../lib/api/resources';

/** An environment resource as the API returns it. */
export type EnvironmentResource = Resource<Schemas['EnvironmentInput'] & { version?: number }>;

// The switcher's list is the ['environments'] query: refreshing it updates every screen at once.
const refresh = (client: ReturnType<typeof useQueryClient>) => client.invalidateQueries({ queryKey: ['environments'] });

/** Creates an environment (ADMIN). */
export function useCreateEnvironment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['EnvironmentInput']) =>
      (await unwrap<EnvironmentResource>(api.POST('/api/v1/environments', { body }))).data,
    onSuccess: () => refresh(client),
  });
}

/** Changes an environment's name, colour or protection (ADMIN). */
export function useUpdateEnvironment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (v: { key: string; body: Schemas['EnvironmentUpdate'] }) =>
      (await unwrap<EnvironmentResource>(api.PATCH('/api/v1/environments/{id}', { params: { path: { id: v.key } }, body: v.body }))).data,
    onSuccess: () => refresh(client),
  });
}

/** Deletes an environment (ADMIN); one that keys or experiments still use is a 409 the screen shows. */
export function useDeleteEnvironment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (key: string) => unwrap(api.DELETE('/api/v1/environments/{id}', { params: { path: { id: key } } })),
    onSuccess: () => refresh(client),
  });
}
