import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import { fetchAll } from '../../../lib/api/fetch-all';
import { ifMatch, refetchWhenStale } from '../../../lib/api/if-match';
import type { AuditRecord, FlagAttributes, Resource } from '../../../lib/api/resources';
import { untyped } from '../../../lib/api/untyped';
import { useEnvironment } from '../../../lib/environment';

/** A flag resource. */
export type Flag = Resource<FlagAttributes>;

/** Query keys of this feature; every key carries the environment it was read in. */
export const flagKeys = {
  all: (env: string) => ['flags', env] as const,
  one: (env: string, key: string) => ['flags', env, key] as const,
  history: (id: string) => ['flag-history', id] as const,
};

/** Every flag (all pages), in the current environment. */
export function useFlags() {
  const env = useEnvironment().current.key;
  return useQuery({
    queryKey: flagKeys.all(env),
    queryFn: () =>
      fetchAll<Flag>((cursor) =>
        unwrap<Flag[]>(api.GET('/api/v1/feature-flags', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
      ),
  });
}

/** One flag by key, in the current environment. */
export function useFlag(key: string) {
  const env = useEnvironment().current.key;
  return useQuery({
    queryKey: flagKeys.one(env, key),
    queryFn: async () => (await unwrap<Flag>(api.GET('/api/v1/feature-flags/{id}', { params: { path: { id: key } } }))).data,
  });
}

/** Creates a flag. */
export function useCreateFlag() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['FeatureFlagInput']) =>
      (await unwrap<Flag>(api.POST('/api/v1/feature-flags', { body: body as never }))).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['flags'] }),
  });
}

/**
 * Changes named fields of a flag in the current environment (`PATCH`), sending `If-Match` with
 * the version the screen showed, so a concurrent change comes back as a 412 instead of being
 * overwritten.
 */
export function useUpdateFlag() {
  const client = useQueryClient();
  const env = useEnvironment().current.key;
  return useMutation({
    mutationFn: async (v: { key: string; body: Schemas['FeatureFlagUpdate']; version?: number | undefined; environment?: string }) =>
      (
        await unwrap<Flag>(
          api.PATCH('/api/v1/feature-flags/{id}', {
            params: { path: { id: v.key }, query: (v.environment === undefined ? {} : { environment: v.environment }) as never },
            body: v.body as never,
            headers: ifMatch(v.version),
          }),
        )
      ).data,
    onSuccess: (flag, v) => {
      client.setQueryData(flagKeys.one(v.environment ?? env, v.key), flag);
      return client.invalidateQueries({ queryKey: ['flags'] });
    },
    // A 412 means the screen's copy is stale: fetch the latest so "reapply" builds on it.
    onError: refetchWhenStale(client, ['flags']),
  });
}

/** Deletes a flag. */
export function useDeleteFlag() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (v: { key: string; version?: number | undefined }) =>
      unwrap(api.DELETE('/api/v1/feature-flags/{id}', { params: { path: { id: v.key } }, headers: ifMatch(v.version) })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['flags'] }),
  });
}

/** Copies one environment's state of a flag onto another. */
export function usePromoteFlag() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (v: { key: string; from: string; to: string }) =>
      (await untyped<Flag>('POST', `/api/v1/feature-flags/${encodeURIComponent(v.key)}/promote`, { from: v.from, to: v.to })).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['flags'] }),
  });
}

/** What the server's evaluation says for one context. */
export interface EvaluationResult {
  key: string;
  value: unknown;
  variant: string | null;
  reason: string;
}

/** Evaluates a flag on the server for `user_id` plus string attributes. */
export async function evaluateOnServer(key: string, attributes: Record<string, string>): Promise<EvaluationResult> {
  const { data } = await unwrap<EvaluationResult>(
    api.GET('/api/v1/feature-flags/{key}/evaluate', { params: { path: { key }, query: attributes } }),
  );
  return data;
}

/** A flag's audit history (ADMIN only on the server; others get a 403 shown as such). */
export function useFlagHistory(flagId: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: flagKeys.history(flagId ?? ''),
    enabled: enabled && flagId !== undefined,
    queryFn: async () =>
      (
        await unwrap<AuditRecord[]>(
          api.GET('/api/v1/audit-log', { params: { query: { resource_type: 'feature-flag', resource_id: flagId!, limit: 50 } } }),
        )
      ).data,
  });
}

/** Every segment key, for the rule editor's segment picker. */
export function useSegmentKeys() {
  return useQuery({
    queryKey: ['segments', 'keys'],
    queryFn: async () =>
      (
        await fetchAll<Resource<{ key: string; name?: string }>>((cursor) =>
          unwrap(api.GET('/api/v1/segments', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
        )
      ).map((s) => s.attributes.key),
    staleTime: 30_000,
  });
}
