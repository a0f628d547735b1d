import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../../lib/api/client';
import { fetchAll } from '../../../lib/api/fetch-all';
import type { Resource } from '../../../lib/api/resources';

/** A webhook as listed (the secret only in the answers to creation and rotation). */
export type Webhook = Resource<Schemas['Webhook']['attributes']>;
/** One event's delivery to one webhook. */
export type Delivery = Resource<Schemas['WebhookDelivery']['attributes']>;
/** Every event type a webhook can receive, as the server's schema lists them. */
export type WebhookEventType = Schemas['WebhookInput']['events'][number];

/** Every webhook (ADMIN only; others get a 403). */
export function useWebhooks(enabled = true) {
  return useQuery({
    queryKey: ['webhooks'],
    enabled,
    queryFn: () =>
      fetchAll<Webhook>((cursor) =>
        unwrap<Webhook[]>(api.GET('/api/v1/webhooks', { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
      ),
  });
}

/** Creates a webhook; the answer is the only one with its signing secret. */
export function useCreateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: Schemas['WebhookInput']) => (await unwrap<Webhook>(api.POST('/api/v1/webhooks', { body }))).data,
    onSuccess: () => client.invalidateQueries({ queryKey: ['webhooks'] }),
  });
}

/** Changes the named fields of a webhook (enabling it again resets its failure streak). */
export function useUpdateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ id, body }: { id: string; body: Schemas['WebhookUpdate'] }) =>
      unwrap(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id } }, body })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['webhooks'] }),
  });
}

/** Deletes a webhook and its deliveries. */
export function useDeleteWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (id: string) => unwrap(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['webhooks'] }),
  });
}

/** The latest deliveries of a webhook, newest first; refreshed while any is pending. */
export function useDeliveries(id: string) {
  return useQuery({
    queryKey: ['webhooks', id, 'deliveries'],
    queryFn: async () =>
      (await unwrap<Delivery[]>(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id }, query: { limit: 50 } } }))).data,
    refetchInterval: (q) => (q.state.data?.some((d) => d.attributes.status === 'pending') ? 1000 : false),
  });
}

/** Sends a delivery again, with the same webhook-id. */
export function useRedeliver(webhookId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (deliveryId: string) =>
      unwrap(
        api.POST('/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver', {
          params: { path: { id: webhookId, delivery_id: deliveryId } },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ['webhooks', webhookId, 'deliveries'] }),
  });
}
