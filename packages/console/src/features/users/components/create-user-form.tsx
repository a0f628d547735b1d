import { type FormEvent } from 'react';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { Field } from '../../../components/ui/field';
import { ApiError } from '../../../lib/api/api-error';
import { ROLES, type Role } from '../../../lib/api/resources';
import { useCreateUser } from '../api/users';

const PLACED = ['email', 'name', 'role', 'password'];

/** Creates a user who signs in with email and password; the password is never shown again. */
export function CreateUserForm({ allowed }: { allowed: boolean }) {
  const create = useCreateUser();
  const err = create.error instanceof ApiError ? create.error : null;
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const name = String(f.get('name') ?? '').trim();
    create.mutate(
      {
        email: String(f.get('email') ?? '').trim(),
        ...(name === '' ? {} : { name }),
        role: String(f.get('role')) as Role,
        password: String(f.get('password') ?? ''),
      },
      { onSuccess: () => form.reset() },
    );
  };
  return (
    <form onSubmit={submit} aria-label="New user" className="panel">
      <h2>New user</h2>
      <fieldset disabled={!allowed} className="plain toolbar">
        <Field label="Email" errors={err?.at('email')}>
          {(p) => <input {...p} name="email" type="email" required autoComplete="off" />}
        </Field>
        <Field label="Name" errors={err?.at('name')}>
          {(p) => <input {...p} name="name" autoComplete="off" />}
        </Field>
        <Field label="Role" errors={err?.at('role')}>
          {(p) => (
            <select {...p} name="role" defaultValue="VIEWER">
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Initial password" errors={err?.at('password')} hint="At least 8 characters; share it privately.">
          {(p) => <input {...p} name="password" type="password" required minLength={8} autoComplete="new-password" />}
        </Field>
        <div className="field">
          <button type="submit" className="btn btn-primary" disabled={!allowed || create.isPending}>
            Create user
          </button>
        </div>
      </fieldset>
      {err && err.details.every((d) => !PLACED.includes(d.path ?? '')) && <ErrorBanner error={err} />}
      {create.error && !(create.error instanceof ApiError) && <ErrorBanner error={create.error} />}
    </form>
  );
}
