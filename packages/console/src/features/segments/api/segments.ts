import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Condition } from '@switchyard/core';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import { fetchAll } from '../../../lib/api/fetch-all';
import { ifMatch } from '../../../lib/api/if-match';
import type { Resource, Stored } from '../../../lib/api/resources';

/** A segment's attributes: explicit unit lists plus an optional condition. */
export interface SegmentAttributes extends Stored {
  key: string;
  name?: string;
  description?: string;
  included?: string[];
  excluded?: string[];
  when?: Condition | null;
}

/** A segment resource. */
export type Segment = Resource<SegmentAttributes>;

/** Every segment (segments are shared by all environments). */
export function useSegments() {
  return useQuery({
    queryKey: ['segments', 'all'],
    queryFn: () =>
      fetchAll<Segment>((cursor) =>
        unwrap<Segment[]>(api.GET('/api/v1/segments', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
      ),
  });
}

/** One segment by key; disabled for a new one. */
export function useSegment(key: string | null) {
  return useQuery({
    queryKey: ['segments', 'one', key],
    enabled: key !== null,
    queryFn: async () => (await unwrap<Segment>(api.GET('/api/v1/segments/{id}', { params: { path: { id: key! } } }))).data,
  });
}

/** Creates a segment. */
export function useCreateSegment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['SegmentInput']) =>
      (await unwrap<Segment>(api.POST('/api/v1/segments', { body: body as never }))).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['segments'] }),
  });
}

/** Changes a segment's named fields, with `If-Match` for the version the form was built from. */
export function useUpdateSegment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (v: { key: string; body: Schemas['SegmentUpdate']; version?: number | undefined }) =>
      (
        await unwrap<Segment>(
          api.PATCH('/api/v1/segments/{id}', { params: { path: { id: v.key } }, body: v.body as never, headers: ifMatch(v.version) }),
        )
      ).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['segments'] }),
  });
}

/** Deletes a segment; one that a flag rule still names is refused by the server. */
export function useDeleteSegment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (v: { key: string; version?: number | undefined }) =>
      unwrap(api.DELETE('/api/v1/segments/{id}', { params: { path: { id: v.key } }, headers: ifMatch(v.version) })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['segments'] }),
  });
}
