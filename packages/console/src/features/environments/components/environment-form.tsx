import { type FormEvent } from 'react';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import { useCreateEnvironment } from '../api/environments';

/** Creates an environment: key, name, colour and whether it is protected. */
export function EnvironmentForm({ allowed }: { allowed: boolean }) {
  const create = useCreateEnvironment();
  const err = create.error instanceof ApiError ? create.error : null;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const name = String(f.get('name') ?? '').trim();
    create.mutate(
      {
        key: String(f.get('key') ?? '').trim(),
        ...(name === '' ? {} : { name }),
        color: String(f.get('color')),
        protected: f.get('protected') === 'on',
      },
      { onSuccess: () => form.reset() },
    );
  };
  return (
    <form onSubmit={submit} aria-label="New environment" className="panel">
      <h2>New environment</h2>
      <fieldset disabled={!allowed} className="plain toolbar">
        <Field label="Environment key" errors={err?.at('key')}>
          {(p) => <input {...p} name="key" required placeholder="staging" />}
        </Field>
        <Field label="Environment name" errors={err?.at('name')}>
          {(p) => <input {...p} name="name" placeholder="Staging" />}
        </Field>
        <Field label="Colour" errors={err?.at('color')}>
          {(p) => <input {...p} name="color" type="color" defaultValue="#2563eb" />}
        </Field>
        <label className="checkbox">
          <input type="checkbox" name="protected" /> Protected (only admins change flags and run experiments here)
        </label>
        <div className="field">
          <button type="submit" className="btn btn-primary" disabled={!allowed || create.isPending}>
            Create environment
          </button>
        </div>
      </fieldset>
      {err && err.details.every((d) => !['key', 'name', 'color'].includes(d.path ?? '')) && <ErrorBanner error={err} />}
      {create.error && !(create.error instanceof ApiError) && <ErrorBanner error={create.error} />}
    </form>
  );
}
