import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ApiError } from '../../../lib/api/api-error';
import { api, unwrap } from '../../../lib/api/client';
import { useSession } from '../../../lib/session';

interface Providers {
  password: boolean;
  oidc: { issuer: string | null } | null;
}

/**
 * Sign-in with the identity provider, shown only when the server trusts an OIDC issuer: the
 * person pastes an access or ID token the issuer gave them (its CLI or portal), which the server
 * verifies against the issuer's keys and turns into the same HttpOnly session cookie. The token
 * is held only while the request is made.
 */
export function OidcSignIn({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const { signInWithToken } = useSession();
  const providers = useQuery({
    queryKey: ['auth-providers'],
    queryFn: async () => (await unwrap<Providers>(api.GET('/api/v1/auth/providers'))).data,
    staleTime: Infinity,
    refetchInterval: false,
    retry: false,
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const oidc = providers.data?.oidc ?? null;
  if (oidc === null) return null;

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const token = String(new FormData(form).get('token') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      await signInWithToken(token);
      form.reset();
      await onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The server could not be reached');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="oidc-title">
      <h2 id="oidc-title">Sign in with your identity provider</h2>
      <p className="muted">
        Paste an access or ID token issued by {oidc.issuer ?? 'the configured issuer'} for this server. Your role comes from the token.
      </p>
      <div className="field">
        <label htmlFor="oidc-token">Identity-provider token</label>
        <textarea id="oidc-token" name="token" rows={3} required autoComplete="off" spellCheck={false} />
      </div>
      {error !== null && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <button className="btn btn-secondary" type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in with token'}
      </button>
    </form>
  );
}
