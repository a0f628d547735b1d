import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../../../lib/api/api-error';
import { useSession } from '../../../lib/session';
import { OidcSignIn } from '../components/oidc-sign-in';

/** Email + password sign-in (and the identity provider's, when configured); on success the server sets the HttpOnly session cookie. */
export function SignInPage() {
  const { session, signIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const next = params.get('next');
  const target = next !== null && next.startsWith('/') && !next.startsWith('//') ? next : '/flags';
  if (session !== null) return <Navigate to={target} replace />;

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get('email')), String(form.get('password')));
      await navigate(target, { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The server could not be reached');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Switchyard</h1>
        <div className="field">
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="username" required />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
        </div>
        {error !== null && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button className="btn btn-primary" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <OidcSignIn onSignedIn={() => Promise.resolve(navigate(target, { replace: true }))} />
    </main>
  );
}
