import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { Dialog } from '../../../components/ui/dialog';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import { useCreateFlag } from '../api/flags';

const TYPES = ['boolean', 'string', 'number', 'json'] as const;

/** The "New flag" form: key, name, type. A boolean flag gets `on`/`off` variants from the server. */
export function CreateFlagDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const create = useCreateFlag();
  const navigate = useNavigate();
  const [type, setType] = useState<(typeof TYPES)[number]>('boolean');
  const err = create.error instanceof ApiError ? create.error : null;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const key = String(form.get('key')).trim();
    const name = String(form.get('name')).trim();
    const variants =
      type === 'boolean'
        ? undefined
        : type === 'number'
          ? [
              { key: 'a', value: 0 },
              { key: 'b', value: 1 },
            ]
          : type === 'string'
            ? [
                { key: 'a', value: 'a' },
                { key: 'b', value: 'b' },
              ]
            : [
                { key: 'a', value: {} },
                { key: 'b', value: {} },
              ];
    create.mutate(
      { key, type, ...(name ? { name } : {}), ...(variants ? { variants, off_variant: 'a', default_serve: { variant: 'a' } } : {}) },
      {
        onSuccess: (flag) => {
          onClose();
          void navigate(`/flags/${encodeURIComponent(flag.attributes.key)}`);
        },
      },
    );
  };

  return (
    <Dialog open={open} title="New flag" onClose={onClose}>
      <form onSubmit={submit}>
        <Field label="Key" errors={err?.at('key')} hint="Letters, digits, '.', '_' or '-'; used in code">
          {(p) => <input {...p} name="key" required autoFocus />}
        </Field>
        <Field label="Name" errors={err?.at('name')}>
          {(p) => <input {...p} name="name" />}
        </Field>
        <Field label="Type" errors={err?.at('type')}>
          {(p) => (
            <select {...p} value={type} onChange={(e) => setType(e.target.value as (typeof TYPES)[number])}>
              {TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          )}
        </Field>
        {err && err.details.length === 0 && <ErrorBanner error={err} />}
        {create.error && !(create.error instanceof ApiError) && <ErrorBanner error={create.error} />}
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            Create flag
          </button>
        </div>
      </form>
    </Dialog>
  );
}
