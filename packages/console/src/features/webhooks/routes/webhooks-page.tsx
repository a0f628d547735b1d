import { useState } from 'react';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { can } from '../../../lib/permissions';
import { useMe } from '../../../lib/session';
import { useDeleteWebhook, useUpdateWebhook, useWebhooks } from '../api/webhooks';
import { CreateWebhookForm } from '../components/create-webhook-form';
import { DeliveryLog } from '../components/delivery-log';

/** Webhooks (ADMIN): subscribe (secret shown once), enable/disable, delete, and each one's delivery log. */
export default function WebhooksPage() {
  const me = useMe();
  const admin = can(me.role, 'admin');
  const hooks = useWebhooks(admin);
  const update = useUpdateWebhook();
  const remove = useDeleteWebhook();
  const [selected, setSelected] = useState<string | null>(null);
  const shown = hooks.data?.find((w) => w.id === selected) ?? null;
  // The server refuses every webhook request of other roles: say so instead of offering a form that fails.
  if (!admin) return <p className="banner banner-info">Only admins manage webhooks.</p>;
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <CreateWebhookForm />
      <ErrorBanner error={hooks.error ?? update.error ?? remove.error} />
      <table className="table">
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col">Events</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {hooks.data?.map((w) => (
            <tr key={w.id} data-url={w.attributes.url} data-enabled={String(w.attributes.enabled)}>
              <td>
                <code>{w.attributes.url}</code>
                {w.attributes.description && <div className="hint">{w.attributes.description}</div>}
              </td>
              <td>{w.attributes.events.join(', ')}</td>
              <td>
                <span className="badge">{w.attributes.enabled ? 'enabled' : 'disabled'}</span>
                {w.attributes.disabled_reason && <div className="hint">{w.attributes.disabled_reason}</div>}
              </td>
              <td className="actions">
                <Button onClick={() => setSelected(w.id)}>Deliveries</Button>
                <Button disabled={update.isPending} onClick={() => update.mutate({ id: w.id, body: { enabled: !w.attributes.enabled } })}>
                  {w.attributes.enabled ? 'Disable' : 'Enable'}
                </Button>
                <Button
                  variant="danger"
                  disabled={remove.isPending}
                  onClick={() => {
                    if (window.confirm(`Delete the webhook to ${w.attributes.url} and its deliveries?`)) remove.mutate(w.id);
                  }}
                >
                  Delete
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown && <DeliveryLog webhook={shown} />}
    </section>
  );
}
