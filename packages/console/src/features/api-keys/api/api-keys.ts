import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import { fetchAll } from '../../../lib/api/fetch-all';
import type { Resource, Role } from '../../../lib/api/resources';

/** An API key as listed (never with its secret). */
export type ApiKey = Resource<{
  name: string;
  kind: 'server' | 'client' | 'management';
  role: Role | null;
  prefix: string;
  environment?: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked: boolean;
}>;

/** Every API key the signed-in user may see (ADMIN: all; others: their own). */
export function useApiKeys() {
  return useQuery({
    queryKey: ['api-keys'],
    queryFn: () =>
      fetchAll<ApiKey>((cursor) =>
        unwrap<ApiKey[]>(api.GET('/api/v1/api-keys', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
      ),
  });
}

/** Creates a key; the answer is the only one that carries the secret (`attributes.key`). */
export function useCreateApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['ApiKeyInput']) =>
      (await unwrap<Resource<{ key: string; name: string }>>(api.POST('/api/v1/api-keys', { body }))).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['api-keys'] }),
  });
}

/** Revokes a key, effective immediately. */
export function useRevokeApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => unwrap(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['api-keys'] }),
  });
}
