import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import { fetchAll } from '../../../lib/api/fetch-all';
import type { Resource, UserAttributes } from '../../../lib/api/resources';

/** A user as listed. */
export type User = Resource<UserAttributes>;

/** Every user (an ADMIN sees all; anyone else only themselves, as the server decides). */
export function useUsers() {
  return useQuery({
    queryKey: ['users'],
    queryFn: () =>
      fetchAll<User>((cursor) =>
        unwrap<User[]>(api.GET('/api/v1/users', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
      ),
  });
}

/** Creates a user with a password (ADMIN). */
export function useCreateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['UserInput']) => (await unwrap<User>(api.POST('/api/v1/users', { body }))).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['users'] }),
  });
}

/** Changes a user's role or name (ADMIN). Demoting the last admin is a 409 the screen shows. */
export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (v: { id: string; body: Schemas['UserUpdate'] }) =>
      (await unwrap<User>(api.PATCH('/api/v1/users/{id}', { params: { path: { id: v.id } }, body: v.body }))).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['users'] }),
  });
}

/** Deletes a user (ADMIN); their sessions and keys stop working. */
export function useDeleteUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => unwrap(api.DELETE('/api/v1/users/{id}', { params: { path: { id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['users'] }),
  });
}
