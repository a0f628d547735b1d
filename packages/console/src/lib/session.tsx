import { createContext, use, useCallback, useMemo, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, setCsrfToken, unwrap } from './api/client';
import { ApiError } from './api/api-error';
import type { Resource, UserAttributes } from './api/resources';

/** The signed-in user, or `null` before sign-in. */
export interface Session {
  user: Resource<UserAttributes>;
  csrfToken: string;
}

interface SessionValue {
  session: Session | null;
  loading: boolean;
  signIn(email: string, password: string): Promise<void>;
  /** Signs in with a token from the configured OIDC issuer (sent once, as `Authorization`). */
  signInWithToken(token: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

/** Query key of the session; sign-in and sign-out replace it. */
export const SESSION_KEY = ['session'] as const;

async function fetchSession(): Promise<Session | null> {
  try {
    const { data } = await unwrap<{ user: Resource<UserAttributes>; csrf_token: string }>(api.GET('/api/v1/auth/session'));
    setCsrfToken(data.csrf_token);
    return { user: data.user, csrfToken: data.csrf_token };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/**
 * Holds the session: asks the server on load (the cookie is HttpOnly, so only the server knows
 * whether there is one), signs in and out. Nothing about the session is stored in the browser
 * besides the cookie.
 */
export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const query = useQuery({ queryKey: SESSION_KEY, queryFn: fetchSession, staleTime: 60_000, retry: false });

  const signIn = useCallback(
    async (email: string, password: string) => {
      const { data } = await unwrap<{ user: Resource<UserAttributes>; csrf_token: string }>(
        api.POST('/api/v1/auth/session', { body: { email, password } }),
      );
      setCsrfToken(data.csrf_token);
      client.setQueryData(SESSION_KEY, { user: data.user, csrfToken: data.csrf_token });
    },
    [client],
  );

  const signInWithToken = useCallback(
    async (token: string) => {
      const { data } = await unwrap<{ user: Resource<UserAttributes>; csrf_token: string }>(
        api.POST('/api/v1/auth/session/token', { headers: { Authorization: `Bearer ${token}` } }),
      );
      setCsrfToken(data.csrf_token);
      client.setQueryData(SESSION_KEY, { user: data.user, csrfToken: data.csrf_token });
    },
    [client],
  );

  const signOut = useCallback(async () => {
    await unwrap(api.DELETE('/api/v1/auth/session'));
    setCsrfToken(null);
    client.clear();
    client.setQueryData(SESSION_KEY, null);
  }, [client]);

  const value = useMemo(
    () => ({ session: query.data ?? null, loading: query.isPending, signIn, signInWithToken, signOut }),
    [query.data, query.isPending, signIn, signInWithToken, signOut],
  );
  return <SessionContext value={value}>{children}</SessionContext>;
}

/** The session context; throws outside {@link SessionProvider}. */
export function useSession(): SessionValue {
  const v = use(SessionContext);
  if (v === null) throw new Error('useSession outside SessionProvider');
  return v;
}

/** The signed-in user; only for screens behind the sign-in gate. */
export function useMe(): { id: string; role: UserAttributes['role']; email: string } {
  const { session } = useSession();
  if (session === null) throw new Error('useMe without a session');
  return { id: session.user.id, role: session.user.attributes.role, email: session.user.attributes.email };
}
