import { useState, type FormEvent } from 'react';
import { CopyButton } from '../../../components/ui/copy-button';
import { Dialog } from '../../../components/ui/dialog';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import { WEBHOOK_EVENT_TYPES } from '../../../lib/api/enums';
import { useCreateWebhook, type WebhookEventType } from '../api/webhooks';

/** Subscribes a URL to event types and shows the signing secret once. */
export function CreateWebhookForm() {
  const create = useCreateWebhook();
  const [secret, setSecret] = useState<string | null>(null);
  const err = create.error instanceof ApiError ? create.error : null;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const description = String(f.get('description') ?? '').trim();
    create.mutate(
      {
        url: String(f.get('url')),
        events: f.getAll('events').map(String) as WebhookEventType[],
        ...(description ? { description } : {}),
      },
      { onSuccess: (w) => setSecret(w.attributes.secret ?? null) },
    );
  };

  return (
    <>
      <form onSubmit={submit} aria-label="New webhook">
        <div className="toolbar">
          <Field label="Endpoint URL" errors={err?.at('url')}>
            {(p) => <input {...p} name="url" type="url" required placeholder="https://hooks.example.com/switchyard" />}
          </Field>
          <Field label="Description" errors={err?.at('description')}>
            {(p) => <input {...p} name="description" />}
          </Field>
        </div>
        <fieldset>
          <legend>Events</legend>
          {WEBHOOK_EVENT_TYPES.map((t) => (
            <label key={t} className="checkbox">
              <input type="checkbox" name="events" value={t} defaultChecked={t.startsWith('flag.')} /> {t}
            </label>
          ))}
          {err?.at('events').map((m) => (
            <p key={m} className="field-error" role="alert">
              {m}
            </p>
          ))}
        </fieldset>
        <button type="submit" className="btn btn-primary" disabled={create.isPending}>
          Create webhook
        </button>
      </form>
      {err && err.details.length === 0 && <ErrorBanner error={err} />}
      <Dialog open={secret !== null} title="Webhook created" onClose={() => setSecret(null)}>
        <p className="banner banner-warn">Copy the signing secret now: it will not be shown again.</p>
        <p>
          <code className="secret" data-testid="webhook-secret">
            {secret}
          </code>
        </p>
        <div className="actions">
          {secret && <CopyButton text={secret} label="Copy secret" />}
          <button type="button" className="btn btn-secondary" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      </Dialog>
    </>
  );
}
