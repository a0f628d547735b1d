import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { useDeliveries, useRedeliver, type Webhook } from '../api/webhooks';

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

/** A webhook's latest deliveries: status, attempts, response code, next attempt; redeliver by hand. */
export function DeliveryLog({ webhook }: { webhook: Webhook }) {
  const deliveries = useDeliveries(webhook.id);
  const redeliver = useRedeliver(webhook.id);
  return (
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries to {webhook.attributes.url}</h2>
      <ErrorBanner error={deliveries.error ?? redeliver.error} />
      {deliveries.data?.length === 0 && <p>No deliveries yet.</p>}
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Response</th>
            <th scope="col">Next attempt</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {deliveries.data?.map((d) => (
            <tr key={d.id} data-delivery={d.attributes.message_id} data-status={d.attributes.status}>
              <td>{d.attributes.event_type}</td>
              <td>
                <span className="badge">{d.attributes.status}</span>
              </td>
              <td>{d.attributes.attempts}</td>
              <td title={d.attributes.last_error ?? d.attributes.response_excerpt ?? ''}>
                {d.attributes.response_status ?? d.attributes.last_error ?? '—'}
              </td>
              <td>{when(d.attributes.next_attempt_at)}</td>
              <td>{when(d.attributes.created_at)}</td>
              <td>
                <Button
                  disabled={redeliver.isPending || !webhook.attributes.enabled}
                  disabledReason={webhook.attributes.enabled ? undefined : 'Enable the webhook to redeliver'}
                  onClick={() => redeliver.mutate(d.id)}
                >
                  Redeliver
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
